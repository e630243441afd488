"""Restructuring on a small hand-built organisation: each mutation's success, dry run,
invariant violations, version conflicts, audit records, history and concurrency."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from neo4j import Driver

from graph.bank_rows import BankRows
from graph.db import Db
from seeds.loader import load
from tests.conftest import DATABASE, graph_snapshot
from tests.gql import execute

RESULT = """__typename
  ... on RestructureSuccess { dryRun auditRecordId impact { departments managers clients
        linksAdded { kind fromId toId } linksRemoved { kind fromId toId }
        dropped { kind fromId toId } } }
  ... on InvariantViolationError { invariant nodeIds message }
  ... on VersionConflictError { id expectedVersion actualVersion }
  ... on NotFoundError { kind id }
  ... on DuplicateError { id }
  ... on ValidationError { field }"""


def build_org() -> BankRows:
    """R ─┬─ A ─┬─ A1 (mA1, primary of c1)
    │     └─ A2
    ├─ B (mB)
    └─ K (risk), which checks A."""
    bank = BankRows()
    bank.departments = [
        {
            "id": d,
            "name": f"部门{d}",
            "function": "RISK" if d == "K" else "CLIENT",
            "model": "CLIENT",
        }
        for d in ("R", "A", "A1", "A2", "B", "K")
    ]
    bank.direct_links = [
        {"fromId": c, "toId": p, "since": "2020-01-01"}
        for c, p in (("A", "R"), ("A1", "A"), ("A2", "A"), ("B", "R"), ("K", "R"))
    ]
    bank.check_links = [{"fromId": "K", "toId": "A", "since": "2020-01-01", "note": "审贷分离"}]
    bank.managers = [
        {"id": m, "name": m, "level": "MANAGER", "education": "BACHELOR", "title": "NONE",
         "creditYears": 2, "departmentId": d, "reportsToId": None, "since": "2020-01-01"}
        for m, d in (("mA1", "A1"), ("mB", "B"))
    ]  # fmt: skip
    bank.clients = [{
        "id": "c1", "name": "客户1", "kind": "CORPORATE", "segment": "EXISTING", "status": "ACTIVE",
        "grade": None, "riskRating": 3, "industry": None, "region": None,
    }]  # fmt: skip
    bank.manages = [
        {"managerId": "mA1", "clientId": "c1", "role": "PRIMARY", "since": "2020-01-01"}
    ]
    return bank


@pytest.fixture
def org(empty_graph: Driver) -> Iterator[Driver]:
    load(empty_graph, DATABASE, build_org(), quiet=True)
    yield empty_graph


async def mutate(db: Db, name: str, input_: str, dry_run: bool = False) -> dict[str, Any]:
    query = (
        f"mutation {{ {name}(dryRun: {str(dry_run).lower()}, input: {{{input_}}}) {{ {RESULT} }} }}"
    )
    data, errors, _ = await execute(db, query)
    assert errors == [], errors
    assert data is not None
    result: dict[str, Any] = data[name]
    return result


def parent_of(driver: Driver, dept: str) -> str | None:
    records, _, _ = driver.execute_query(
        "MATCH (:Department {id: $id})-[:DIRECT_REPORT]->(p) RETURN p.id AS p", id=dept,
        database_=DATABASE,
    )  # fmt: skip
    return records[0]["p"] if records else None


def no_cycles(driver: Driver) -> bool:
    records, _, _ = driver.execute_query(
        "MATCH (d:Department) WHERE EXISTS { (d)-[:DIRECT_REPORT*1..64]->(d) } RETURN count(d) AS n",
        database_=DATABASE,
    )
    return bool(records[0]["n"] == 0)


async def test_move_applies_audits_and_keeps_history(org: Driver, db: Db) -> None:
    before_move = dt.datetime.now(dt.UTC)
    result = await mutate(db, "moveDepartment", 'departmentId: "A2", newParentId: "B"')
    assert result["__typename"] == "RestructureSuccess" and result["dryRun"] is False
    assert result["impact"]["linksAdded"] == [{"kind": "DIRECT", "fromId": "A2", "toId": "B"}]
    assert result["impact"]["linksRemoved"] == [{"kind": "DIRECT", "fromId": "A2", "toId": "A"}]
    assert result["impact"]["departments"] == ["A", "A2", "B"]
    assert parent_of(org, "A2") == "B"
    data, errors, _ = await execute(
        db,
        '{ department(id: "A2") { version } auditLog(nodeId: "A2") { records { action actor before after } } }',
    )
    assert errors == [] and data is not None
    assert data["department"]["version"] == 1
    [record] = data["auditLog"]["records"]
    assert (record["action"], record["actor"]) == ("moveDepartment", "test-admin")
    assert '"parentId": "A"' in record["before"] and '"parentId": "B"' in record["after"]
    chart = """query ($at: DateTime) { orgChart(rootId: "R", asOf: $at) {
      departments { id parentId depth } links { kind fromId toId } } }"""
    then, _, _ = await execute(db, chart, {"at": before_move.isoformat()})
    now, _, _ = await execute(db, chart, {"at": None})
    assert then is not None and now is not None
    parents_then = {d["id"]: d["parentId"] for d in then["orgChart"]["departments"]}
    parents_now = {d["id"]: d["parentId"] for d in now["orgChart"]["departments"]}
    assert parents_then["A2"] == "A" and parents_now["A2"] == "B"
    assert then["orgChart"]["links"] == [{"kind": "CHECK_AND_BALANCE", "fromId": "K", "toId": "A"}]


async def test_a_link_restated_by_an_import_after_an_unlink_is_on_the_chart(
    org: Driver, db: Db
) -> None:
    """K's check of A is unlinked (its period closed), then restated by an import, which keeps
    no periods: it is on today's chart again, not hidden for good by the closed period."""
    unlinked = await mutate(
        db, "unlinkDepartments", 'fromId: "K", toId: "A", kind: CHECK_AND_BALANCE'
    )
    assert unlinked["__typename"] == "RestructureSuccess", unlinked
    between = dt.datetime.now(dt.UTC)
    org.execute_query(
        "MATCH (k:Department {id: 'K'}), (a:Department {id: 'A'}) "
        "MERGE (k)-[r:CHECKS]->(a) SET r.since = date('2020-01-01'), r.scope = '审贷分离'",
        database_=DATABASE,
    )  # what LOAD_CHECK_LINKS writes for the restated row
    chart = """query ($at: DateTime) { orgChart(rootId: "R", asOf: $at) {
      links { kind fromId toId } } }"""
    now, errors, _ = await execute(db, chart, {"at": None})
    assert errors == [] and now is not None
    assert now["orgChart"]["links"] == [{"kind": "CHECK_AND_BALANCE", "fromId": "K", "toId": "A"}]
    # While unlinked, the closed period still tells: the link is not counted twice, nor early.
    then, errors, _ = await execute(
        db, chart, {"at": (between - dt.timedelta(days=800)).isoformat()}
    )
    assert errors == [] and then is not None
    assert then["orgChart"]["links"] == [{"kind": "CHECK_AND_BALANCE", "fromId": "K", "toId": "A"}]


async def test_a_preview_shows_what_goes_with_the_change(org: Driver, db: Db) -> None:
    """A moves with A1 and A2 below it, A1's member mA1 and mA1's client c1; an assignment takes
    the manager's clients along; a merge, the source's subtree and members; a rename, nothing."""
    preview = (
        "mutation { %s(dryRun: true, input: {%s}) { ... on RestructureSuccess { impact { "
        "moving { departments managers clients } } } } }"
    )
    before = graph_snapshot(org)
    for name, input_, moving in (
        ("moveDepartment", 'departmentId: "A", newParentId: "B"',
         {"departments": ["A", "A1", "A2"], "managers": 1, "clients": 1}),
        ("assignManager", 'managerId: "mA1", departmentId: "B"',
         {"departments": [], "managers": 1, "clients": 1}),
        ("mergeDepartments", 'sourceId: "A1", targetId: "A2"',
         {"departments": ["A1"], "managers": 1, "clients": 1}),
        ("renameDepartment", 'departmentId: "A", name: "新名"', None),
    ):  # fmt: skip
        data, errors, _ = await execute(db, preview % (name, input_))
        assert errors == [] and data is not None
        assert data[name]["impact"]["moving"] == moving, name
    assert graph_snapshot(org) == before


async def test_dry_run_returns_the_impact_and_writes_nothing(org: Driver, db: Db) -> None:
    before = graph_snapshot(org)
    dry = await mutate(db, "moveDepartment", 'departmentId: "A2", newParentId: "B"', dry_run=True)
    assert dry["dryRun"] is True and dry["auditRecordId"] is None
    assert graph_snapshot(org) == before
    real = await mutate(db, "moveDepartment", 'departmentId: "A2", newParentId: "B"')
    assert real["impact"] == dry["impact"]


@pytest.mark.parametrize(
    ("name", "input_", "invariant", "ids"),
    [
        ("moveDepartment", 'departmentId: "A", newParentId: "A1"', "DIRECT_FOREST", ["A", "A1"]),
        ("moveDepartment", 'departmentId: "A", newParentId: "A"', "DIRECT_FOREST", ["A"]),
        # K checks A; under A, K would check its own ancestor.
        (
            "moveDepartment",
            'departmentId: "K", newParentId: "A2"',
            "CHECK_INDEPENDENCE",
            ["A", "K"],
        ),
        ("linkDepartments", 'fromId: "A", toId: "A", kind: LINEAR', "NO_SELF_LINK", ["A"]),
        (
            "linkDepartments",
            'fromId: "K", toId: "A", kind: CHECK_AND_BALANCE',
            "NO_DUPLICATE_LINK",
            ["A", "K"],
        ),
        (
            "linkDepartments",
            'fromId: "A", toId: "A1", kind: CHECK_AND_BALANCE',
            "CHECK_INDEPENDENCE",
            ["A", "A1"],
        ),
        ("linkDepartments", 'fromId: "A1", toId: "B", kind: DIRECT', "SINGLE_PARENT", ["A", "A1"]),
        ("archiveDepartment", 'departmentId: "A"', "ARCHIVE_EMPTY", ["A1", "A2"]),
        ("archiveDepartment", 'departmentId: "A1"', "ARCHIVE_EMPTY", ["c1", "mA1"]),
        (
            "transferClient",
            'clientId: "c1", toManagerId: "mA1", reason: "重复"',
            "NO_OP",
            ["c1", "mA1"],
        ),
        ("moveDepartment", 'departmentId: "A1", newParentId: "A"', "NO_OP", ["A", "A1"]),
        ("renameDepartment", 'departmentId: "A", name: "部门A"', "NO_OP", ["A"]),
        ("assignManager", 'managerId: "mA1", departmentId: "A1"', "NO_OP", ["A1", "mA1"]),
        (
            "createDepartment",
            'id: "S", name: "自己", function: CLIENT, model: REGION, parentId: "S"',
            "NO_SELF_LINK",
            ["S"],
        ),
        # A1 is under A, under R: A would come under A1, a cycle (the tree breaking is named
        # first; K, checking A, would also come under A1).
        ("mergeDepartments", 'sourceId: "R", targetId: "A1"', "DIRECT_FOREST", ["A", "A1", "K"]),
    ],
)
async def test_invariant_violations_change_nothing(
    org: Driver, db: Db, name: str, input_: str, invariant: str, ids: list[str]
) -> None:
    before = graph_snapshot(org)
    result = await mutate(db, name, input_)
    assert result["__typename"] == "InvariantViolationError", result
    assert (result["invariant"], sorted(result["nodeIds"])) == (invariant, ids)
    assert graph_snapshot(org) == before


async def test_links_unlinks_and_independent_checks(org: Driver, db: Db) -> None:
    ok = await mutate(
        db, "linkDepartments", 'fromId: "K", toId: "A1", kind: CHECK_AND_BALANCE, note: "风险监控"'
    )
    assert ok["__typename"] == "RestructureSuccess"
    ok = await mutate(db, "linkDepartments", 'fromId: "A1", toId: "B", kind: LINEAR')
    assert ok["impact"]["linksAdded"] == [{"kind": "LINEAR", "fromId": "A1", "toId": "B"}]
    gone = await mutate(db, "unlinkDepartments", 'fromId: "A1", toId: "B", kind: LINEAR')
    assert gone["impact"]["linksRemoved"] == [{"kind": "LINEAR", "fromId": "A1", "toId": "B"}]
    missing = await mutate(db, "unlinkDepartments", 'fromId: "A1", toId: "B", kind: LINEAR')
    assert missing["__typename"] == "NotFoundError"


async def test_versions_and_not_found(org: Driver, db: Db) -> None:
    stale = await mutate(
        db, "renameDepartment", 'departmentId: "A", name: "新名", expectedVersion: 5'
    )
    assert stale == {
        "__typename": "VersionConflictError",
        "id": "A",
        "expectedVersion": 5,
        "actualVersion": 0,
    }
    done = await mutate(
        db, "renameDepartment", 'departmentId: "A", name: "新名", expectedVersion: 0'
    )
    assert done["__typename"] == "RestructureSuccess"
    again = await mutate(
        db, "renameDepartment", 'departmentId: "A", name: "又名", expectedVersion: 0'
    )
    assert again["__typename"] == "VersionConflictError" and again["actualVersion"] == 1
    # An empty parent id is a malformed id, as any other id argument's (not "no parent").
    _, errors, _ = await execute(
        db,
        'mutation { createDepartment(input: {id: "S", name: "x", function: CLIENT, '
        'model: REGION, parentId: ""}) { __typename } }',
    )
    assert [(e.extensions or {}).get("argument") for e in errors] == ["parentId"]
    missing = await mutate(db, "renameDepartment", 'departmentId: "nope", name: "x"')
    assert missing == {"__typename": "NotFoundError", "kind": "Department", "id": "nope"}
    blank = await mutate(db, "renameDepartment", 'departmentId: "A", name: "  "')
    assert blank == {"__typename": "ValidationError", "field": "name"}


async def test_create_archive_and_merge(org: Driver, db: Db) -> None:
    made = await mutate(
        db,
        "createDepartment",
        'id: "C", name: "新部门", function: CLIENT, model: REGION, parentId: "R"',
    )
    assert made["impact"]["linksAdded"] == [{"kind": "DIRECT", "fromId": "C", "toId": "R"}]
    dup = await mutate(
        db, "createDepartment", 'id: "C", name: "x", function: CLIENT, model: REGION'
    )
    assert dup == {"__typename": "DuplicateError", "id": "C"}
    archived = await mutate(db, "archiveDepartment", 'departmentId: "C"')
    assert archived["impact"]["linksRemoved"] == [{"kind": "DIRECT", "fromId": "C", "toId": "R"}]
    # Merge A1 into A2: mA1 moves; A1's parent link would repeat A2's own and is dropped.
    merged = await mutate(db, "mergeDepartments", 'sourceId: "A1", targetId: "A2"')
    assert merged["__typename"] == "RestructureSuccess", merged
    assert merged["impact"]["managers"] == ["mA1"]
    assert merged["impact"]["dropped"] == [{"kind": "DIRECT", "fromId": "A2", "toId": "A"}]
    records, _, _ = org.execute_query(
        "MATCH (m:Manager {id: 'mA1'})-[:MEMBER_OF]->(d) MATCH (s:Department {id: 'A1'}) "
        "RETURN d.id AS d, s.archived AS archived, COUNT { (s)--(:Department) } AS links",
        database_=DATABASE,
    )
    assert (records[0]["d"], records[0]["archived"], records[0]["links"]) == ("A2", True, 0)


async def test_products_stay_with_an_active_product_department(org: Driver, db: Db) -> None:
    """P1 offers p1. Merged into the client department B, B would offer it (createProduct
    refuses that); archived, p1 would be offered by no one who could ever move it on. Both are
    refused, dry runs too; merged into the product department P2, p1 goes with it."""
    for dept in ("P1", "P2"):
        made = await mutate(
            db, "createDepartment",
            f'id: "{dept}", name: "产品{dept}", function: PRODUCT, model: PRODUCT, parentId: "R"',
        )  # fmt: skip
        assert made["__typename"] == "RestructureSuccess", made
    product = (
        'mutation { createProduct(input: {id: "p1", name: "票据", category: LOAN, '
        'audience: CORPORATE, riskLevel: 2, departmentId: "P1"}) { __typename } }'
    )
    data, errors, _ = await execute(db, product)
    assert errors == [] and data == {"createProduct": {"__typename": "ProductSuccess"}}
    before = graph_snapshot(org)
    for dry_run in (True, False):
        into_client = await mutate(db, "mergeDepartments", 'sourceId: "P1", targetId: "B"', dry_run)
        assert (into_client["invariant"], into_client["nodeIds"]) == (
            "PRODUCT_DEPARTMENT", ["B", "p1"],
        )  # fmt: skip
        archived = await mutate(db, "archiveDepartment", 'departmentId: "P1"', dry_run)
        assert (archived["invariant"], archived["nodeIds"]) == ("ARCHIVE_EMPTY", ["p1"])
        assert "products ['p1']" in archived["message"]
    assert graph_snapshot(org) == before

    merged = await mutate(db, "mergeDepartments", 'sourceId: "P1", targetId: "P2"')
    assert merged["__typename"] == "RestructureSuccess", merged
    data, errors, _ = await execute(db, '{ auditLog(nodeId: "p1") { records { action } } }')
    assert errors == [] and data is not None
    assert [r["action"] for r in data["auditLog"]["records"]] == [
        "mergeDepartments", "createProduct",
    ]  # fmt: skip
    records, _, _ = org.execute_query(
        "MATCH (d:Department)-[:OFFERS]->(:Product {id: 'p1'}) RETURN collect(d.id) AS ids",
        database_=DATABASE,
    )
    assert records[0]["ids"] == ["P2"]


async def test_no_department_is_more_than_32_links_below_its_root(
    empty_graph: Driver, db: Db
) -> None:
    """D0 ← D1 ← … ← D32: D32 has 32 links above it, the most there may be. A department under
    it, or E1 (under E0) taken with E0 under D31, would have 33: refused (TREE_DEPTH)."""
    bank = BankRows()
    chain = [f"D{i}" for i in range(33)]
    bank.departments = [
        {"id": d, "name": d, "function": "CLIENT", "model": "REGION"} for d in [*chain, "E0", "E1"]
    ]
    bank.direct_links = [
        {"fromId": child, "toId": parent, "since": "2020-01-01"}
        for child, parent in [*zip(chain[1:], chain, strict=False), ("E1", "E0")]
    ]
    load(empty_graph, DATABASE, bank, quiet=True)
    before = graph_snapshot(empty_graph)
    too_deep = await mutate(
        db, "createDepartment", 'id: "D33", name: "深", function: CLIENT, model: REGION, '
        'parentId: "D32"',
    )  # fmt: skip
    assert (too_deep["invariant"], too_deep["nodeIds"]) == ("TREE_DEPTH", ["D33"])
    moved = await mutate(db, "moveDepartment", 'departmentId: "E0", newParentId: "D31"')
    assert (moved["invariant"], moved["nodeIds"]) == ("TREE_DEPTH", ["E1"])
    assert graph_snapshot(empty_graph) == before
    moved = await mutate(db, "moveDepartment", 'departmentId: "E0", newParentId: "D30"')
    assert moved["__typename"] == "RestructureSuccess", moved


async def test_a_department_merged_into_its_child_leaves_the_child_in_its_place(
    org: Driver, db: Db
) -> None:
    """A's children and members go to A1, and A1 takes A's place under R."""
    merged = await mutate(db, "mergeDepartments", 'sourceId: "A", targetId: "A1"')
    assert merged["__typename"] == "RestructureSuccess", merged
    assert merged["impact"]["linksAdded"] == [
        {"kind": "DIRECT", "fromId": "A1", "toId": "R"},
        {"kind": "DIRECT", "fromId": "A2", "toId": "A1"},
        {"kind": "CHECK_AND_BALANCE", "fromId": "K", "toId": "A1"},
    ]
    assert merged["impact"]["dropped"] == [{"kind": "DIRECT", "fromId": "A1", "toId": "A1"}]
    assert (parent_of(org, "A1"), parent_of(org, "A2")) == ("R", "A1")
    assert no_cycles(org)


async def test_assign_and_transfer_keep_history_and_segment(org: Driver, db: Db) -> None:
    moved = await mutate(db, "assignManager", 'managerId: "mB", departmentId: "A1"')
    assert moved["impact"]["departments"] == ["A1", "B"]
    transferred = await mutate(
        db, "transferClient", 'clientId: "c1", toManagerId: "mB", reason: "客户经理调岗"'
    )
    assert transferred["impact"]["clients"] == ["c1"]
    records, _, _ = org.execute_query(
        "MATCH (c:Client {id: 'c1'}) RETURN c.segment AS segment, c.version AS version, "
        "[(m)-[r:MANAGES]->(c) | [m.id, r.role]] AS now, "
        "[(m)-[r:MANAGED]->(c) | [m.id, r.role, r.reason]] AS history",
        database_=DATABASE,
    )
    row = records[0]
    assert (row["segment"], row["version"]) == ("EXISTING", 1)
    assert row["now"] == [["mB", "PRIMARY"]]
    assert row["history"] == [["mA1", "PRIMARY", "客户经理调岗"]]
    unknown = await mutate(
        db, "transferClient", 'clientId: "c1", toManagerId: "nobody", reason: "x"'
    )
    assert unknown == {"__typename": "NotFoundError", "kind": "Manager", "id": "nobody"}


async def test_concurrent_moves_never_make_a_cycle(org: Driver, db: Db) -> None:
    """A under B and B under A are each fine alone; together they would make a cycle."""
    other = Db(db.driver, db.database)
    first, second = await asyncio.gather(
        mutate(db, "moveDepartment", 'departmentId: "A", newParentId: "B"'),
        mutate(other, "moveDepartment", 'departmentId: "B", newParentId: "A"'),
    )
    outcomes = sorted([first["__typename"], second["__typename"]])
    assert outcomes == ["InvariantViolationError", "RestructureSuccess"]
    assert no_cycles(org)
    assert {parent_of(org, "A"), parent_of(org, "B")} in ({"B", "R"}, {"R", "A"})


async def test_concurrent_renames_one_wins(org: Driver, db: Db) -> None:
    other = Db(db.driver, db.database)
    results = await asyncio.gather(
        mutate(db, "renameDepartment", 'departmentId: "B", name: "甲", expectedVersion: 0'),
        mutate(other, "renameDepartment", 'departmentId: "B", name: "乙", expectedVersion: 0'),
    )
    assert sorted(r["__typename"] for r in results) == [
        "RestructureSuccess",
        "VersionConflictError",
    ]


async def test_audit_log_pages_newest_first(org: Driver, db: Db) -> None:
    for name in ("一", "二", "三"):
        await mutate(db, "renameDepartment", f'departmentId: "B", name: "{name}"')
    query = """query ($after: String) { auditLog(nodeId: "B", first: 2, after: $after) {
      records { after } endCursor } }"""
    page, errors, _ = await execute(db, query, {"after": None})
    assert errors == [] and page is not None
    assert ['"三"' in r["after"] for r in page["auditLog"]["records"]] == [True, False]
    rest, _, _ = await execute(db, query, {"after": page["auditLog"]["endCursor"]})
    assert rest is not None
    assert (
        len(rest["auditLog"]["records"]) == 1 and '"一"' in rest["auditLog"]["records"][0]["after"]
    )
    assert rest["auditLog"]["endCursor"] is None


EVERY_MUTATION = [
    ("createDepartment", 'id: "C", name: "新部门", function: CLIENT, model: REGION, parentId: "R"'),
    ("renameDepartment", 'departmentId: "A", name: "新名"'),
    ("archiveDepartment", 'departmentId: "A2"'),
    ("linkDepartments", 'fromId: "A1", toId: "B", kind: LINEAR'),
    ("unlinkDepartments", 'fromId: "K", toId: "A", kind: CHECK_AND_BALANCE'),
    ("moveDepartment", 'departmentId: "A2", newParentId: "B"'),
    ("mergeDepartments", 'sourceId: "A1", targetId: "A2"'),
    ("assignManager", 'managerId: "mB", departmentId: "A1"'),
    ("transferClient", 'clientId: "c1", toManagerId: "mB", reason: "调岗"'),
]


@pytest.mark.parametrize(("name", "input_"), EVERY_MUTATION)
async def test_every_dry_run_matches_the_real_change_and_writes_nothing(
    org: Driver, db: Db, name: str, input_: str
) -> None:
    before = graph_snapshot(org)
    dry = await mutate(db, name, input_, dry_run=True)
    assert dry["__typename"] == "RestructureSuccess" and dry["dryRun"] is True, dry
    assert graph_snapshot(org) == before
    real = await mutate(db, name, input_)
    assert real["impact"] == dry["impact"] and real["auditRecordId"]
    assert graph_snapshot(org) != before


@pytest.mark.parametrize(
    ("name", "input_", "node"),
    [
        ("renameDepartment", 'departmentId: "A", name: "x", expectedVersion: 3', "A"),
        ("archiveDepartment", 'departmentId: "A2", expectedVersion: 3', "A2"),
        ("linkDepartments", 'fromId: "A1", toId: "B", kind: LINEAR, expectedToVersion: 3', "B"),
        (
            "unlinkDepartments",
            'fromId: "K", toId: "A", kind: CHECK_AND_BALANCE, expectedFromVersion: 3',
            "K",
        ),
        ("moveDepartment", 'departmentId: "A2", newParentId: "B", expectedVersion: 3', "A2"),
        ("mergeDepartments", 'sourceId: "A1", targetId: "A2", expectedTargetVersion: 3', "A2"),
        ("assignManager", 'managerId: "mB", departmentId: "A1", expectedVersion: 3', "mB"),
        (
            "transferClient",
            'clientId: "c1", toManagerId: "mB", reason: "x", expectedVersion: 3',
            "c1",
        ),
    ],
)
async def test_every_versioned_mutation_refuses_a_stale_version(
    org: Driver, db: Db, name: str, input_: str, node: str
) -> None:
    before = graph_snapshot(org)
    result = await mutate(db, name, input_)
    assert result == {"__typename": "VersionConflictError", "id": node, "expectedVersion": 3,
                      "actualVersion": 0}  # fmt: skip
    assert graph_snapshot(org) == before


@pytest.fixture
def credit_org(empty_graph: Driver) -> Iterator[Driver]:
    """The organisation plus K2 (risk, under R) approving f1, which A1 granted to c1; and f2,
    granted by A1 and approved by A, its parent (not independent, as recorded)."""
    bank = build_org()
    bank.departments.append({"id": "K2", "name": "部门K2", "function": "RISK", "model": "CLIENT"})
    bank.direct_links.append({"fromId": "K2", "toId": "R", "since": "2020-01-01"})
    bank.facilities = [
        {"id": "f1", "borrowerId": "c1", "type": "LOAN", "limitCents": 100000, "drawnCents": 0,
         "currency": "CNY", "grantingDepartmentId": "A1", "approvingDepartmentId": "K2",
         "grantedAt": "2022-01-10"},
        # Imported as the credit system recorded it: approved by the grantor's own parent.
        {"id": "f2", "borrowerId": "c1", "type": "LOAN", "limitCents": 100000, "drawnCents": 0,
         "currency": "CNY", "grantingDepartmentId": "A1", "approvingDepartmentId": "A",
         "grantedAt": "2022-01-10"},
    ]  # fmt: skip
    load(empty_graph, DATABASE, bank, quiet=True)
    yield empty_graph


async def test_restructuring_keeps_approvers_independent(credit_org: Driver, db: Db) -> None:
    # Under A1 the approver would be the grantor's descendant; merged into A, its ancestor.
    for name, input_ in (
        ("moveDepartment", 'departmentId: "K2", newParentId: "A1"'),
        ("mergeDepartments", 'sourceId: "K2", targetId: "A"'),
        ("mergeDepartments", 'sourceId: "A1", targetId: "K2"'),
    ):
        before = graph_snapshot(credit_org)
        refused = await mutate(db, name, input_)
        assert refused["__typename"] == "InvariantViolationError", (name, refused)
        assert refused["invariant"] == "APPROVAL_INDEPENDENCE"
        # f1 is named; f2 was not independent before, so the change is not blamed for it.
        assert "f1" in refused["nodeIds"] and "f2" not in refused["nodeIds"]
        assert graph_snapshot(credit_org) == before
    # Elsewhere in the tree the approver stays independent.
    moved = await mutate(db, "moveDepartment", 'departmentId: "K2", newParentId: "B"')
    assert moved["__typename"] == "RestructureSuccess", moved
    # A change that leaves f2 as dependent as it was is not refused for it: A1 moves under A2,
    # still below A.
    moved = await mutate(db, "moveDepartment", 'departmentId: "A1", newParentId: "A2"')
    assert moved["__typename"] == "RestructureSuccess", moved


async def test_a_second_dependent_approval_does_not_let_the_independent_one_go(
    credit_org: Driver, db: Db
) -> None:
    """f1 is approved by K2 (independent) and also by A, A1's parent (not): under A1, K2 would
    be dependent too, leaving f1 no approval that counts. Refused, as without A's approval."""
    credit_org.execute_query(
        "MATCH (a:Department {id: 'A'}), (f:Facility {id: 'f1'}) "
        "CREATE (a)-[:APPROVED {at: date('2022-01-11')}]->(f)",
        database_=DATABASE,
    )
    before = graph_snapshot(credit_org)
    refused = await mutate(db, "moveDepartment", 'departmentId: "K2", newParentId: "A1"')
    assert refused["__typename"] == "InvariantViolationError", refused
    assert refused["invariant"] == "APPROVAL_INDEPENDENCE" and "f1" in refused["nodeIds"]
    assert graph_snapshot(credit_org) == before


async def test_a_dependent_approval_made_independent_by_a_move_is_withdrawn(
    credit_org: Driver, db: Db
) -> None:
    """A approved f2, granted by its own child A1: not independent, so nothing may be drawn.
    Moved under B, A1 is no longer A's: A's old decision would start to count. The move
    withdraws it instead (listed in the impact, the dry run's too) and f2 waits for an
    independent approval, as a new facility does."""
    move = (
        'mutation ($dry: Boolean!) { moveDepartment(dryRun: $dry, input: {departmentId: "A1", '
        'newParentId: "B"}) { ... on RestructureSuccess { impact { approvalsWithdrawn } } } }'
    )
    approval = "MATCH (a:Department)-[:APPROVED]->(:Facility {id: 'f2'}) RETURN collect(a.id) AS a"
    before = graph_snapshot(credit_org)
    for dry_run in (True, False):
        data, errors, _ = await execute(db, move, {"dry": dry_run})
        assert errors == [] and data is not None
        assert data["moveDepartment"]["impact"] == {"approvalsWithdrawn": ["f2"]}
        if dry_run:
            assert graph_snapshot(credit_org) == before
    records, _, _ = credit_org.execute_query(approval, database_=DATABASE)
    assert records[0]["a"] == []
    draw = 'mutation { drawFacility(input: {facilityId: "f2", amount: "1"}) { __typename %s } }'
    data, errors, _ = await execute(db, draw % "... on InvariantViolationError { invariant }")
    assert errors == [] and data is not None
    assert data["drawFacility"] == {
        "__typename": "InvariantViolationError", "invariant": "FACILITY_APPROVED",
    }  # fmt: skip
    data, errors, _ = await execute(
        db, '{ auditLog(nodeId: "f2") { records { action before } } }'
    )  # fmt: skip
    assert errors == [] and data is not None
    [record] = data["auditLog"]["records"]
    assert record["action"] == "moveDepartment"
    assert '"approvalsWithdrawn": {"f2": ["A"]}' in record["before"]
    # K2 (risk, under R) is independent of A1: its approval counts, and money may be drawn.
    data, errors, _ = await execute(
        db,
        'mutation { approveFacility(input: {facilityId: "f2", approvingDepartmentId: "K2"}) '
        "{ __typename } }",
    )
    assert errors == [] and data == {"approveFacility": {"__typename": "FacilitySuccess"}}
    data, errors, _ = await execute(db, draw % "")
    assert errors == [] and data == {"drawFacility": {"__typename": "FacilitySuccess"}}


async def test_a_merge_withdraws_a_dependent_approval_it_would_make_count(
    credit_org: Driver, db: Db
) -> None:
    # A1 merged into B: B grants f1 and f2; A, f2's approver, is not B's ancestor.
    merged = await mutate(db, "mergeDepartments", 'sourceId: "A1", targetId: "B"')
    assert merged["__typename"] == "RestructureSuccess", merged
    records, _, _ = credit_org.execute_query(
        "MATCH (f:Facility) RETURN f.id AS id, COLLECT { MATCH (a)-[:APPROVED]->(f) "
        "RETURN a.id } AS approvers ORDER BY id",
        database_=DATABASE,
    )
    assert [(r["id"], r["approvers"]) for r in records] == [("f1", ["K2"]), ("f2", [])]


async def test_a_move_that_leaves_a_dependent_approval_dependent_keeps_it(
    credit_org: Driver, db: Db
) -> None:
    moved = (
        'mutation { moveDepartment(input: {departmentId: "A1", newParentId: "A2"}) '
        "{ ... on RestructureSuccess { impact { approvalsWithdrawn } } } }"
    )
    data, errors, _ = await execute(db, moved)
    assert errors == [] and data == {"moveDepartment": {"impact": {"approvalsWithdrawn": []}}}
    records, _, _ = credit_org.execute_query(
        "MATCH (a:Department)-[:APPROVED]->(:Facility {id: 'f2'}) RETURN collect(a.id) AS a",
        database_=DATABASE,
    )
    assert records[0]["a"] == ["A"]


async def test_a_merge_names_and_audits_the_facilities_it_hands_over(
    credit_org: Driver, db: Db
) -> None:
    """A1 granted f1 and f2; merged into A2, A2 grants them: the impact lists them (the dry
    run's too) and each has the merge in its audit log."""
    merge = (
        'mutation ($dry: Boolean!) { mergeDepartments(dryRun: $dry, input: {sourceId: "A1", '
        'targetId: "A2"}) { ... on RestructureSuccess { impact { facilities products } } } }'
    )
    for dry_run in (True, False):
        data, errors, _ = await execute(db, merge, {"dry": dry_run})
        assert errors == [] and data is not None
        impact = data["mergeDepartments"]["impact"]
        assert impact == {"facilities": ["f1", "f2"], "products": []}
    for facility in ("f1", "f2"):
        data, errors, _ = await execute(
            db, "query ($id: ID!) { auditLog(nodeId: $id) { records { action } } }",
            {"id": facility},
        )  # fmt: skip
        assert errors == [] and data is not None
        assert [r["action"] for r in data["auditLog"]["records"]] == ["mergeDepartments"]


async def test_a_closed_facility_does_not_hold_restructuring_back(
    credit_org: Driver, db: Db
) -> None:
    """f1 is repaid (nothing drawn) and closed: its approver's independence no longer matters."""
    data, errors, _ = await execute(
        db, 'mutation { closeFacility(input: {facilityId: "f1"}) { __typename } }'
    )
    assert errors == [] and data == {"closeFacility": {"__typename": "FacilitySuccess"}}
    moved = await mutate(db, "moveDepartment", 'departmentId: "K2", newParentId: "A1"')
    assert moved["__typename"] == "RestructureSuccess", moved


async def test_a_department_with_open_facilities_is_not_archived(
    credit_org: Driver, db: Db
) -> None:
    """K2 has no members, children, clients or products, but approved f1, still open: archived,
    it could never hand f1 on (a merge takes no archived source). Once f1 is closed, it may go."""
    before = graph_snapshot(credit_org)
    for dry_run in (True, False):
        refused = await mutate(db, "archiveDepartment", 'departmentId: "K2"', dry_run)
        assert (refused["invariant"], refused["nodeIds"]) == ("ARCHIVE_EMPTY", ["f1"])
        assert "open facilities ['f1']" in refused["message"]
    assert graph_snapshot(credit_org) == before
    data, errors, _ = await execute(
        db, 'mutation { closeFacility(input: {facilityId: "f1"}) { __typename } }'
    )
    assert errors == [] and data == {"closeFacility": {"__typename": "FacilitySuccess"}}
    archived = await mutate(db, "archiveDepartment", 'departmentId: "K2"')
    assert archived["__typename"] == "RestructureSuccess", archived


@pytest.mark.parametrize(
    ("name", "input_", "field"),
    [
        ("createDepartment", 'id: "T", name: "新\\t组", function: CLIENT, model: REGION', "name"),
        ("renameDepartment", 'departmentId: "A", name: "删\\u007f除"', "name"),
        ("linkDepartments", f'fromId: "A1", toId: "B", kind: LINEAR, note: "{"说明" * 1001}"',
         "note"),
    ],
)  # fmt: skip
async def test_text_the_csv_files_could_not_hold_is_refused(
    org: Driver, db: Db, name: str, input_: str, field: str
) -> None:
    """Export writes what the mutations wrote; an import of it must take it back."""
    before = graph_snapshot(org)
    result = await mutate(db, name, input_)
    assert result == {"__typename": "ValidationError", "field": field}
    assert graph_snapshot(org) == before
