"""Data-in mutations on the small hand-built bank: each one's success, each typed error, and that
a refused mutation leaves the graph exactly as it was."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from neo4j import Driver

from api.auth import Principal, Role
from graph import bank_calendar
from graph.bank_rows import BankRows
from graph.db import Db
from seeds.loader import load
from tests.conftest import DATABASE, graph_snapshot
from tests.gql import ADMIN, execute
from tests.small_bank import build_small_bank

ERRORS = """
  ... on NotFoundError { missing: kind id message }
  ... on ValidationError { field message }
  ... on InvariantViolationError { invariant nodeIds message }
  ... on VersionConflictError { expectedVersion actualVersion }
  ... on DuplicateError { id message }"""

CLIENT = "... on ClientSuccess { client { id name kind segment status grade riskRating version } }"
MANAGER = (
    "... on ManagerSuccess { manager { id name level active version department { id } "
    "reportsTo { id } } }"
)
PRODUCT = (
    "... on ProductSuccess { product { id name category audience riskLevel offeredBy { id } } }"
)
LINK = "... on ClientLinkSuccess { kind share basis role reciprocalRole from { id } to { id } }"
HOLDING = "... on HoldingSuccess { client { id } holding { product { id } balance since active } }"
FACILITY = (
    "... on FacilitySuccess { facility { id type limit drawn currency status grantedAt "
    "borrower { id } grantingDepartment { id } approvingDepartment { id } } }"
)
GUARANTEE = "... on GuaranteeSuccess { guarantor { id } facility { id } amount }"

OUTSIDER = Principal("m-x", Role.MANAGER, "m-x")  # a product-department manager with one client
MANAGER_1 = Principal("m-1", Role.MANAGER, "m-1")


@pytest.fixture
def bank(empty_graph: Driver) -> Iterator[Driver]:
    load(empty_graph, DATABASE, data_in_bank(), quiet=True)
    yield empty_graph


def data_in_bank() -> BankRows:
    """The small bank, plus a manager in the product department with a client of their own:
    outside each other's books."""
    rows = build_small_bank()
    rows.managers.append(
        {"id": "m-x", "name": "赵六", "level": "MANAGER", "education": "BACHELOR",
         "title": "NONE", "creditYears": 1, "departmentId": "d-prod", "reportsToId": None,
         "since": "2022-01-01"}
    )  # fmt: skip
    rows.clients.append(
        {"id": "c-x", "name": "丙公司", "kind": "CORPORATE", "segment": "NEW", "status": "ACTIVE",
         "grade": None, "riskRating": 2, "industry": None, "region": None}
    )  # fmt: skip
    rows.manages.append(
        {"managerId": "m-x", "clientId": "c-x", "role": "PRIMARY", "since": "2022-02-01"}
    )
    return rows


async def mutate(
    db: Db, name: str, input_: dict[str, Any], success: str = "",
    principal: Principal = ADMIN,
) -> dict[str, Any]:  # fmt: skip
    input_type = name[0].upper() + name[1:] + "Input"
    query = (
        f"mutation ($input: {input_type}!) {{ {name}(input: $input) "
        f"{{ __typename {success} {ERRORS} }} }}"
    )
    data, errors, _ = await execute(db, query, {"input": input_}, principal=principal)
    assert errors == [], errors
    assert data is not None
    result: dict[str, Any] = data[name]
    return result


async def refused(
    driver: Driver, db: Db, name: str, input_: dict[str, Any], typename: str,
    principal: Principal = ADMIN,
) -> dict[str, Any]:  # fmt: skip
    """The mutation answers with this error type and the graph is unchanged."""
    before = graph_snapshot(driver)
    result = await mutate(db, name, input_, principal=principal)
    assert result["__typename"] == typename, result
    assert graph_snapshot(driver) == before
    return result


async def query(db: Db, text: str, principal: Principal = ADMIN) -> dict[str, Any]:
    data, errors, _ = await execute(db, text, principal=principal)
    assert errors == [], errors
    assert data is not None
    return data


def new_client(**overrides: Any) -> dict[str, Any]:
    return {
        "id": "c-new", "name": " 丁公司 ", "kind": "CORPORATE", "segment": "NEW",
        "riskRating": 2, "primaryManagerId": "m-1", "region": "华东", **overrides,
    }  # fmt: skip


# Clients ----------------------------------------------------------------------------------


async def test_create_client_with_its_primary_manager(bank: Driver, db: Db) -> None:
    result = await mutate(db, "createClient", new_client(), CLIENT)
    assert result == {
        "__typename": "ClientSuccess",
        "client": {"id": "c-new", "name": "丁公司", "kind": "CORPORATE", "segment": "NEW",
                   "status": "PROSPECT", "grade": None, "riskRating": 2, "version": 0},
    }  # fmt: skip
    data = await query(
        db, '{ client(id: "c-new") { region primaryManager { id } departmentPath { id } } }'
    )
    assert data["client"] == {
        "region": "华东",
        "primaryManager": {"id": "m-1"},
        "departmentPath": [{"id": "d-ka-rm"}, {"id": "d-ka"}, {"id": "d-root"}],
    }
    # Written in the loader's shape: the same properties, and the link with its date.
    rows, _, _ = bank.execute_query(
        "MATCH (m)-[r:MANAGES]->(c:Client {id: 'c-new'}) "
        "RETURN m.id AS m, r.role AS role, r.since IS NOT NULL AS dated, keys(c) AS keys",
        database_=DATABASE,
    )
    assert [(r["m"], r["role"], r["dated"]) for r in rows] == [("m-1", "PRIMARY", True)]
    assert set(rows[0]["keys"]) == {
        "id",
        "name",
        "kind",
        "segment",
        "status",
        "riskRating",
        "region",
        "version",
    }
    audit = await query(db, '{ auditLog(nodeId: "c-new") { records { actor action } } }')
    assert audit["auditLog"]["records"] == [{"actor": "test-admin", "action": "createClient"}]


async def test_create_client_refusals_write_nothing(bank: Driver, db: Db) -> None:
    found = await refused(
        bank, db, "createClient", new_client(primaryManagerId="m-404"), "NotFoundError"
    )
    assert (found["missing"], found["id"]) == ("Manager", "m-404")
    dup = await refused(bank, db, "createClient", new_client(id="c-1"), "DuplicateError")
    assert dup["id"] == "c-1"
    cases: list[tuple[str, dict[str, Any]]] = [
        ("name", {"name": "  "}),
        ("id", {"id": "bad id!"}),
        ("riskRating", {"riskRating": 9}),
        ("status", {"status": "ARCHIVED"}),
        ("primaryManagerId", {"primaryManagerId": "'; DROP"}),
        ("region", {"region": "x" * 101}),
    ]
    for field, overrides in cases:
        bad = await refused(bank, db, "createClient", new_client(**overrides), "ValidationError")
        assert bad["field"] == field


async def test_create_client_needs_an_active_manager(bank: Driver, db: Db) -> None:
    bank.execute_query("MATCH (m:Manager {id: 'm-x'}) SET m.active = false", database_=DATABASE)
    bad = await refused(
        bank, db, "createClient", new_client(primaryManagerId="m-x"), "InvariantViolationError"
    )
    assert bad["invariant"] == "MANAGER_ACTIVE"


async def test_a_manager_creates_clients_as_their_own_primary(bank: Driver, db: Db) -> None:
    mine = await mutate(
        db, "createClient", new_client(riskRating=None), CLIENT, principal=MANAGER_1
    )
    assert mine["__typename"] == "ClientSuccess"
    before = graph_snapshot(bank)
    _, errors, _ = await execute(
        db,
        "mutation ($input: CreateClientInput!) { createClient(input: $input) { __typename } }",
        {"input": new_client(id="c-other", primaryManagerId="m-2")},
        principal=MANAGER_1,
    )
    assert [e.extensions["code"] for e in errors] == ["FORBIDDEN"]
    assert graph_snapshot(bank) == before


async def test_a_manager_does_not_rate_the_clients_they_create(bank: Driver, db: Db) -> None:
    # Check and balance: the rating decides which products may be sold to the client.
    rated = await refused(
        bank, db, "createClient", new_client(riskRating=5), "ValidationError", principal=MANAGER_1
    )  # fmt: skip
    assert rated["field"] == "riskRating"
    assert "relationship managers" in rated["message"]
    unrated = {k: v for k, v in new_client().items() if k != "riskRating"}
    mine = await mutate(db, "createClient", unrated, CLIENT, principal=MANAGER_1)
    assert mine["client"]["riskRating"] == 1  # the most cautious, until the risk function rates
    # Stored, for the suitability rule of cross-sell to read.
    stored, _, _ = bank.execute_query(
        "MATCH (c:Client {id: 'c-new'}) RETURN c.riskRating AS rating", database_=DATABASE
    )
    assert stored[0]["rating"] == 1
    admin = await mutate(
        db, "createClient", {**unrated, "id": "c-new-2", "primaryManagerId": "m-2"}, CLIENT
    )
    assert admin["client"]["riskRating"] == 1
    set_by_admin = await mutate(db, "createClient", new_client(id="c-new-3", riskRating=4), CLIENT)
    assert set_by_admin["client"]["riskRating"] == 4


async def test_a_manager_does_not_grade_the_clients_in_their_book(bank: Driver, db: Db) -> None:
    # Grades set the visits a manager owes: they come from gradeClients, against thresholds.
    created = await refused(
        bank, db, "createClient", new_client(riskRating=None, grade="A"), "ValidationError",
        principal=MANAGER_1,
    )  # fmt: skip
    assert created["field"] == "grade" and "gradeClients" in created["message"]
    for grade in ("A", None):
        updated = await refused(
            bank, db, "updateClient", {"clientId": "c-1", "grade": grade}, "ValidationError",
            principal=MANAGER_1,
        )  # fmt: skip
        assert updated["field"] == "grade"


async def test_a_manager_does_not_change_a_clients_kind(bank: Driver, db: Db) -> None:
    # An interbank client is held to 25% of tier-1, a corporate one to 15%: reclassifying a
    # client is the risk function's, as rating it is.
    [kind] = bank.execute_query(
        "MATCH (c:Client {id: 'c-1'}) RETURN c.kind AS kind", database_=DATABASE
    ).records
    before = graph_snapshot(bank)
    changed = await refused(
        bank, db, "updateClient", {"clientId": "c-1", "kind": "INTERBANK"}, "ValidationError",
        principal=MANAGER_1,
    )  # fmt: skip
    assert changed["field"] == "kind" and "relationship managers" in changed["message"]
    assert graph_snapshot(bank) == before
    # A form that restates the kind it has changes the rest.
    same = {"clientId": "c-1", "kind": kind["kind"], "name": "甲公司（更名）"}
    renamed = await mutate(db, "updateClient", same, CLIENT, principal=MANAGER_1)
    assert renamed["client"]["name"] == "甲公司（更名）"
    admin = await mutate(db, "updateClient", {"clientId": "c-1", "kind": "INTERBANK"}, CLIENT)
    assert admin["client"]["kind"] == "INTERBANK"


async def test_update_client(bank: Driver, db: Db) -> None:
    result = await mutate(
        db, "updateClient",
        {"clientId": "c-2", "expectedVersion": 0, "name": "甲子公司（新）", "grade": "B",
         "status": "ACTIVE"},
        CLIENT,
    )  # fmt: skip
    assert result["client"] == {
        "id": "c-2", "name": "甲子公司（新）", "kind": "CORPORATE", "segment": "EXISTING",
        "status": "ACTIVE", "grade": "B", "riskRating": 3, "version": 1,
    }  # fmt: skip
    cleared = await mutate(db, "updateClient", {"clientId": "c-2", "grade": None}, CLIENT)
    assert cleared["client"]["grade"] is None and cleared["client"]["version"] == 2
    stale = await refused(
        bank, db, "updateClient", {"clientId": "c-2", "expectedVersion": 0, "name": "x"},
        "VersionConflictError",
    )  # fmt: skip
    assert (stale["expectedVersion"], stale["actualVersion"]) == (0, 2)


async def test_update_client_refusals(bank: Driver, db: Db) -> None:
    ever = await refused(
        bank, db, "updateClient", {"clientId": "c-1", "segment": "NEW"}, "InvariantViolationError"
    )
    assert ever["invariant"] == "EXISTING_STAYS_EXISTING"
    # Back to prospect, it could go through the pipeline and be won (credited) a second time.
    again = await refused(
        bank, db, "updateClient", {"clientId": "c-1", "status": "PROSPECT"},
        "InvariantViolationError", principal=MANAGER_1,
    )  # fmt: skip
    assert again["invariant"] == "ACTIVE_STAYS_ACTIVE"
    person = await refused(
        bank, db, "updateClient", {"clientId": "c-1", "kind": "INDIVIDUAL"},
        "InvariantViolationError",
    )  # fmt: skip
    assert person["invariant"] == "PRODUCT_AUDIENCE" and person["nodeIds"] == ["c-1", "p-dep"]
    cases: list[tuple[str, dict[str, Any]]] = [
        ("name", {"clientId": "c-1", "name": None}),
        ("riskRating", {"clientId": "c-1", "riskRating": 0}),
        ("status", {"clientId": "c-1", "status": "ARCHIVED"}),
        ("input", {"clientId": "c-1"}),
        ("clientId", {"clientId": "", "name": "x"}),
    ]
    for field, input_ in cases:
        bad = await refused(bank, db, "updateClient", input_, "ValidationError")
        assert bad["field"] == field
    missing = await refused(bank, db, "updateClient", {"clientId": "c-9", "name": "x"},
                            "NotFoundError")  # fmt: skip
    assert missing["id"] == "c-9"


RISK_OFFICER = Principal("risk-1", Role.RISK_OFFICER)


async def test_a_manager_adds_group_links_but_does_not_split_a_group(bank: Driver, db: Db) -> None:
    """Links joining clients into a credit group (control, economic dependence, profit transfer,
    family) are the risk side's to remove: a manager splitting a group lowers the exposure its
    limit is measured against. A manager adds them (more information, a larger group) and
    removes the others; a risk officer does both."""
    control = {"fromId": "c-1", "toId": "c-4", "kind": "CONTROL", "share": 60.0,
               "basis": "EQUITY"}  # fmt: skip
    added = await mutate(db, "relateClients", control, LINK, principal=MANAGER_1)
    assert added["__typename"] == "ClientLinkSuccess"
    link = {"fromId": "c-1", "toId": "c-4", "kind": "CONTROL"}
    split = await refused(bank, db, "unrelateClients", link, "ValidationError", principal=MANAGER_1)
    assert split["field"] == "kind" and "risk officer" in split["message"]
    supply = {"fromId": "c-4", "toId": "c-1", "kind": "SUPPLY_CHAIN", "role": "SUPPLIER",
              "reciprocalRole": "CUSTOMER"}  # fmt: skip
    await mutate(db, "relateClients", supply, LINK, principal=MANAGER_1)
    gone = await mutate(
        db, "unrelateClients", {**{k: supply[k] for k in ("fromId", "toId", "kind")}}, LINK,
        principal=MANAGER_1,
    )  # fmt: skip
    assert gone["__typename"] == "ClientLinkSuccess"
    removed = await mutate(db, "unrelateClients", link, LINK, principal=RISK_OFFICER)
    assert (removed["__typename"], removed["share"]) == ("ClientLinkSuccess", 60.0)
    again = await mutate(db, "relateClients", control, LINK, principal=RISK_OFFICER)
    assert again["__typename"] == "ClientLinkSuccess"
    # Profit transfer (assets or profits moving at unfair prices) joins a group too.
    transfer = {"fromId": "c-1", "toId": "c-4", "kind": "PROFIT_TRANSFER", "role": "TRANSFEROR",
                "reciprocalRole": "TRANSFEREE"}  # fmt: skip
    assert (await mutate(db, "relateClients", transfer, LINK, principal=MANAGER_1))[
        "__typename"
    ] == ("ClientLinkSuccess")
    link = {k: transfer[k] for k in ("fromId", "toId", "kind")}
    split = await refused(bank, db, "unrelateClients", link, "ValidationError", principal=MANAGER_1)
    assert split["field"] == "kind"


async def test_managers_change_only_clients_in_their_book(bank: Driver, db: Db) -> None:
    outside = await refused(
        bank, db, "updateClient", {"clientId": "c-1", "name": "x"}, "NotFoundError",
        principal=OUTSIDER,
    )  # fmt: skip
    assert outside["id"] == "c-1"
    await refused(
        bank, db, "recordHolding", {"clientId": "c-1", "productId": "p-cash", "balance": "1"},
        "NotFoundError", principal=OUTSIDER,
    )  # fmt: skip
    await refused(
        bank, db, "relateClients",
        {"fromId": "c-x", "toId": "c-1", "kind": "FAMILY", "role": "A", "reciprocalRole": "B"},
        "NotFoundError", principal=OUTSIDER,
    )  # fmt: skip
    mine = await mutate(
        db, "updateClient", {"clientId": "c-x", "name": "赵六商行"}, CLIENT, principal=OUTSIDER
    )
    assert mine["client"]["name"] == "赵六商行"
    # A manager does not rate the risk of their own client (check and balance); an admin does.
    rating = await refused(
        bank, db, "updateClient", {"clientId": "c-x", "riskRating": 4, "region": "华北"},
        "ValidationError", principal=OUTSIDER,
    )  # fmt: skip
    assert rating["field"] == "riskRating"
    rated = await mutate(db, "updateClient", {"clientId": "c-x", "riskRating": 4}, CLIENT)
    assert rated["client"]["riskRating"] == 4
    _, errors, _ = await execute(
        db, 'mutation { archiveClient(input: {clientId: "c-x"}) { __typename } }',
        principal=OUTSIDER,
    )  # fmt: skip
    assert [e.extensions["code"] for e in errors] == ["FORBIDDEN"]


async def test_archive_client_keeps_its_history_readable(bank: Driver, db: Db) -> None:
    result = await mutate(db, "archiveClient", {"clientId": "c-1", "expectedVersion": 0}, CLIENT)
    assert result["client"]["status"] == "ARCHIVED" and result["client"]["version"] == 1
    data = await query(
        db,
        '{ client(id: "c-1") { status primaryManager { id } holdings(includeClosed: true) '
        "{ product { id } } relatedClients { kind client { id } } group { memberCount } } }",
    )
    assert data["client"] == {
        "status": "ARCHIVED",
        "primaryManager": {"id": "m-1"},
        "holdings": [{"product": {"id": "p-dep"}}, {"product": {"id": "p-cash"}}],
        "relatedClients": [
            {"kind": "CONTROL", "client": {"id": "c-2"}},
            {"kind": "SUPPLY_CHAIN", "client": {"id": "c-3"}},
        ],
        "group": {"memberCount": 2},
    }
    again = await refused(bank, db, "archiveClient", {"clientId": "c-1"}, "InvariantViolationError")
    assert again["invariant"] == "NOT_ARCHIVED"
    cases: list[tuple[str, dict[str, Any]]] = [
        ("updateClient", {"clientId": "c-1", "name": "x"}),
        ("recordHolding", {"clientId": "c-1", "productId": "p-cash", "balance": "5.00"}),
        ("createFacility", {"id": "f-new", "borrowerId": "c-1", "type": "LOAN", "limit": "10",
                            "currency": "CNY", "grantingDepartmentId": "d-ka"}),
        ("addGuarantee", {"guarantorId": "c-1", "facilityId": "f-1", "amount": "1"}),
        ("relateClients", {"fromId": "c-4", "toId": "c-1", "kind": "FAMILY", "role": "A",
                           "reciprocalRole": "B"}),
    ]  # fmt: skip
    for name, input_ in cases:
        bad = await refused(bank, db, name, input_, "InvariantViolationError")
        assert bad["invariant"] == "NOT_ARCHIVED", name


async def test_a_share_finer_than_a_millionth_is_refused(bank: Driver, db: Db) -> None:
    """Stakes are added up in millionths of a percent to decide control (50% is not control)."""
    fine = await refused(
        bank, db, "relateClients",
        {"fromId": "c-3", "toId": "c-4", "kind": "CONTROL", "share": 16.6666665,
         "basis": "EQUITY"},
        "ValidationError",
    )  # fmt: skip
    assert (fine["field"], fine["message"]) == ("share", "has more than 6 decimal places")
    ok = await mutate(
        db, "relateClients",
        {"fromId": "c-3", "toId": "c-4", "kind": "CONTROL", "share": 16.666667,
         "basis": "EQUITY"},
        LINK,
    )  # fmt: skip
    assert ok["share"] == 16.666667


async def test_archive_refused_while_credit_is_drawn(bank: Driver, db: Db) -> None:
    owing = await refused(bank, db, "archiveClient", {"clientId": "c-2"}, "InvariantViolationError")
    assert owing["invariant"] == "NO_OUTSTANDING_CREDIT" and owing["nodeIds"] == ["c-2", "f-1"]
    stale = await refused(
        bank, db, "archiveClient", {"clientId": "c-3", "expectedVersion": 5},
        "VersionConflictError",
    )  # fmt: skip
    assert stale["actualVersion"] == 0


# Managers and products ---------------------------------------------------------------------


async def test_create_and_update_manager(bank: Driver, db: Db) -> None:
    created = await mutate(
        db, "createManager",
        {"id": "m-3", "name": "孙七", "level": "ASSISTANT", "education": "COLLEGE",
         "title": "JUNIOR", "creditYears": 0, "departmentId": "d-ka-rm", "reportsToId": "m-2"},
        MANAGER,
    )  # fmt: skip
    assert created["manager"] == {
        "id": "m-3", "name": "孙七", "level": "ASSISTANT", "active": True, "version": 0,
        "department": {"id": "d-ka-rm"}, "reportsTo": {"id": "m-2"},
    }  # fmt: skip
    updated = await mutate(
        db, "updateManager",
        {"managerId": "m-3", "expectedVersion": 0, "name": "孙七七", "reportsToId": "m-1"},
        MANAGER,
    )  # fmt: skip
    assert updated["manager"]["name"] == "孙七七"
    assert updated["manager"]["reportsTo"] == {"id": "m-1"}
    assert updated["manager"]["version"] == 1
    alone = await mutate(db, "updateManager", {"managerId": "m-3", "reportsToId": None}, MANAGER)
    assert alone["manager"]["reportsTo"] is None
    idle = await mutate(db, "updateManager", {"managerId": "m-3", "active": False}, MANAGER)
    assert idle["manager"]["active"] is False


HISTORY = """query ($id: ID!) { gradeHistory(managerId: $id) {
  kind fromGrade toGrade exceptional reason } }"""


async def test_a_manager_is_hired_at_a_level_the_grading_table_allows(bank: Driver, db: Db) -> None:
    """四级制: a college graduate with no credit years starts as an assistant; a senior level
    needs one of its rows (or 破格, with a reason). The level then changes only by promotion,
    so the hire is where the table is first applied, and it is recorded."""
    base = {"id": "m-3", "name": "孙七", "level": "SENIOR", "education": "COLLEGE",
            "title": "NONE", "creditYears": 0, "departmentId": "d-ka-rm"}  # fmt: skip
    above = await refused(bank, db, "createManager", base, "InvariantViolationError")
    assert (above["invariant"], above["nodeIds"]) == ("LEVEL_REQUIREMENTS", ["m-3"])
    unexplained = await refused(
        bank, db, "createManager", {**base, "exceptional": True}, "ValidationError"
    )
    assert unexplained["field"] == "reason"
    qualified = {**base, "id": "m-4", "education": "MASTER", "creditYears": 1}
    assert (await mutate(db, "createManager", qualified, MANAGER))["manager"]["level"] == "SENIOR"
    exceptional = {**base, "exceptional": True, "reason": "引进的资深人才"}
    assert (await mutate(db, "createManager", exceptional, MANAGER))["manager"]["id"] == "m-3"
    entry = {**base, "id": "m-5", "level": "ASSISTANT"}  # probation not yet done
    assert (await mutate(db, "createManager", entry, MANAGER))["manager"]["level"] == "ASSISTANT"
    for manager, history in (
        ("m-3", {"kind": "HIRE", "fromGrade": None, "toGrade": "SENIOR", "exceptional": True,
                 "reason": "引进的资深人才"}),
        ("m-4", {"kind": "HIRE", "fromGrade": None, "toGrade": "SENIOR", "exceptional": False,
                 "reason": None}),
        ("m-5", {"kind": "HIRE", "fromGrade": None, "toGrade": "ASSISTANT",
                 "exceptional": False, "reason": None}),
    ):  # fmt: skip
        data, errors, _ = await execute(db, HISTORY, {"id": manager})
        assert errors == [] and data == {"gradeHistory": [history]}


async def test_manager_refusals(bank: Driver, db: Db) -> None:
    base = {"id": "m-3", "name": "孙七", "level": "ASSISTANT", "education": "COLLEGE",
            "title": "JUNIOR", "creditYears": 0, "departmentId": "d-ka-rm"}  # fmt: skip
    await refused(bank, db, "createManager", {**base, "id": "m-1"}, "DuplicateError")
    gone = await refused(bank, db, "createManager", {**base, "departmentId": "d-x"},
                         "NotFoundError")  # fmt: skip
    assert gone["missing"] == "Department"
    await refused(bank, db, "createManager", {**base, "reportsToId": "m-9"}, "NotFoundError")
    years = await refused(bank, db, "createManager", {**base, "creditYears": -1},
                          "ValidationError")  # fmt: skip
    assert years["field"] == "creditYears"
    cycle = await refused(
        bank, db, "updateManager", {"managerId": "m-1", "reportsToId": "m-2"},
        "InvariantViolationError",
    )  # fmt: skip
    assert cycle["invariant"] == "REPORTING_FOREST"
    own = await refused(bank, db, "updateManager", {"managerId": "m-1", "reportsToId": "m-1"},
                        "InvariantViolationError")  # fmt: skip
    assert own["invariant"] == "NO_SELF_LINK"
    busy = await refused(
        bank, db, "updateManager", {"managerId": "m-1", "active": False},
        "InvariantViolationError",
    )  # fmt: skip
    assert busy["invariant"] == "PRIMARY_MANAGER_ACTIVE"
    assert busy["nodeIds"] == ["m-1", "c-1", "c-2"]
    await refused(
        bank, db, "updateManager", {"managerId": "m-1", "expectedVersion": 3, "name": "x"},
        "VersionConflictError",
    )  # fmt: skip
    await refused(bank, db, "updateManager", {"managerId": "m-1", "education": None},
                  "ValidationError")  # fmt: skip


async def test_a_manager_s_level_does_not_change_through_update_manager(
    bank: Driver, db: Db
) -> None:
    """Only promoteManager / demoteManager change it: checked against the table, recorded."""
    before = graph_snapshot(bank)
    _, errors, _ = await execute(
        db,
        'mutation { updateManager(input: {managerId: "m-1", level: PRINCIPAL}) { __typename } }',
    )
    assert [e.message for e in errors] == [
        "Expected value of type 'UpdateManagerInput' not to include unknown field 'level', "
        'found: { managerId: "m-1", level: PRINCIPAL }.'
    ]
    assert graph_snapshot(bank) == before


async def test_create_and_update_product(bank: Driver, db: Db) -> None:
    created = await mutate(
        db, "createProduct",
        {"id": "p-fx", "name": "外汇买卖", "category": "FX", "audience": "ALL", "riskLevel": 3,
         "departmentId": "d-prod"},
        PRODUCT,
    )  # fmt: skip
    assert created["product"] == {
        "id": "p-fx", "name": "外汇买卖", "category": "FX", "audience": "ALL", "riskLevel": 3,
        "offeredBy": [{"id": "d-prod"}],
    }  # fmt: skip
    updated = await mutate(
        db, "updateProduct", {"productId": "p-fx", "riskLevel": 4, "audience": "INDIVIDUAL"},
        PRODUCT,
    )  # fmt: skip
    assert (updated["product"]["riskLevel"], updated["product"]["audience"]) == (4, "INDIVIDUAL")


async def test_product_refusals(bank: Driver, db: Db) -> None:
    base = {"id": "p-fx", "name": "外汇买卖", "category": "FX", "audience": "ALL",
            "riskLevel": 3, "departmentId": "d-prod"}  # fmt: skip
    await refused(bank, db, "createProduct", {**base, "id": "p-dep"}, "DuplicateError")
    wrong = await refused(bank, db, "createProduct", {**base, "departmentId": "d-ka"},
                          "InvariantViolationError")  # fmt: skip
    assert wrong["invariant"] == "PRODUCT_DEPARTMENT"
    risky = await refused(bank, db, "createProduct", {**base, "riskLevel": 6}, "ValidationError")
    assert risky["field"] == "riskLevel"
    held = await refused(
        bank, db, "updateProduct", {"productId": "p-dep", "audience": "INDIVIDUAL"},
        "InvariantViolationError",
    )  # fmt: skip
    assert held["invariant"] == "PRODUCT_AUDIENCE" and held["nodeIds"] == ["p-dep", "c-1"]
    await refused(bank, db, "updateProduct", {"productId": "p-no", "name": "x"}, "NotFoundError")


# Links between clients ---------------------------------------------------------------------


async def test_relate_and_unrelate_clients(bank: Driver, db: Db) -> None:
    control = await mutate(
        db, "relateClients",
        {"fromId": "c-2", "toId": "c-3", "kind": "CONTROL", "share": 51.5, "basis": "EQUITY"},
        LINK,
    )  # fmt: skip
    assert control == {
        "__typename": "ClientLinkSuccess", "kind": "CONTROL", "share": 51.5, "basis": "EQUITY",
        "role": None, "reciprocalRole": None, "from": {"id": "c-2"}, "to": {"id": "c-3"},
    }  # fmt: skip
    family = await mutate(
        db, "relateClients",
        {"fromId": "c-4", "toId": "c-1", "kind": "KEY_PERSON", "role": "LEGAL_REPRESENTATIVE",
         "reciprocalRole": "COMPANY"},
        LINK,
    )  # fmt: skip
    assert family["role"] == "LEGAL_REPRESENTATIVE"
    data = await query(
        db, '{ client(id: "c-3") { group { root { id } memberCount } relatedClients { kind '
        "role otherRole client { id } } } }",
    )  # fmt: skip
    assert data["client"]["group"] == {"root": {"id": "c-1"}, "memberCount": 3}
    assert {"kind": "CONTROL", "role": "SUBSIDIARY", "otherRole": "PARENT",
            "client": {"id": "c-2"}} in data["client"]["relatedClients"]  # fmt: skip
    removed = await mutate(
        db, "unrelateClients", {"fromId": "c-3", "toId": "c-1", "kind": "SUPPLY_CHAIN"}, LINK
    )
    assert (removed["role"], removed["reciprocalRole"]) == ("SUPPLIER", "CUSTOMER")
    gone = await refused(
        bank, db, "unrelateClients", {"fromId": "c-3", "toId": "c-1", "kind": "SUPPLY_CHAIN"},
        "NotFoundError",
    )  # fmt: skip
    assert gone["missing"] == "ClientLink"
    uncontrolled = await mutate(
        db, "unrelateClients", {"fromId": "c-2", "toId": "c-3", "kind": "CONTROL"}, LINK
    )
    assert uncontrolled["share"] == 51.5


async def test_relate_clients_refusals(bank: Driver, db: Db) -> None:
    control = {"fromId": "c-2", "toId": "c-1", "kind": "CONTROL", "share": 60.0,
               "basis": "EQUITY"}  # fmt: skip
    cycle = await refused(bank, db, "relateClients", control, "InvariantViolationError")
    assert cycle["invariant"] == "CONTROL_ACYCLIC"
    board = {**control, "share": 10.0, "basis": "BOARD"}
    await refused(bank, db, "relateClients", board, "InvariantViolationError")
    too_much = await refused(
        bank, db, "relateClients", {**control, "fromId": "c-3", "toId": "c-2", "share": 45.0},
        "InvariantViolationError",
    )  # fmt: skip
    assert too_much["invariant"] == "SHARES_AT_MOST_100" and too_much["nodeIds"] == ["c-2"]
    self_link = await refused(bank, db, "relateClients", {**control, "toId": "c-2"},
                              "InvariantViolationError")  # fmt: skip
    assert self_link["invariant"] == "NO_SELF_LINK"
    dup = await refused(bank, db, "relateClients", {**control, "fromId": "c-1", "toId": "c-2"},
                        "DuplicateError")  # fmt: skip
    assert dup["id"] == "c-1-CONTROL->c-2"
    reverse = {"fromId": "c-1", "toId": "c-3", "kind": "SUPPLY_CHAIN", "role": "CUSTOMER",
               "reciprocalRole": "SUPPLIER"}  # fmt: skip
    await refused(bank, db, "relateClients", reverse, "DuplicateError")
    cases: list[tuple[str, dict[str, Any]]] = [
        ("share", {**control, "share": 100.5}),
        ("share", {**control, "share": 0.0}),
        ("share", {**control, "share": None}),
        ("basis", {**control, "basis": None}),
        ("role", {**control, "role": "PARENT"}),
        ("kind", {**control, "kind": "GUARANTEE"}),
        ("reciprocalRole", {**reverse, "kind": "FAMILY", "reciprocalRole": None}),
        ("share", {**reverse, "kind": "FAMILY", "share": 5.0}),
        ("role", {**reverse, "kind": "FAMILY", "role": " "}),
        ("toId", {**control, "toId": "x y"}),
    ]
    for field, input_ in cases:
        bad = await refused(bank, db, "relateClients", input_, "ValidationError")
        assert bad["field"] == field, input_
    await refused(bank, db, "relateClients", {**control, "toId": "c-9"}, "NotFoundError")


async def test_minority_cross_holdings_may_form_a_cycle(bank: Driver, db: Db) -> None:
    minority = await mutate(
        db, "relateClients",
        {"fromId": "c-2", "toId": "c-1", "kind": "CONTROL", "share": 10.0, "basis": "EQUITY"},
        LINK,
    )  # fmt: skip
    assert minority["__typename"] == "ClientLinkSuccess"


# Holdings -----------------------------------------------------------------------------------


async def test_record_and_close_holdings(bank: Driver, db: Db) -> None:
    opened = await mutate(
        db, "recordHolding",
        {"clientId": "c-2", "productId": "p-cash", "balance": "1000.50", "since": "2024-05-01"},
        HOLDING,
    )  # fmt: skip
    assert opened["holding"] == {
        "product": {"id": "p-cash"}, "balance": "1000.50", "since": "2024-05-01", "active": True
    }  # fmt: skip
    updated = await mutate(
        db, "recordHolding", {"clientId": "c-2", "productId": "p-cash", "balance": "7"}, HOLDING
    )
    assert updated["holding"]["balance"] == "7.00"
    assert updated["holding"]["since"] == "2024-05-01"
    closed = await mutate(db, "closeHolding", {"clientId": "c-2", "productId": "p-cash"}, HOLDING)
    assert closed["holding"]["active"] is False
    data = await query(
        db, '{ client(id: "c-2") { open: holdings { balance } all: holdings(includeClosed: true) '
        "{ balance active } } }",
    )  # fmt: skip
    assert data["client"] == {"open": [], "all": [{"balance": "7.00", "active": False}]}
    again = await refused(bank, db, "closeHolding", {"clientId": "c-2", "productId": "p-cash"},
                          "InvariantViolationError")  # fmt: skip
    assert again["invariant"] == "HOLDING_ACTIVE"
    reopened = await mutate(
        db, "recordHolding", {"clientId": "c-1", "productId": "p-cash", "balance": "3"}, HOLDING
    )
    assert reopened["holding"]["active"] is True
    rows, _, _ = bank.execute_query(
        "MATCH (:Client {id: 'c-1'})-[h:HOLDS]->(:Product {id: 'p-cash'}) "
        "RETURN h.since AS since, keys(h) AS keys",
        database_=DATABASE,
    )
    # Today in the bank's time zone (in the first hours of a Beijing day, UTC is a day behind),
    # or yesterday, had the bank's midnight passed since the write.
    today = bank_calendar.today()
    assert rows[0]["since"].to_native() in {today, today - dt.timedelta(days=1)}
    assert set(rows[0]["keys"]) == {"balanceCents", "since", "active", "consented"}


async def test_a_holding_opened_without_consent_is_kept_and_not_counted(
    bank: Driver, db: Db
) -> None:
    """DOMAIN §5: products per client counts only consented holdings. A risk officer records
    that c-1's deposit was opened without its consent: the holding stays, marked, and counts
    no more; a manager may not record it, and restating it changes nothing."""
    count = "{ productsPerClient { holdings clientsWithProducts } }"
    assert (await query(db, count))["productsPerClient"] == {
        "holdings": 1, "clientsWithProducts": 1,
    }  # fmt: skip
    mark = {"clientId": "c-1", "productId": "p-dep", "consented": False, "reason": "投诉核实"}
    _, errors, _ = await execute(
        db,
        "mutation ($i: SetHoldingConsentInput!) { setHoldingConsent(input: $i) { __typename } }",
        {"i": mark},
        principal=MANAGER_1,
    )
    assert [e.extensions.get("code") for e in errors] == ["FORBIDDEN"]
    consent = HOLDING.replace("active }", "active consented }")
    marked = await mutate(db, "setHoldingConsent", mark, consent, principal=RISK_OFFICER)
    assert marked["holding"] == {
        "product": {"id": "p-dep"}, "balance": "1234567.89", "since": "2020-04-01",
        "active": True, "consented": False,
    }  # fmt: skip
    assert (await query(db, count))["productsPerClient"] == {
        "holdings": 0, "clientsWithProducts": 0,
    }  # fmt: skip
    again = await refused(bank, db, "setHoldingConsent", mark, "InvariantViolationError")
    assert again["invariant"] == "NO_OP"
    none = await refused(
        bank, db, "setHoldingConsent", {**mark, "productId": "p-none"}, "NotFoundError"
    )
    assert none["missing"] == "Product"
    data = await query(db, '{ client(id: "c-1") { holdings { product { id } consented } } }')
    assert data["client"]["holdings"] == [{"product": {"id": "p-dep"}, "consented": False}]
    restored = await mutate(db, "setHoldingConsent", {**mark, "consented": True}, consent)
    assert restored["holding"]["consented"] is True
    assert (await query(db, count))["productsPerClient"]["holdings"] == 1


async def test_holding_refusals(bank: Driver, db: Db) -> None:
    base = {"clientId": "c-2", "productId": "p-cash", "balance": "1"}
    for field, input_ in [
        ("balance", {**base, "balance": "-1"}),
        ("balance", {**base, "balance": "0.001"}),
        ("balance", {**base, "balance": "1e20"}),
        ("since", {**base, "since": "2999-01-01"}),
        ("productId", {**base, "productId": ""}),
    ]:
        bad = await refused(bank, db, "recordHolding", input_, "ValidationError")
        assert bad["field"] == field
    audience = await refused(bank, db, "recordHolding", {**base, "clientId": "c-4"},
                             "InvariantViolationError")  # fmt: skip
    assert audience["invariant"] == "PRODUCT_AUDIENCE"
    product = await refused(bank, db, "recordHolding", {**base, "productId": "p-x"},
                            "NotFoundError")  # fmt: skip
    assert product["missing"] == "Product"
    holding = await refused(bank, db, "closeHolding", {"clientId": "c-2", "productId": "p-cash"},
                            "NotFoundError")  # fmt: skip
    assert holding["missing"] == "Holding"


# Credit ------------------------------------------------------------------------------------


def new_facility(**overrides: Any) -> dict[str, Any]:
    return {
        "id": "f-2", "borrowerId": "c-3", "type": "LOAN", "limit": "5000000.00",
        "currency": "CNY", "grantingDepartmentId": "d-ka-rm", **overrides,
    }  # fmt: skip


async def test_create_approve_and_guarantee_a_facility(bank: Driver, db: Db) -> None:
    created = await mutate(db, "createFacility", new_facility(), FACILITY)
    facility = created["facility"]
    assert facility.pop("grantedAt") is not None
    assert facility == {
        "id": "f-2", "type": "LOAN", "limit": "5000000.00", "drawn": "0.00",
        "currency": "CNY", "status": "ACTIVE", "borrower": {"id": "c-3"},
        "grantingDepartment": {"id": "d-ka-rm"}, "approvingDepartment": None,
    }  # fmt: skip
    unapproved = await query(
        db, '{ creditExposure(clientId: "c-3") { unapprovedFacilities { facility { id } } } }'
    )
    assert unapproved["creditExposure"]["unapprovedFacilities"] == [{"facility": {"id": "f-2"}}]
    approved = await mutate(
        db, "approveFacility", {"facilityId": "f-2", "approvingDepartmentId": "d-risk"}, FACILITY
    )
    assert approved["facility"]["approvingDepartment"] == {"id": "d-risk"}
    guarantee = await mutate(
        db, "addGuarantee", {"guarantorId": "c-1", "facilityId": "f-2", "amount": "2500000"},
        GUARANTEE,
    )  # fmt: skip
    assert guarantee == {
        "__typename": "GuaranteeSuccess", "guarantor": {"id": "c-1"}, "facility": {"id": "f-2"},
        "amount": "2500000.00",
    }  # fmt: skip
    data = await query(
        db, '{ client(id: "c-1") { relatedClients(kinds: [GUARANTEE]) { amount facilityId '
        "client { id } } } }",
    )  # fmt: skip
    assert data["client"]["relatedClients"] == [
        {"amount": "2500000.00", "facilityId": "f-2", "client": {"id": "c-3"}}
    ]
    rows, _, _ = bank.execute_query(
        "MATCH (f:Facility {id: 'f-2'}) RETURN keys(f) AS keys, "
        "[(f)<-[r]-() WHERE type(r) <> 'CHANGED' | [type(r), keys(r)]] AS links",
        database_=DATABASE,
    )  # fmt: skip
    assert set(rows[0]["keys"]) == {"id", "type", "limitCents", "drawnCents", "currency", "status"}
    assert sorted((t, sorted(k)) for t, k in rows[0]["links"]) == [
        ("APPROVED", ["at"]), ("BORROWS", []), ("GRANTED", ["at"]),
        ("GUARANTEES", ["amountCents"]),
    ]  # fmt: skip


async def test_facility_refusals(bank: Driver, db: Db) -> None:
    for field, overrides in [
        ("limit", {"limit": "-1"}),
        ("limit", {"limit": "0"}),
        ("limit", {"limit": "NaN"}),
        ("currency", {"currency": "cny"}),
        ("id", {"id": "f 2"}),
    ]:
        bad = await refused(bank, db, "createFacility", new_facility(**overrides),
                            "ValidationError")  # fmt: skip
        assert bad["field"] == field, overrides
    await refused(bank, db, "createFacility", new_facility(id="f-1"), "DuplicateError")
    who = await refused(bank, db, "createFacility", new_facility(borrowerId="c-9"),
                        "NotFoundError")  # fmt: skip
    assert who["missing"] == "Client"
    dept = await refused(bank, db, "createFacility",
                         new_facility(grantingDepartmentId="d-9"), "NotFoundError")  # fmt: skip
    assert dept["missing"] == "Department"


async def test_approval_must_be_independent(bank: Driver, db: Db) -> None:
    await mutate(db, "createFacility", new_facility())
    # d-ka-rm granted: itself, its parent d-ka and the root above are not independent.
    for approver in ("d-ka-rm", "d-ka", "d-root"):
        bad = await refused(
            bank, db, "approveFacility", {"facilityId": "f-2", "approvingDepartmentId": approver},
            "InvariantViolationError",
        )  # fmt: skip
        assert bad["invariant"] == "APPROVAL_INDEPENDENCE"
        assert bad["nodeIds"] == [approver, "d-ka-rm"]
    await mutate(db, "createFacility", new_facility(id="f-3", grantingDepartmentId="d-ka"))
    below = await refused(
        bank, db, "approveFacility", {"facilityId": "f-3", "approvingDepartmentId": "d-ka-rm"},
        "InvariantViolationError",
    )  # fmt: skip
    assert below["invariant"] == "APPROVAL_INDEPENDENCE"
    twice = await refused(
        bank, db, "approveFacility", {"facilityId": "f-1", "approvingDepartmentId": "d-prod"},
        "DuplicateError",
    )  # fmt: skip
    assert twice["id"] == "f-1"
    await refused(
        bank,
        db,
        "approveFacility",
        {"facilityId": "f-9", "approvingDepartmentId": "d-risk"},
        "NotFoundError",
    )
    await refused(
        bank,
        db,
        "approveFacility",
        {"facilityId": "f-2", "approvingDepartmentId": "d-9"},
        "NotFoundError",
    )


async def test_guarantee_refusals(bank: Driver, db: Db) -> None:
    base = {"guarantorId": "c-4", "facilityId": "f-1", "amount": "100"}
    own = await refused(bank, db, "addGuarantee", {**base, "guarantorId": "c-2"},
                        "InvariantViolationError")  # fmt: skip
    assert own["invariant"] == "NO_SELF_GUARANTEE"
    over = await refused(bank, db, "addGuarantee", {**base, "amount": "500000000.01"},
                         "InvariantViolationError")  # fmt: skip
    assert over["invariant"] == "GUARANTEE_WITHIN_LIMIT"
    await refused(bank, db, "addGuarantee", {**base, "guarantorId": "c-3"}, "DuplicateError")
    for amount in ("0", "-5", "1.001"):
        bad = await refused(bank, db, "addGuarantee", {**base, "amount": amount},
                            "ValidationError")  # fmt: skip
        assert bad["field"] == "amount"
    await refused(bank, db, "addGuarantee", {**base, "facilityId": "f-9"}, "NotFoundError")
    await refused(bank, db, "addGuarantee", {**base, "guarantorId": "c-9"}, "NotFoundError")


async def test_credit_is_for_risk_officers_and_admins(bank: Driver, db: Db) -> None:
    before = graph_snapshot(bank)
    for principal in (MANAGER_1, Principal("v", Role.VIEWER)):
        _, errors, _ = await execute(
            db,
            "mutation ($input: CreateFacilityInput!) { createFacility(input: $input) "
            "{ __typename } }",
            {"input": new_facility()},
            principal=principal,
        )
        assert [e.extensions["code"] for e in errors] == ["FORBIDDEN"]
    assert graph_snapshot(bank) == before
    risk = await mutate(db, "createFacility", new_facility(), FACILITY,
                        principal=Principal("r", Role.RISK_OFFICER))  # fmt: skip
    assert risk["__typename"] == "FacilitySuccess"


async def test_a_client_with_no_links_reads_whole(bank: Driver, db: Db) -> None:
    """As every newly created client is: the client page once dropped clients without links."""
    data = await query(
        db, '{ client(id: "c-4") { id primaryManager { id } relatedClients { kind } } }'
    )
    assert data["client"] == {"id": "c-4", "primaryManager": {"id": "m-2"}, "relatedClients": []}


README_EXAMPLE = """mutation {
  createClient(input: {id: "cli-new-001", name: "华东新材料有限公司", kind: CORPORATE,
                       segment: NEW, riskRating: 2, primaryManagerId: "mgr-001"}) {
    __typename
    ... on ClientSuccess { client { id status version primaryManager { id } } }
  }
  createFacility(input: {id: "fac-new-001", borrowerId: "cli-new-001", type: LOAN,
                         limit: "5000000.00", currency: "CNY",
                         grantingDepartmentId: "dept-ka-rm-group"}) {
    __typename
    ... on FacilitySuccess { facility { id limit approvingDepartment { id } } }
  }
}"""


async def test_the_readme_example_on_the_demo_bank(writable_demo_bank: Driver, db: Db) -> None:
    data = await query(db, README_EXAMPLE)
    assert data == {
        "createClient": {
            "__typename": "ClientSuccess",
            "client": {"id": "cli-new-001", "status": "PROSPECT", "version": 0,
                       "primaryManager": {"id": "mgr-001"}},
        },
        "createFacility": {
            "__typename": "FacilitySuccess",
            "facility": {"id": "fac-new-001", "limit": "5000000.00", "approvingDepartment": None},
        },
    }  # fmt: skip
