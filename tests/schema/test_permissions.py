"""The authorization matrix: every field has a rule, and each role gets exactly what it may."""

from __future__ import annotations

from collections import defaultdict

import pytest
from graphql import GraphQLObjectType
from neo4j import Driver

from api.auth import Principal, Role
from graph.db import Db
from schema.build import schema
from schema.permissions import RULES
from seeds.demo import build_demo_bank
from tests.gql import execute

PRINCIPALS = {
    Role.VIEWER: Principal("front-end", Role.VIEWER),
    Role.MANAGER: Principal("m", Role.MANAGER, "mgr-001"),
    Role.RISK_OFFICER: Principal("risk", Role.RISK_OFFICER),
    Role.ADMIN: Principal("admin", Role.ADMIN),
}

# One request per root field; a new root field fails `test_every_root_field_is_in_the_matrix`.
ROOT_REQUESTS = {
    "Query.client": '{ client(id: "cli-0001") { id } }',
    "Query.clients": "{ clients(first: 1) { totalCount } }",
    "Query.manager": '{ manager(id: "mgr-001") { id } }',
    "Query.managers": "{ managers(first: 1) { totalCount } }",
    "Query.department": '{ department(id: "dept-hq") { id } }',
    "Query.departments": "{ departments(first: 1) { totalCount } }",
    "Query.product": '{ product(id: "prd-fx") { id } }',
    "Query.products": "{ products(first: 1) { totalCount } }",
    "Query.relationshipGraph": '{ relationshipGraph(clientId: "cli-0001", depth: 1, limit: 5)'
    " { truncated } }",
    "Query.creditExposure": '{ creditExposure(clientId: "cli-0001", maxDepth: 1) { total } }',
    "Query.guaranteeCircles": "{ guaranteeCircles(maxSize: 2) { complete } }",
    "Query.largestExposures": "{ largestExposures(first: 1) { total } }",
    "Query.riskSettings": "{ riskSettings { profile } }",
    "Query.crossSellPaths": '{ crossSellPaths(clientId: "cli-0001") { score } }',
    "Query.crossSellOpportunities": '{ crossSellOpportunities(managerId: "mgr-001") { score } }',
    "Query.introductionPaths": '{ introductionPaths(managerId: "mgr-001", prospectId: '
    '"cli-0317") { reason } }',
    "Query.productsPerClient": "{ productsPerClient { productsPerClient } }",
    "Mutation.refreshCrossSell": "mutation { refreshCrossSell(minSupport: 2) { __typename } }",
    "Query.auditLog": '{ auditLog(nodeId: "dept-hq") { endCursor } }',
    "Query.orgChart": '{ orgChart(rootId: "dept-hq") { asOf } }',
    # Dry runs or refused changes on purpose: nothing is written whoever asks.
    "Mutation.createDepartment": 'mutation { createDepartment(dryRun: true, input: {id: "x-new", '
    'name: "新部门", function: CLIENT, model: REGION}) { __typename } }',
    "Mutation.renameDepartment": "mutation { renameDepartment(dryRun: true, input: "
    '{departmentId: "dept-it", name: "科技部"}) { __typename } }',
    "Mutation.archiveDepartment": "mutation { archiveDepartment(dryRun: true, input: "
    '{departmentId: "dept-hq"}) { __typename } }',
    "Mutation.linkDepartments": "mutation { linkDepartments(dryRun: true, input: {fromId: "
    '"dept-it", toId: "dept-operations", kind: LINEAR}) { __typename } }',
    "Mutation.unlinkDepartments": "mutation { unlinkDepartments(dryRun: true, input: {fromId: "
    '"dept-it", toId: "dept-hq", kind: DIRECT}) { __typename } }',
    "Mutation.moveDepartment": "mutation { moveDepartment(dryRun: true, input: {departmentId: "
    '"dept-ka-market-group", newParentId: "dept-retail"}) { __typename } }',
    "Mutation.mergeDepartments": "mutation { mergeDepartments(dryRun: true, input: {sourceId: "
    '"dept-ka-east", targetId: "dept-ka-south"}) { __typename } }',
    "Mutation.assignManager": "mutation { assignManager(dryRun: true, input: {managerId: "
    '"mgr-001", departmentId: "dept-retail"}) { __typename } }',
    "Mutation.transferClient": "mutation { transferClient(dryRun: true, input: {clientId: "
    '"cli-0001", toManagerId: "mgr-002", reason: "测试"}) { __typename } }',
    # Invalid input on purpose: allowed roles get a typed ValidationError and nothing is written.
    "Mutation.setRiskSettings": "mutation { setRiskSettings(input: {profile: BASEL, "
    'tier1Capital: "-1", netCapital: "1"}) { __typename } }',
    # Data in (issue 10): invalid on purpose, so a typed ValidationError and nothing written.
    "Mutation.createClient": 'mutation { createClient(input: {id: "x-new", name: " ", '
    'kind: CORPORATE, segment: NEW, riskRating: 1, primaryManagerId: "mgr-001"}) '
    "{ __typename } }",
    "Mutation.updateClient": 'mutation { updateClient(input: {clientId: "cli-0001"}) '
    "{ __typename } }",
    "Mutation.archiveClient": 'mutation { archiveClient(input: {clientId: "no such"}) '
    "{ __typename } }",
    "Mutation.createManager": 'mutation { createManager(input: {id: "x-new", name: "新经理", '
    'level: MANAGER, education: MASTER, title: NONE, creditYears: -1, departmentId: "dept-hq"}) '
    "{ __typename } }",
    "Mutation.updateManager": 'mutation { updateManager(input: {managerId: "mgr-001"}) '
    "{ __typename } }",
    "Mutation.createProduct": 'mutation { createProduct(input: {id: "x-new", name: "新产品", '
    'category: FX, audience: ALL, riskLevel: 0, departmentId: "dept-hq"}) { __typename } }',
    "Mutation.updateProduct": 'mutation { updateProduct(input: {productId: "prd-fx"}) '
    "{ __typename } }",
    "Mutation.relateClients": 'mutation { relateClients(input: {fromId: "cli-0001", '
    'toId: "cli-0002", kind: GUARANTEE}) { __typename } }',
    "Mutation.unrelateClients": 'mutation { unrelateClients(input: {fromId: "cli-0001", '
    'toId: "cli-0002", kind: GUARANTEE}) { __typename } }',
    "Mutation.recordHolding": 'mutation { recordHolding(input: {clientId: "cli-0001", '
    'productId: "prd-fx", balance: "-1"}) { __typename } }',
    "Mutation.closeHolding": 'mutation { closeHolding(input: {clientId: "no such", '
    'productId: "prd-fx"}) { __typename } }',
    "Mutation.createFacility": 'mutation { createFacility(input: {id: "x-new", '
    'borrowerId: "cli-0001", type: LOAN, limit: "0", currency: "CNY", '
    'grantingDepartmentId: "dept-hq"}) { __typename } }',
    "Mutation.approveFacility": 'mutation { approveFacility(input: {facilityId: "no such", '
    'approvingDepartmentId: "dept-hq"}) { __typename } }',
    "Mutation.addGuarantee": 'mutation { addGuarantee(input: {guarantorId: "cli-0001", '
    'facilityId: "fac-0001", amount: "0"}) { __typename } }',
    "Mutation.drawFacility": 'mutation { drawFacility(input: {facilityId: "fac-0001", '
    'amount: "0"}) { __typename } }',
    "Mutation.repayFacility": 'mutation { repayFacility(input: {facilityId: "fac-0001", '
    'amount: "0"}) { __typename } }',
    "Query.facility": '{ facility(id: "fac-0001") { id } }',
    "Query.facilities": "{ facilities { totalCount } }",
    "Mutation.withdrawApproval": 'mutation { withdrawApproval(input: {facilityId: "no such"}) '
    "{ __typename } }",
    "Mutation.changeGuaranteeAmount": "mutation { changeGuaranteeAmount(input: {guarantorId: "
    '"cli-0001", facilityId: "no such", amount: "1"}) { __typename } }',
    "Mutation.releaseGuarantee": 'mutation { releaseGuarantee(input: {guarantorId: "cli-0001", '
    'facilityId: "no such"}) { __typename } }',
    "Mutation.changeFacilityLimit": "mutation { changeFacilityLimit(input: {facilityId: "
    '"fac-0001", limit: "0"}) { __typename } }',
    "Mutation.closeFacility": 'mutation { closeFacility(input: {facilityId: "no such"}) '
    "{ __typename } }",
    "Mutation.setUnifiedLimit": 'mutation { setUnifiedLimit(input: {clientId: "no such", '
    'limit: "1", currency: "CNY"}) { __typename } }',
    "Mutation.setHoldingConsent": 'mutation { setHoldingConsent(input: {clientId: "no such", '
    'productId: "prd-fx", consented: false}) { __typename } }',
    "Query.promotionEligibility": '{ promotionEligibility(managerId: "mgr-001") { eligible } }',
    "Query.gradeHistory": '{ gradeHistory(managerId: "mgr-001") { kind } }',
    "Query.keyAccountSettings": "{ keyAccountSettings { thresholds { aShare } } }",
    "Query.overdueVisits": '{ overdueVisits(managerId: "mgr-001") { clientId } }',
    "Query.performance": '{ performance(managerId: "mgr-001", '
    'period: {from: "2026-01-01", to: "2026-12-31"}) { total { clients } } }',
    "Mutation.promoteManager": 'mutation { promoteManager(input: {managerId: "mgr-001", '
    'toLevel: "NOPE"}) { __typename } }',
    "Mutation.demoteManager": 'mutation { demoteManager(input: {managerId: "mgr-001", '
    'toLevel: "NOPE", reason: "test"}) { __typename } }',
    "Mutation.setKeyAccountThresholds": "mutation { setKeyAccountThresholds(input: "
    '{aPurchases: "1", aShare: 2, bPurchases: "1", bShare: 0, cPurchases: "0"}) '
    "{ __typename } }",
    "Mutation.gradeClients": "mutation { gradeClients(dryRun: true) { __typename } }",
    "Mutation.setClientPotential": 'mutation { setClientPotential(input: {clientId: "no-such", '
    'potential: "HIGH"}) { __typename } }',
    "Mutation.movePipeline": 'mutation { movePipeline(input: {clientId: "no-such", '
    "toStage: TARGET}) { __typename } }",
    "Mutation.recordInteraction": 'mutation { recordInteraction(input: {clientId: "no-such", '
    'managerId: "mgr-001", kind: VISIT}) { __typename } }',
    "Mutation.openComplaint": 'mutation { openComplaint(input: {clientId: "no-such", '
    'managerId: "mgr-001", notes: "x"}) { __typename } }',
    "Mutation.handleComplaint": 'mutation { handleComplaint(input: {complaintId: "no-such"}) '
    "{ __typename } }",
    "Mutation.closeComplaint": 'mutation { closeComplaint(input: {complaintId: "no-such", '
    "satisfaction: 3}) { __typename } }",
}


def _object_fields() -> set[str]:
    keys: set[str] = set()
    for name, gtype in schema._schema.type_map.items():
        if isinstance(gtype, GraphQLObjectType) and not name.startswith("__"):
            keys.update(f"{name}.{field}" for field in gtype.fields)
    return keys


def test_every_field_has_exactly_one_rule() -> None:
    fields = _object_fields()
    assert sorted(fields - RULES.keys()) == [], "fields without a permission rule"
    assert sorted(RULES.keys() - fields) == [], "rules for fields that no longer exist"


def test_every_root_field_is_in_the_matrix() -> None:
    roots = {f for f in _object_fields() if f.split(".")[0] in {"Query", "Mutation"}}
    assert roots == ROOT_REQUESTS.keys()


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("field", sorted(ROOT_REQUESTS))
async def test_root_fields_by_role(demo_bank: Driver, db: Db, role: Role, field: str) -> None:
    data, errors, _ = await execute(db, ROOT_REQUESTS[field], principal=PRINCIPALS[role])
    codes = [e.extensions.get("code") for e in errors]
    if role in RULES[field]:
        assert errors == [], errors
        assert (data is not None and data[field.split(".")[1]] is not None) or field.endswith(
            ("client", "relationshipGraph", "crossSellPaths")  # null outside a manager's book
        )
    else:
        assert codes == ["FORBIDDEN"]
        assert errors[0].extensions["field"] == field


async def test_no_principal_means_nothing(demo_bank: Driver, db: Db) -> None:
    _, errors, _ = await execute(db, "{ clients(first: 1) { totalCount } }", principal=None)
    assert [e.extensions.get("code") for e in errors] == ["FORBIDDEN"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ('{ client(id: "cli-hdsteel") { facilities { id } } }', "Client.facilities"),
        ('{ client(id: "cli-hdsteel") { group { totalFacilities } } }',
         "ClientGroup.totalFacilities"),
        ('{ client(id: "cli-0102") { relatedClients(kinds: [GUARANTEE]) { amount } } }',
         "RelatedClient.amount"),
    ],
)  # fmt: skip
async def test_viewers_see_no_exposure_figures(
    demo_bank: Driver, db: Db, query: str, field: str
) -> None:
    _, errors, _ = await execute(db, query, principal=PRINCIPALS[Role.VIEWER])
    assert errors and {e.extensions["field"] for e in errors} == {field}
    data, errors, _ = await execute(db, query, principal=PRINCIPALS[Role.RISK_OFFICER])
    assert errors == [] and data is not None


async def test_viewer_graph_has_no_amounts(demo_bank: Driver, db: Db) -> None:
    query = """{ relationshipGraph(clientId: "cli-hdsteel", depth: 1, kinds: [BORROWS]) {
      nodes { kind properties } } }"""
    data, errors, _ = await execute(db, query, principal=PRINCIPALS[Role.VIEWER])
    assert errors == [] and data is not None
    facilities = [n for n in data["relationshipGraph"]["nodes"] if n["kind"] == "Facility"]
    assert facilities and all("limit" not in n["properties"] for n in facilities)
    data, _, _ = await execute(db, query, principal=PRINCIPALS[Role.RISK_OFFICER])
    assert data is not None
    facilities = [n for n in data["relationshipGraph"]["nodes"] if n["kind"] == "Facility"]
    assert facilities and all("limit" in n["properties"] for n in facilities)


def _book(manager_id: str) -> set[str]:
    """What the rules say a manager may see, worked out from the demo rows."""
    bank = build_demo_bank()
    parent = {link["fromId"]: link["toId"] for link in bank.direct_links}
    dept = {m["id"]: m["departmentId"] for m in bank.managers}

    def under(d: str, top: str) -> bool:
        while d != top and d in parent:
            d = parent[d]
        return d == top

    own = {m["clientId"] for m in bank.manages if m["managerId"] == manager_id}
    primaries: dict[str, str] = {}
    for m in bank.manages:
        if m["role"] == "PRIMARY":
            primaries[m["clientId"]] = m["managerId"]
    team = {c for c, m in primaries.items() if under(dept[m], dept[manager_id])}
    return own | team


def _a_manager_and_an_outsider() -> tuple[str, str, str]:
    bank = build_demo_bank()
    by_manager: dict[str, list[str]] = defaultdict(list)
    for m in bank.manages:
        by_manager[m["managerId"]].append(m["clientId"])
    leaf_team = next(m["id"] for m in bank.managers if m["departmentId"] == "dept-ka-south")
    book = _book(leaf_team)
    outsider = next(c["id"] for c in bank.clients if c["id"] not in book)
    return leaf_team, sorted(book)[0], outsider


async def test_manager_sees_only_its_book(demo_bank: Driver, db: Db) -> None:
    manager_id, mine, other = _a_manager_and_an_outsider()
    me = Principal("m", Role.MANAGER, manager_id)
    query = "query ($id: ID!) { client(id: $id) { id name visible } }"
    data, errors, _ = await execute(db, query, {"id": mine}, principal=me)
    assert errors == [] and data is not None and data["client"]["visible"] is True
    data, errors, _ = await execute(db, query, {"id": other}, principal=me)
    assert errors == [] and data == {"client": None}

    listed, errors, _ = await execute(
        db, "{ clients(first: 100) { totalCount edges { node { id } } } }", principal=me
    )
    assert errors == [] and listed is not None
    ids = {e["node"]["id"] for e in listed["clients"]["edges"]}
    assert listed["clients"]["totalCount"] == len(_book(manager_id))
    assert ids <= _book(manager_id)
    found, _, _ = await execute(
        db, '{ clients(filter: {nameContains: "有限公司"}, first: 100) { edges { node { id } } } }',
        principal=me,
    )  # fmt: skip
    assert found is not None
    assert {e["node"]["id"] for e in found["clients"]["edges"]} <= _book(manager_id)


async def test_manager_sees_others_as_opaque_nodes(demo_bank: Driver, db: Db) -> None:
    """华东钢铁's managers are senior; a junior in the south team sees its links as opaque."""
    manager_id, _, _ = _a_manager_and_an_outsider()
    book = _book(manager_id)
    me = Principal("m", Role.MANAGER, manager_id)
    # Any client in the book with links to clients outside it.
    bank = build_demo_bank()
    pairs = [(r["fromId"], r["toId"]) for r in bank.related] + [
        (c["fromId"], c["toId"]) for c in bank.controls
    ]
    inside, outside = next(
        (a, b) for a, b in pairs + [(b, a) for a, b in pairs] if a in book and b not in book
    )
    data, errors, _ = await execute(
        db,
        "query ($id: ID!) { client(id: $id) { relatedClients { client { id kind name visible "
        "holdings { balance } primaryManager { id } } } } }",
        {"id": inside},
        principal=me,
    )
    assert errors == [] and data is not None
    [opaque] = [
        r["client"] for r in data["client"]["relatedClients"] if r["client"]["id"] == outside
    ]
    assert opaque["visible"] is False
    assert opaque["name"] is None and opaque["holdings"] == [] and opaque["primaryManager"] is None
    graph, errors, _ = await execute(
        db,
        "query ($id: ID!) { relationshipGraph(clientId: $id, depth: 1, "
        "kinds: [CONTROLS, RELATED_TO]) { nodes { id label properties } } }",
        {"id": inside},
        principal=me,
    )
    assert errors == [] and graph is not None
    [node] = [n for n in graph["relationshipGraph"]["nodes"] if n["id"] == f"Client:{outside}"]
    assert node["label"] == outside and set(node["properties"]) == {"id", "kind"}
    hidden, _, _ = await execute(
        db, 'query ($id: ID!) { relationshipGraph(clientId: $id) { truncated } }', {"id": outside},
        principal=me,
    )  # fmt: skip
    assert hidden == {"relationshipGraph": None}
