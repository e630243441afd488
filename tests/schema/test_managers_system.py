"""The managers' system through GraphQL on a hand-built bank: promotions under the table and
exceptionally, key-account grades at their threshold edges, the pipeline's order and the 存量
rule, complaints, overdue visits, and performance rolled up a hand-built department tree."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from neo4j import Driver

from api.auth import Principal, Role
from graph import key_accounts
from graph.bank_rows import BankRows
from graph.db import Db
from graph.migrations import migrate
from schema import managers_system
from seeds.loader import load
from tests.conftest import DATABASE, graph_snapshot
from tests.gql import execute

ERRORS = """
... on NotFoundError { kind id }
... on ValidationError { field message }
... on InvariantViolationError { invariant message nodeIds }
"""
REFUSED = "... on PromotionRefusedError { message unmet requirements { row met unmet } }"


def _manager(id_: str, level: str, education: str, title: str, years: int, dept: str) -> Any:
    return {"id": id_, "name": id_, "level": level, "education": education, "title": title,
            "creditYears": years, "departmentId": dept, "reportsToId": None,
            "since": "2020-01-01"}  # fmt: skip


def _client(id_: str, segment: str = "EXISTING", status: str = "ACTIVE") -> Any:
    return {"id": id_, "name": id_, "kind": "CORPORATE", "segment": segment, "status": status,
            "grade": None, "riskRating": 2, "industry": None, "region": None}  # fmt: skip


def _link(child: str, parent: str) -> Any:
    return {"fromId": child, "toId": parent, "since": "2020-01-01"}


@pytest.fixture
def bank(empty_graph: Driver) -> Iterator[Driver]:
    """A department tree root ← a ← a1, root ← b (and an unrelated x); a manager in each; and a
    product department with a child and no managers."""
    rows = BankRows()
    for dept in ("d-root", "d-a", "d-a1", "d-b", "d-x", "d-prod", "d-prod-1"):
        rows.departments.append({"id": dept, "name": dept, "function": "CLIENT", "model": "CLIENT"})
    rows.direct_links += [_link("d-a", "d-root"), _link("d-a1", "d-a"), _link("d-b", "d-root"),
                          _link("d-prod-1", "d-prod")]  # fmt: skip
    rows.managers += [
        _manager("m-root", "PRINCIPAL", "MASTER", "SENIOR", 10, "d-root"),
        _manager("m-a", "MANAGER", "BACHELOR", "NONE", 2, "d-a"),
        _manager("m-a1", "MANAGER", "COLLEGE", "NONE", 1, "d-a1"),
        _manager("m-b", "ASSISTANT", "BACHELOR", "NONE", 0, "d-b"),
        _manager("m-x", "SENIOR", "MASTER", "NONE", 5, "d-x"),
    ]
    rows.products.append({"id": "p-dep", "name": "存款", "category": "DEPOSIT", "audience": "ALL",
                          "riskLevel": 1, "departmentId": "d-prod"})  # fmt: skip
    # Key-account edges in m-a's book (thresholds set by the tests: A 1000, B 500, C 100).
    balances = {"c-a": 100000, "c-b": 99999, "c-c": 50000, "c-d": 49999, "c-e": 10000,
                "c-f": 9999, "c-g": 0, "c-h": 0}  # fmt: skip
    for client, cents in balances.items():
        rows.clients.append(_client(client))
        rows.manages.append({"managerId": "m-a", "clientId": client, "role": "PRIMARY",
                             "since": "2020-01-01"})  # fmt: skip
        if cents:
            rows.holdings.append({"clientId": client, "productId": "p-dep", "balanceCents": cents,
                                  "since": "2020-01-01", "active": True})  # fmt: skip
    # One client each for the others; m-a1's is a prospect, m-b's new.
    for client, mgr, segment, status in (("c-root", "m-root", "EXISTING", "ACTIVE"),
                                         ("c-a1", "m-a1", "NEW", "PROSPECT"),
                                         ("c-b1", "m-b", "NEW", "ACTIVE"),
                                         ("c-x", "m-x", "EXISTING", "ACTIVE")):  # fmt: skip
        rows.clients.append(_client(client, segment, status))
        rows.manages.append({"managerId": mgr, "clientId": client, "role": "PRIMARY",
                             "since": "2020-01-01"})  # fmt: skip
        rows.holdings.append({"clientId": client, "productId": "p-dep", "balanceCents": 1000,
                              "since": "2020-01-01", "active": True})  # fmt: skip
    migrate(empty_graph, DATABASE)
    load(empty_graph, DATABASE, rows, quiet=True)
    yield empty_graph


async def run(db: Db, query: str, variables: dict[str, Any] | None = None,
              principal: Principal | None = None) -> dict[str, Any]:  # fmt: skip
    kwargs = {"principal": principal} if principal else {}
    data, errors, _ = await execute(db, query, variables, **kwargs)
    assert errors == [], errors
    assert data is not None
    return data


PROMOTE = (
    """mutation ($input: PromoteManagerInput!) { promoteManager(input: $input) {
  __typename ... on GradeChange { fromGrade toGrade exceptional reason kind } """
    + ERRORS
    + REFUSED
    + "} }"
)
DEMOTE = (
    """mutation ($input: DemoteManagerInput!) { demoteManager(input: $input) {
  __typename ... on GradeChange { fromGrade toGrade kind reason } """
    + ERRORS
    + REFUSED
    + "} }"
)


async def level(driver: Driver, manager_id: str) -> str:
    records, _, _ = driver.execute_query(
        "MATCH (m:Manager {id: $id}) RETURN m.level AS level", id=manager_id, database_=DATABASE
    )
    return str(records[0]["level"])


async def test_eligibility_names_the_next_grade_and_each_row(bank: Driver, db: Db) -> None:
    query = """query ($id: ID!) { promotionEligibility(managerId: $id) {
      current { code } next { code certificate } eligible requirements { row met unmet } } }"""
    data = await run(db, query, {"id": "m-a"})  # bachelor's, 2 years: SENIOR row 2
    found = data["promotionEligibility"]
    assert found["current"] == {"code": "MANAGER"}
    assert found["next"] == {"code": "SENIOR", "certificate": "高级客户经理"}
    assert found["eligible"] is True
    assert [r["met"] for r in found["requirements"]] == [False, True, False]
    data = await run(db, query, {"id": "m-root"})
    assert data["promotionEligibility"]["next"] is None  # top of the series
    data = await run(db, query, {"id": "nobody"})
    assert data["promotionEligibility"] is None
    # m-b (ASSISTANT, no rows met) qualifies once MANAGER's rows are removed, as promoteManager
    # would then agree.
    assert (await run(db, query, {"id": "m-b"}))["promotionEligibility"]["eligible"] is False
    bank.execute_query(
        "MATCH (:GradeRequirement)-[:QUALIFIES_FOR]->(g:Grade {code: 'MANAGER'}) "
        "WITH g MATCH (q:GradeRequirement)-[:QUALIFIES_FOR]->(g) DETACH DELETE q",
        database_=DATABASE,
    )
    found = (await run(db, query, {"id": "m-b"}))["promotionEligibility"]
    assert (found["eligible"], found["requirements"]) == (True, [])
    promoted = await run(db, PROMOTE, {"input": {"managerId": "m-b", "toLevel": "MANAGER"}})
    assert promoted["promoteManager"]["toGrade"] == "MANAGER"


async def test_promotion_follows_the_table_and_is_recorded(bank: Driver, db: Db) -> None:
    data = await run(db, PROMOTE, {"input": {"managerId": "m-a", "toLevel": "SENIOR"}})
    assert data["promoteManager"] == {"__typename": "GradeChange", "fromGrade": "MANAGER",
                                      "toGrade": "SENIOR", "exceptional": False, "reason": None,
                                      "kind": "PROMOTION"}  # fmt: skip
    assert await level(bank, "m-a") == "SENIOR"
    records, _, _ = bank.execute_query(
        "MATCH (c:GradeChange)-[:OF]->(:Manager {id: 'm-a'}) RETURN c.toGrade AS to, c.by AS by",
        database_=DATABASE,
    )
    assert [r.data() for r in records] == [{"to": "SENIOR", "by": "test-admin"}]


async def test_refused_promotions_list_what_is_unmet_and_write_nothing(
    bank: Driver, db: Db
) -> None:
    before = graph_snapshot(bank)
    # College, 1 year: no SENIOR row is met.
    data = await run(db, PROMOTE, {"input": {"managerId": "m-a1", "toLevel": "SENIOR"}})
    refused = data["promoteManager"]
    assert refused["__typename"] == "PromotionRefusedError"
    assert [r["met"] for r in refused["requirements"]] == [False, False, False]
    assert "row 3 (college degree or junior professional title or above, 3 years of credit " \
        "work): has 1 of 3 years of credit work" in refused["unmet"]  # fmt: skip
    # Skipping a grade is refused even when the target's rows would be met.
    data = await run(db, PROMOTE, {"input": {"managerId": "m-b", "toLevel": "SENIOR"}})
    assert data["promoteManager"]["unmet"][0] == "skips 1 grade(s)"
    # Exceptional without a reason; a grade that does not exist; a promotion downwards.
    data = await run(db, PROMOTE, {"input": {"managerId": "m-a1", "toLevel": "SENIOR",
                                             "exceptional": True}})  # fmt: skip
    assert data["promoteManager"]["field"] == "reason"
    data = await run(db, PROMOTE, {"input": {"managerId": "m-a1", "toLevel": "CHIEF"}})
    assert data["promoteManager"]["field"] == "toLevel"
    data = await run(db, PROMOTE, {"input": {"managerId": "m-x", "toLevel": "MANAGER"}})
    assert data["promoteManager"]["field"] == "toLevel"
    data = await run(db, PROMOTE, {"input": {"managerId": "nobody", "toLevel": "SENIOR"}})
    assert data["promoteManager"] == {"__typename": "NotFoundError", "kind": "Manager",
                                      "id": "nobody"}  # fmt: skip
    assert graph_snapshot(bank) == before


async def test_exceptional_promotion_needs_a_reason_and_is_recorded(bank: Driver, db: Db) -> None:
    reason = "outstanding results: 3 new key accounts in one year"
    data = await run(db, PROMOTE, {"input": {"managerId": "m-a1", "toLevel": "SENIOR",
                                             "exceptional": True, "reason": reason}})  # fmt: skip
    assert data["promoteManager"]["exceptional"] is True
    assert data["promoteManager"]["reason"] == reason
    assert await level(bank, "m-a1") == "SENIOR"
    # m-a meets a SENIOR row: asked as exceptional, the promotion passes over nothing and is
    # recorded as the ordinary one it is (with its reason).
    data = await run(db, PROMOTE, {"input": {"managerId": "m-a", "toLevel": "SENIOR",
                                             "exceptional": True, "reason": reason}})  # fmt: skip
    assert (data["promoteManager"]["exceptional"], data["promoteManager"]["reason"]) == (
        False, reason,
    )  # fmt: skip
    records, _, _ = bank.execute_query(
        "MATCH (c:GradeChange)-[:OF]->(:Manager {id: 'm-a'}) RETURN c.exceptional AS e",
        database_=DATABASE,
    )
    assert [r["e"] for r in records] == [False]


async def test_demotion_goes_one_grade_down_with_a_reason(bank: Driver, db: Db) -> None:
    data = await run(db, DEMOTE, {"input": {"managerId": "m-x", "toLevel": "MANAGER",
                                            "reason": "missed targets after retraining"}})  # fmt: skip
    assert data["demoteManager"]["kind"] == "DEMOTION"
    assert await level(bank, "m-x") == "MANAGER"
    data = await run(db, DEMOTE, {"input": {"managerId": "m-x", "toLevel": "ASSISTANT",
                                            "reason": "  "}})  # fmt: skip
    assert data["demoteManager"]["field"] == "reason"
    data = await run(db, DEMOTE, {"input": {"managerId": "m-root", "toLevel": "MANAGER",
                                            "reason": "two down"}})  # fmt: skip
    assert data["demoteManager"]["field"] == "toLevel"


HISTORY = """query ($id: ID!, $scheme: String) { gradeHistory(managerId: $id, scheme: $scheme) {
  managerId scheme kind fromGrade toGrade exceptional reason } }"""


async def test_grade_history_newest_first_and_own_only(bank: Driver, db: Db) -> None:
    await run(db, DEMOTE, {"input": {"managerId": "m-x", "toLevel": "MANAGER",
                                     "reason": "missed targets after retraining"}})  # fmt: skip
    await run(db, PROMOTE, {"input": {"managerId": "m-x", "toLevel": "SENIOR",
                                      "exceptional": True, "reason": "turned around"}})  # fmt: skip
    await run(db, PROMOTE, {"input": {"managerId": "m-x", "scheme": "SECURITIES",
                                      "toLevel": "TWO_STAR"}})  # fmt: skip
    common = {"managerId": "m-x", "exceptional": False, "reason": None}
    sales = {**common, "scheme": "SECURITIES", "kind": "PROMOTION", "fromGrade": None,
             "toGrade": "TWO_STAR"}  # fmt: skip
    # Asked as exceptional, but m-x meets a SENIOR row: recorded as ordinary, with its reason.
    up = {**common, "scheme": "BANK", "kind": "PROMOTION", "fromGrade": "MANAGER",
          "toGrade": "SENIOR", "exceptional": False, "reason": "turned around"}  # fmt: skip
    down = {**common, "scheme": "BANK", "kind": "DEMOTION", "fromGrade": "SENIOR",
            "toGrade": "MANAGER", "reason": "missed targets after retraining"}  # fmt: skip
    data = await run(db, HISTORY, {"id": "m-x"})
    assert data == {"gradeHistory": [sales, up, down]}
    data = await run(db, HISTORY, {"id": "m-x", "scheme": "BANK"})
    assert data == {"gradeHistory": [up, down]}
    assert await run(db, HISTORY, {"id": "m-a"}) == {"gradeHistory": []}
    assert await run(db, HISTORY, {"id": "nobody"}) == {"gradeHistory": None}
    # A manager reads their own history only.
    me = Principal("m-x", Role.MANAGER, "m-x")
    assert (await run(db, HISTORY, {"id": "m-x", "scheme": "BANK"}, me))["gradeHistory"] == [
        up,
        down,
    ]
    other, errors, _ = await execute(db, HISTORY, {"id": "m-a"}, principal=me)
    assert other == {"gradeHistory": None}
    assert [e.extensions["code"] for e in errors] == ["FORBIDDEN"]


async def test_a_second_scheme_is_data_not_code(bank: Driver, db: Db) -> None:
    securities = {"managerId": "m-b", "scheme": "SECURITIES"}
    data = await run(db, PROMOTE, {"input": {**securities, "toLevel": "TWO_STAR"}})
    assert data["promoteManager"]["toGrade"] == "TWO_STAR"  # entry grade of the sales series
    data = await run(db, PROMOTE, {"input": {**securities, "toLevel": "THREE_STAR"}})
    assert data["promoteManager"]["__typename"] == "PromotionRefusedError"  # 0 of 1 year
    data = await run(db, PROMOTE, {"input": {**securities, "toLevel": "AREA_MANAGER"}})
    assert data["promoteManager"]["field"] == "toLevel"  # another series
    assert await level(bank, "m-b") == "ASSISTANT"  # the bank grade is untouched


THRESHOLDS = """mutation ($input: KeyAccountThresholdsInput!) {
  setKeyAccountThresholds(input: $input) { __typename ... on ValidationError { field } } }"""
GRADE = """mutation ($dry: Boolean!) { gradeClients(dryRun: $dry) {
  ... on GradeClientsSuccess { dryRun changed { clientId before after } } } }"""


async def test_key_account_grades_at_their_edges(bank: Driver, db: Db) -> None:
    edges = {"aPurchases": "1000.00", "aShare": 0.9, "bPurchases": "500.00", "bShare": 0.9,
             "cPurchases": "100.00"}  # fmt: skip
    data = await run(db, THRESHOLDS, {"input": edges})
    assert data["setKeyAccountThresholds"]["__typename"] == "ThresholdsSuccess"
    bad = await run(db, THRESHOLDS, {"input": {**edges, "bPurchases": "2000.00"}})
    assert bad["setKeyAccountThresholds"] == {
        "__typename": "ValidationError",
        "field": "aPurchases",
    }
    potential = """mutation ($id: ID!, $p: String) { setClientPotential(input: {clientId: $id,
      potential: $p}) { __typename } }"""
    await run(db, potential, {"id": "c-g", "p": "HIGH"})
    await run(db, potential, {"id": "c-h", "p": "MEDIUM"})
    before = graph_snapshot(bank)
    dry = (await run(db, GRADE, {"dry": True}))["gradeClients"]
    assert graph_snapshot(bank) == before
    # Exactly at a threshold is not above it: c-a (1000.00) is B, c-c (500.00) C, c-e none.
    expected = {"c-a": "B", "c-b": "B", "c-c": "C", "c-d": "C", "c-g": "B", "c-h": "C",
                # alone in their managers' books: all of the book, a share above 90%
                "c-root": "A", "c-a1": "A", "c-b1": "A", "c-x": "A"}  # fmt: skip
    assert dry["dryRun"] is True
    assert {c["clientId"]: c["after"] for c in dry["changed"]} == expected  # c-e, c-f: none
    done = (await run(db, GRADE, {"dry": False}))["gradeClients"]
    assert done["changed"] == dry["changed"]
    # Each client's audit log shows its own change.
    audit = await run(
        db, '{ auditLog(nodeId: "c-a", first: 1) { records { action before after } } }'
    )
    assert audit["auditLog"]["records"] == [
        {"action": "gradeClients", "before": '{"grade": null}', "after": '{"grade": "B"}'}
    ]
    again = (await run(db, GRADE, {"dry": False}))["gradeClients"]
    assert again["changed"] == []
    plan = await run(db, '{ client(id: "c-a") { grade managementPlan { visitEveryDays } } }')
    assert plan["client"] == {"grade": "B", "managementPlan": {"visitEveryDays": 60}}
    # A cent lower, the clients at the old thresholds are above the new ones.
    lower = {**edges, "aPurchases": "999.99", "bPurchases": "499.99", "cPurchases": "99.99"}
    assert (await run(db, THRESHOLDS, {"input": lower}))["setKeyAccountThresholds"]
    regraded = (await run(db, GRADE, {"dry": True}))["gradeClients"]["changed"]
    assert {c["clientId"]: c["after"] for c in regraded} == {"c-a": "A", "c-c": "B", "c-e": "C"}


COUNTED = """mutation ($dry: Boolean!) { gradeClients(dryRun: $dry) {
  ... on GradeClientsSuccess { changedCount changed { clientId before after } } } }"""


async def test_grading_goes_book_by_book(
    bank: Driver, db: Db, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each book in a transaction of its own grades as all in one do (a bank's 100,000 clients
    in one ran past the time limit); a client in no book is graded by its purchases alone, not as
    a share of a pool of such clients; and the answer lists the first changes, counting all."""
    everything = (await run(db, COUNTED, {"dry": True}))["gradeClients"]
    assert everything["changedCount"] == len(everything["changed"]) > 0
    monkeypatch.setattr(key_accounts, "GRADING_BATCH", 1)
    assert (await run(db, COUNTED, {"dry": True}))["gradeClients"] == everything
    assert (await run(db, COUNTED, {"dry": False}))["gradeClients"] == everything
    records, _, _ = bank.execute_query(
        "MATCH (a:AuditRecord {action: 'gradeClients'}) RETURN a.input AS input ORDER BY input",
        database_=DATABASE,
    )
    # m-a, m-a1, m-b, m-root and m-x's books, then the clients in none and the archived.
    assert [json.loads(r["input"]) for r in records] == [{"batch": n} for n in range(1, 7)]
    # c-b, for a moment the primary client of m-b as well as m-a's (as between the rows of an
    # imported transfer), counts in one book: m-a's, the first by id. Counted in m-b's too, it
    # would have taken c-b1's share of that book from all to a hundredth (no longer A).
    bank.execute_query(
        "MATCH (b:Manager {id: 'm-b'}), (c:Client {id: 'c-b'}) "
        "CREATE (b)-[:MANAGES {role: 'PRIMARY', since: date('2024-01-01')}]->(c)",
        database_=DATABASE,
    )
    assert (await run(db, COUNTED, {"dry": True}))["gradeClients"] == {
        "changedCount": 0, "changed": [],
    }  # fmt: skip
    bank.execute_query(
        "MATCH (:Manager {id: 'm-b'})-[r:MANAGES]->(:Client {id: 'c-b'}) DELETE r",
        database_=DATABASE,
    )
    # c-b1 and c-x, 10.00 each, were all of their managers' books (A); in none, they are not a
    # half each of a pool of two (A again), but 10.00 of purchases: no grade.
    bank.execute_query(
        "MATCH (:Manager)-[r:MANAGES]->(c:Client) WHERE c.id IN ['c-b1', 'c-x'] DELETE r",
        database_=DATABASE,
    )
    unbooked = (await run(db, COUNTED, {"dry": True}))["gradeClients"]
    assert unbooked == {"changedCount": 2, "changed": [
        {"clientId": "c-b1", "before": "A", "after": None},
        {"clientId": "c-x", "before": "A", "after": None},
    ]}  # fmt: skip
    monkeypatch.setattr(managers_system, "GRADE_CHANGES_LISTED", 1)
    listed = (await run(db, COUNTED, {"dry": True}))["gradeClients"]
    assert listed == {"changedCount": 2, "changed": unbooked["changed"][:1]}


def test_books_are_batched_whole() -> None:
    books = [("m-1", 3), ("m-2", 2), ("m-3", 9), ("m-4", 1), ("m-5", 4)]
    assert key_accounts.grading_batches(books, 5) == [["m-1", "m-2"], ["m-3"], ["m-4", "m-5"]]
    assert key_accounts.grading_batches([], 5) == []


async def test_an_archived_client_keeps_no_grade(bank: Driver, db: Db) -> None:
    await run(db, GRADE, {"dry": False})
    archived = await run(
        db, 'mutation { archiveClient(input: {clientId: "c-x"}) { __typename '
        "... on ClientSuccess { client { status grade } } } }",
    )  # fmt: skip
    assert archived["archiveClient"]["client"] == {"status": "ARCHIVED", "grade": None}
    listed = await run(db, "{ clients(filter: {grade: A}, first: 50) { edges { node { id } } } }")
    assert "c-x" not in [e["node"]["id"] for e in listed["clients"]["edges"]]
    # One imported archived with its grade loses it at the next grading.
    bank.execute_query(
        "MATCH (c:Client {id: 'c-x'}) SET c.grade = 'B'", database_=DATABASE
    )  # fmt: skip
    graded = (await run(db, GRADE, {"dry": False}))["gradeClients"]["changed"]
    assert graded == [{"clientId": "c-x", "before": "B", "after": None}]


MOVE = (
    """mutation ($id: ID!, $to: Stage!) { movePipeline(input: {clientId: $id, toStage: $to}) {
  __typename ... on PipelineMove { fromStage toStage } """
    + ERRORS
    + "} }"
)


async def _visit(db: Db, client_id: str, manager_id: str) -> None:
    """A visit on record, which a prospect needs before it is VISITED."""
    visit = {"clientId": client_id, "managerId": manager_id, "kind": "VISIT"}
    assert (await run(db, INTERACT, {"input": visit}))["recordInteraction"]["id"]


async def test_pipeline_moves_in_order_and_only_prospects_enter(bank: Driver, db: Db) -> None:
    for stage in ("TARGET", "VISIT_PLANNED", "APPOINTMENT"):
        data = await run(db, MOVE, {"id": "c-a1", "to": stage})
        assert data["movePipeline"]["toStage"] == stage
    before = graph_snapshot(bank)
    data = await run(db, MOVE, {"id": "c-a1", "to": "ACTIVE"})  # skips VISITED
    assert data["movePipeline"]["invariant"] == "PIPELINE_ORDER"
    assert "from APPOINTMENT the next stage is VISITED, LOST" in data["movePipeline"]["message"]
    data = await run(db, MOVE, {"id": "c-root", "to": "TARGET"})  # 存量 never enters
    assert data["movePipeline"]["invariant"] == "EXISTING_NEVER_IN_PIPELINE"
    data = await run(db, MOVE, {"id": "c-b1", "to": "TARGET"})  # active already
    assert data["movePipeline"]["invariant"] == "PROSPECTS_ONLY"
    # The shortcut around the pipeline is closed too.
    update = """mutation { updateClient(input: {clientId: "c-a1", status: ACTIVE}) {
      __typename ... on InvariantViolationError { invariant } } }"""
    assert (await run(db, update))["updateClient"]["invariant"] == "PIPELINE_ONLY"
    assert graph_snapshot(bank) == before
    # A visit on record is needed, and one from before the prospect was targeted is not it.
    old = {"clientId": "c-a1", "managerId": "m-a1", "kind": "VISIT", "at": days_ago(10)}
    assert (await run(db, INTERACT, {"input": old}))["recordInteraction"]["id"]
    refused = await run(db, MOVE, {"id": "c-a1", "to": "VISITED"})
    assert refused["movePipeline"]["invariant"] == "VISIT_RECORDED"
    await _visit(db, "c-a1", "m-a1")
    for stage in ("VISITED", "ACTIVE"):
        await run(db, MOVE, {"id": "c-a1", "to": stage})
    client = await run(db, '{ client(id: "c-a1") { status segment pipelineStage '
                           "pipelineHistory { fromStage toStage by } } }")  # fmt: skip
    found = client["client"]
    assert (found["status"], found["segment"], found["pipelineStage"]) == (
        "ACTIVE",
        "NEW",
        "ACTIVE",
    )
    assert [m["toStage"] for m in found["pipelineHistory"]] == [
        "ACTIVE", "VISITED", "APPOINTMENT", "VISIT_PLANNED", "TARGET",
    ]  # fmt: skip
    # Moves made within one tick of the clock keep the order they were made in.
    bank.execute_query(
        "MATCH (m:PipelineMove)-[:OF]->(:Client {id: 'c-a1'}) SET m.at = datetime('2026-01-01')",
        database_=DATABASE,
    )
    again = await run(db, '{ client(id: "c-a1") { pipelineHistory { toStage } } }')
    assert again["client"]["pipelineHistory"] == [
        {"toStage": m["toStage"]} for m in found["pipelineHistory"]
    ]
    data = await run(db, MOVE, {"id": "c-a1", "to": "LOST"})
    assert "nothing: the pipeline is closed" in data["movePipeline"]["message"]


async def test_a_win_stays_with_the_manager_who_won_the_client(bank: Driver, db: Db) -> None:
    """c-a1, m-a1's prospect, goes through the pipeline to ACTIVE (moved by an admin): m-a1 won
    it, and keeps the win when the client is transferred to m-b."""
    await _visit(db, "c-a1", "m-a1")
    for stage in ("TARGET", "VISIT_PLANNED", "APPOINTMENT", "VISITED", "ACTIVE"):
        assert (await run(db, MOVE, {"id": "c-a1", "to": stage}))["movePipeline"]["toStage"]
    transfer = (
        'mutation { transferClient(input: {clientId: "c-a1", toManagerId: "m-b", '
        'reason: "调岗"}) { __typename } }'
    )
    assert (await run(db, transfer))["transferClient"]["__typename"] == "RestructureSuccess"
    # The win is in the audit of the client and of the manager credited with it.
    for node in ("c-a1", "m-a1"):
        audit = await run(
            db,
            "query ($id: ID!) { auditLog(nodeId: $id, first: 5) { records { action before after"
            " } } }",
            {"id": node},
        )
        [win] = [r for r in audit["auditLog"]["records"] if '"ACTIVE"' in r["after"]]
        assert win["action"] == "movePipeline"
        assert json.loads(win["before"]) == {
            "stage": "VISITED", "status": "PROSPECT", "segment": "NEW",
        }  # fmt: skip
        assert json.loads(win["after"]) == {
            "stage": "ACTIVE", "status": "ACTIVE", "segment": "NEW", "wonBy": ["m-a1"],
        }  # fmt: skip
    won = {}
    for manager in ("m-a1", "m-b"):
        found = (await run(db, PERFORMANCE, {"m": manager, "d": None}))["performance"]["total"]
        won[manager] = (found["won"], found["clients"])
    assert won == {"m-a1": (1, 0), "m-b": (0, 2)}
    outside = """{ performance(managerId: "m-a1", period: {from: "2020-01-01", to: "2020-12-31"})
      { total { won } } }"""
    assert (await run(db, outside))["performance"]["total"]["won"] == 0


def test_the_migration_credits_wins_recorded_before_wins_were(bank: Driver) -> None:
    """A move to ACTIVE without WON_BY goes to the client's primary manager, once."""
    bank.execute_query(
        "MATCH (c:Client {id: 'c-b1'}) CREATE (:PipelineMove {id: 'old-win', toStage: 'ACTIVE', "
        "fromStage: 'VISITED', at: datetime('2024-05-01T10:00:00Z'), by: 'legacy'})-[:OF]->(c)",
        database_=DATABASE,
    )
    for _ in range(2):
        migrate(bank, DATABASE)
    records, _, _ = bank.execute_query(
        "MATCH (:PipelineMove {id: 'old-win'})-[:WON_BY]->(m) RETURN collect(m.id) AS ids",
        database_=DATABASE,
    )
    assert records[0]["ids"] == ["m-b"]


async def test_a_new_client_is_not_created_active(bank: Driver, db: Db) -> None:
    create = """mutation { createClient(input: {id: "c-new", name: "新客户", kind: CORPORATE,
      segment: NEW, status: ACTIVE, riskRating: 2, primaryManagerId: "m-a"}) {
      __typename ... on ValidationError { field message } } }"""
    data = await run(db, create)
    assert data["createClient"]["field"] == "status"
    assert "through the pipeline" in data["createClient"]["message"]


async def test_a_prospect_is_won_once_it_has_opened_an_account(bank: Driver, db: Db) -> None:
    """DOMAIN §4: a new client is one who opened an account and trades. c-a1, visited, with its
    only holding closed, is not won (and nothing changes) until it holds a product again."""
    bank.execute_query(
        "MATCH (:Client {id: 'c-a1'})-[h:HOLDS]->() SET h.active = false", database_=DATABASE
    )
    await _visit(db, "c-a1", "m-a1")
    for stage in ("TARGET", "VISIT_PLANNED", "APPOINTMENT", "VISITED"):
        await run(db, MOVE, {"id": "c-a1", "to": stage})
    before = graph_snapshot(bank)
    refused = (await run(db, MOVE, {"id": "c-a1", "to": "ACTIVE"}))["movePipeline"]
    assert (refused["invariant"], refused["nodeIds"]) == ("ACCOUNT_OPENED", ["c-a1"])
    assert graph_snapshot(bank) == before
    bank.execute_query(
        "MATCH (:Client {id: 'c-a1'})-[h:HOLDS]->() SET h.active = true", database_=DATABASE
    )
    won = (await run(db, MOVE, {"id": "c-a1", "to": "ACTIVE"}))["movePipeline"]
    assert won == {"__typename": "PipelineMove", "fromStage": "VISITED", "toStage": "ACTIVE"}


async def test_a_prospect_may_be_lost_from_any_open_stage(bank: Driver, db: Db) -> None:
    await run(db, MOVE, {"id": "c-a1", "to": "TARGET"})
    data = await run(db, MOVE, {"id": "c-a1", "to": "LOST"})
    assert data["movePipeline"]["toStage"] == "LOST"
    client = await run(db, '{ client(id: "c-a1") { status pipelineStage primaryManager { id } } }')
    assert client["client"] == {
        "status": "PROSPECT", "pipelineStage": "LOST", "primaryManager": {"id": "m-a1"},
    }  # fmt: skip
    # Lost is not for ever: the prospect is targeted again, and may still be won.
    data = await run(db, MOVE, {"id": "c-a1", "to": "VISITED"})
    assert "from LOST the next stage is TARGET" in data["movePipeline"]["message"]
    await _visit(db, "c-a1", "m-a1")
    for stage in ("TARGET", "VISIT_PLANNED", "APPOINTMENT", "VISITED", "ACTIVE"):
        assert (await run(db, MOVE, {"id": "c-a1", "to": stage}))["movePipeline"][
            "toStage"
        ] == stage
    history = await run(
        db, '{ client(id: "c-a1") { status pipelineHistory { fromStage toStage } } }'
    )
    assert history["client"]["status"] == "ACTIVE"
    assert history["client"]["pipelineHistory"][-3:] == [
        {"fromStage": "LOST", "toStage": "TARGET"},
        {"fromStage": "TARGET", "toStage": "LOST"},
        {"fromStage": None, "toStage": "TARGET"},
    ]


INTERACT = (
    """mutation ($input: RecordInteractionInput!) { recordInteraction(input: $input) {
  __typename ... on Interaction { id interactionKind: kind method } """
    + ERRORS
    + "} }"
)
OPEN = """mutation ($input: OpenComplaintInput!) { openComplaint(input: $input) {
  __typename ... on Interaction { id status } } }"""
HANDLE = (
    """mutation ($id: ID!) { handleComplaint(input: {complaintId: $id, notes: "refunded"}) {
  __typename ... on Interaction { status } """
    + ERRORS
    + "} }"
)
CLOSE = (
    """mutation ($id: ID!, $s: Int!) { closeComplaint(input: {complaintId: $id,
  satisfaction: $s}) { __typename ... on Interaction { status satisfaction } """
    + ERRORS
    + "} }"
)


def days_ago(n: int) -> str:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(days=n)).isoformat()


async def test_a_manager_does_not_close_a_complaint_against_them(bank: Driver, db: Db) -> None:
    """The client's satisfaction rates the manager the complaint is recorded against (their
    averageSatisfaction): m-a may open and handle it, not close it; m-root, over m-a's
    department, may, and the closing is in m-a's audit log."""
    m_a, m_root = Principal("m", Role.MANAGER, "m-a"), Principal("r", Role.MANAGER, "m-root")
    opened = await run(db, OPEN, {"input": {"clientId": "c-a", "managerId": "m-a",
                                            "notes": "fee charged twice"}}, m_a)  # fmt: skip
    complaint = opened["openComplaint"]["id"]
    assert (await run(db, HANDLE, {"id": complaint}, m_a))["handleComplaint"]["status"] == "HANDLED"
    before = graph_snapshot(bank)
    own = await run(db, CLOSE, {"id": complaint, "s": 5}, m_a)
    assert own["closeComplaint"]["invariant"] == "OWN_COMPLAINT"
    assert graph_snapshot(bank) == before
    closed = await run(db, CLOSE, {"id": complaint, "s": 2}, m_root)
    assert closed["closeComplaint"] == {"__typename": "Interaction", "status": "CLOSED",
                                        "satisfaction": 2}  # fmt: skip
    log = await run(db, '{ auditLog(nodeId: "m-a", first: 5) { records { action } } }')
    assert log["auditLog"]["records"][0]["action"] == "complaintClosed"


async def test_interactions_newest_first_and_complaints_in_order(bank: Driver, db: Db) -> None:
    base = {"clientId": "c-a", "managerId": "m-a"}
    for n, method in ((3, "EMOTIONAL"), (2, "KNOWLEDGE"), (1, "CROSS_SELLING")):
        data = await run(db, INTERACT, {"input": {**base, "kind": "MAINTENANCE",
                                                  "method": method, "at": days_ago(n)}})  # fmt: skip
        assert data["recordInteraction"]["method"] == method
    missing = await run(db, INTERACT, {"input": {**base, "kind": "MAINTENANCE"}})
    assert missing["recordInteraction"]["field"] == "method"
    future = await run(db, INTERACT, {"input": {**base, "kind": "VISIT", "at": days_ago(-3)}})
    assert future["recordInteraction"]["field"] == "at"
    opened = await run(db, OPEN, {"input": {**base, "notes": "fee charged twice"}})
    complaint = opened["openComplaint"]["id"]
    early = await run(db, CLOSE, {"id": complaint, "s": 4})
    assert early["closeComplaint"]["invariant"] == "COMPLAINT_ORDER"
    assert (await run(db, HANDLE, {"id": complaint}))["handleComplaint"]["status"] == "HANDLED"
    closed = await run(db, CLOSE, {"id": complaint, "s": 4})
    assert closed["closeComplaint"] == {"__typename": "Interaction", "status": "CLOSED",
                                        "satisfaction": 4}  # fmt: skip
    again = await run(db, HANDLE, {"id": complaint})
    assert again["handleComplaint"]["invariant"] == "COMPLAINT_ORDER"
    page = """query ($after: String) { client(id: "c-a") { interactions(first: 2, after: $after) {
      items { kind method status } totalCount hasNextPage endCursor } } }"""
    first = (await run(db, page, {"after": None}))["client"]["interactions"]
    assert [(i["kind"], i["method"]) for i in first["items"]] == [
        ("COMPLAINT", None), ("MAINTENANCE", "CROSS_SELLING"),
    ]  # fmt: skip
    assert (first["totalCount"], first["hasNextPage"]) == (4, True)
    rest = (await run(db, page, {"after": first["endCursor"]}))["client"]["interactions"]
    assert [i["method"] for i in rest["items"]] == ["KNOWLEDGE", "EMOTIONAL"]
    assert rest["hasNextPage"] is False
    # A visit entered three days after it happened says so: `recordedAt` is the server's.
    late = await run(
        db,
        """mutation ($input: RecordInteractionInput!) { recordInteraction(input: $input) {
          ... on Interaction { at recordedAt } } }""",
        {"input": {**base, "kind": "VISIT", "at": days_ago(3)}},
    )
    entered = late["recordInteraction"]
    lag = dt.datetime.fromisoformat(entered["recordedAt"]) - dt.datetime.fromisoformat(
        entered["at"]
    )
    assert dt.timedelta(days=3) <= lag < dt.timedelta(days=3, hours=1), entered


async def test_interactions_at_the_same_moment_list_in_the_order_recorded(
    bank: Driver, db: Db
) -> None:
    # A day's visits entered with the day's date share `at`: newest recorded first, page by page.
    base = {"clientId": "c-a", "managerId": "m-a", "kind": "MAINTENANCE", "at": days_ago(1)}
    recorded = ["EMOTIONAL", "KNOWLEDGE", "VALUE_ADDED", "CROSS_SELLING", "CONSULTATIVE"]
    for method in recorded:
        await run(db, INTERACT, {"input": {**base, "method": method}})
    page = """query ($after: String) { client(id: "c-a") { interactions(first: 2, after: $after) {
      items { method } hasNextPage endCursor } } }"""
    listed: list[str] = []
    after = None
    while True:
        got = (await run(db, page, {"after": after}))["client"]["interactions"]
        listed += [i["method"] for i in got["items"]]
        if not got["hasNextPage"]:
            break
        after = got["endCursor"]
    assert listed == recorded[::-1]
    # A cursor of another shape (the former (at, id) one) is refused, not misread.
    old = base64.urlsafe_b64encode(json.dumps([days_ago(1), "x"]).encode()).decode()
    _, errors, _ = await execute(db, page, {"after": old})
    assert [e.extensions for e in errors] == [{"code": "BAD_USER_INPUT", "argument": "after"}]


async def test_a_manager_records_only_for_their_own_book(bank: Driver, db: Db) -> None:
    me = Principal("m", Role.MANAGER, "m-a")
    other = await run(db, INTERACT, {"input": {"clientId": "c-x", "managerId": "m-a",
                                               "kind": "VISIT"}}, me)  # fmt: skip
    assert other["recordInteraction"] == {"__typename": "NotFoundError", "kind": "Client",
                                          "id": "c-x"}  # fmt: skip
    _, errors, _ = await execute(
        db,
        INTERACT,
        {"input": {"clientId": "c-a", "managerId": "m-x", "kind": "VISIT"}},
        principal=me,
    )
    assert [e.extensions.get("code") for e in errors] == ["FORBIDDEN"]


async def test_overdue_visits_follow_the_grade_plan(bank: Driver, db: Db, shanghai: None) -> None:
    bank.execute_query(
        "MATCH (c:Client) WHERE c.id IN ['c-a', 'c-b', 'c-c'] SET c.grade = 'A'",
        database_=DATABASE,
    )
    await run(db, INTERACT, {"input": {"clientId": "c-a", "managerId": "m-a", "kind": "VISIT",
                                       "at": days_ago(40)}})  # fmt: skip
    await run(db, INTERACT, {"input": {"clientId": "c-b", "managerId": "m-a", "kind": "VISIT",
                                       "at": days_ago(10)}})  # fmt: skip
    data = await run(db, '{ overdueVisits(managerId: "m-a") { clientId daysOverdue lastVisitAt } }')
    rows = data["overdueVisits"]
    # c-c never visited comes first; c-a was due 30 days after its visit 40 days ago.
    assert [(r["clientId"], r["daysOverdue"]) for r in rows] == [("c-c", None), ("c-a", 10)]
    # A book of thousands answers in pages of at most 100: the most overdue first.
    data = await run(db, '{ overdueVisits(managerId: "m-a", first: 1) { clientId } }')
    assert data["overdueVisits"] == [{"clientId": "c-c"}]
    for first in (0, 101):
        _, errors, _ = await execute(
            db, f'{{ overdueVisits(managerId: "m-a", first: {first}) {{ clientId }} }}'
        )
        assert [e.extensions.get("code") for e in errors] == ["BAD_USER_INPUT"], first


PERFORMANCE = """query ($m: ID, $d: ID) { performance(managerId: $m, departmentId: $d,
  period: {from: "2020-01-01", to: "2029-12-31"}) {
  total { clients newClients existingClients won balance holdings productsPerClient
          visitsPlanned visitsDone complaintsOpened complaintsClosed averageSatisfaction }
  managers { managerId figures { clients balance } }
  children { departmentId name figures { clients newClients balance } } } }"""


async def test_visits_owed_follow_who_was_the_primary_manager(bank: Driver, db: Db) -> None:
    """c-a (grade A: a visit every 30 days) was m-b's until 3 March 2026, then m-a's: in the
    first quarter m-b owed it 61 days' worth (2.03 visits: 2), m-a 29 days' (0.97: 1), and
    the two together the quarter's 90 days (3). Rounded client by client and stint by stint, m-a
    owed none and February none at all."""
    bank.execute_query(
        "MATCH (c:Client) SET c.grade = null WITH count(*) AS _ "
        "MATCH (m:Manager)-[r:MANAGES {role: 'PRIMARY'}]->(c:Client {id: 'c-a'}) "
        "SET c.grade = 'A', r.since = date('2026-03-03') WITH c "
        "MATCH (b:Manager {id: 'm-b'}) "
        "CREATE (b)-[:MANAGED {role: 'PRIMARY', since: date('2025-06-01'), "
        "until: date('2026-03-03'), reason: '调岗'}]->(c)",
        database_=DATABASE,
    )
    query = """query ($m: ID) { performance(managerId: $m,
      period: {from: "2026-01-01", to: "2026-03-31"}) { total { visitsPlanned } } }"""
    owed = {}
    for manager in ("m-a", "m-b"):
        data = await run(db, query, {"m": manager})
        owed[manager] = data["performance"]["total"]["visitsPlanned"]
    assert owed == {"m-a": 1, "m-b": 2}
    both = await run(
        db,
        """{ performance(departmentId: "d-root", period: {from: "2026-01-01", to: "2026-03-31"})
        { total { visitsPlanned } } }""",
    )
    assert both["performance"]["total"]["visitsPlanned"] == 3
    february = await run(
        db,
        '{ performance(managerId: "m-a", period: {from: "2027-02-01", to: "2027-02-28"}) { '
        "total { visitsPlanned } } }",
    )
    assert february["performance"]["total"]["visitsPlanned"] == 1
    # A whole year of m-a's: 365 days, 12 visits.
    data = await run(
        db,
        '{ performance(managerId: "m-a", period: {from: "2027-01-01", to: "2027-12-31"}) { '
        "total { visitsPlanned } } }",
    )
    assert data["performance"]["total"]["visitsPlanned"] == 12


async def test_visits_on_plan_are_to_the_manager_s_own_graded_clients(
    bank: Driver, db: Db, shanghai: None
) -> None:
    """In March 2026 m-a visits c-a (graded, m-a's from 3 March, m-b's before) on the 2nd, on
    the 3rd at 07:00 in Beijing (still the 2nd in UTC) and on the 5th; m-root's graded client
    c-root; and its own ungraded c-g. Five visits done; two on plan, the two in m-a's stint."""
    bank.execute_query(
        "MATCH (c:Client) SET c.grade = CASE c.id WHEN 'c-g' THEN null ELSE 'A' END "
        "WITH count(*) AS _ "
        "MATCH (:Manager {id: 'm-a'})-[r:MANAGES {role: 'PRIMARY'}]->(c:Client {id: 'c-a'}) "
        "SET r.since = date('2026-03-03') WITH c "
        "MATCH (b:Manager {id: 'm-b'}) "
        "CREATE (b)-[:MANAGED {role: 'PRIMARY', since: date('2025-06-01'), "
        "until: date('2026-03-03'), reason: '调岗'}]->(c)",
        database_=DATABASE,
    )
    for client, at in (
        ("c-a", "2026-03-02T10:00:00"), ("c-a", "2026-03-03T07:00:00+08:00"),
        ("c-a", "2026-03-05T10:00:00"), ("c-root", "2026-03-05T11:00:00"),
        ("c-g", "2026-03-06T10:00:00"),
    ):  # fmt: skip
        visit = {"clientId": client, "managerId": "m-a", "kind": "VISIT", "at": at}
        assert (await run(db, INTERACT, {"input": visit}))["recordInteraction"]["id"]
    query = """query ($m: ID, $d: ID) { performance(managerId: $m, departmentId: $d,
      period: {from: "2026-03-01", to: "2026-03-31"}) { total { visitsDone visitsOnPlan } } }"""
    done = {
        scope: (await run(db, query, variables))["performance"]["total"]
        for scope, variables in (
            ("m-a", {"m": "m-a", "d": None}), ("m-b", {"m": "m-b", "d": None}),
            ("d-root", {"m": None, "d": "d-root"}),
        )
    }  # fmt: skip
    assert done == {
        "m-a": {"visitsDone": 5, "visitsOnPlan": 2},
        "m-b": {"visitsDone": 0, "visitsOnPlan": 0},
        "d-root": {"visitsDone": 5, "visitsOnPlan": 2},
    }


async def test_a_period_s_days_are_the_bank_s(bank: Driver, db: Db, shanghai: None) -> None:
    """07:00 in Beijing on 1 March is still 28 February in UTC; the bank counts it in March.
    A time given without an offset is the bank's local time too."""
    for at in ("2025-03-01T07:00:00+08:00", "2025-03-01T07:30:00"):
        visit = {"clientId": "c-a", "managerId": "m-a", "kind": "VISIT", "at": at}
        assert (await run(db, INTERACT, {"input": visit}))["recordInteraction"]["id"]
    query = """query ($f: Date!, $t: Date!) { performance(managerId: "m-a",
      period: {from: $f, to: $t}) { total { visitsDone } } }"""
    done = [
        (await run(db, query, {"f": f, "t": t}))["performance"]["total"]["visitsDone"]
        for f, t in (("2025-02-01", "2025-02-28"), ("2025-03-01", "2025-03-31"))
    ]
    assert done == [0, 2]


async def test_performance_rolls_up_the_direct_hierarchy(bank: Driver, db: Db) -> None:
    await run(db, INTERACT, {"input": {"clientId": "c-a", "managerId": "m-a", "kind": "VISIT"}})
    opened = await run(db, OPEN, {"input": {"clientId": "c-root", "managerId": "m-root",
                                            "notes": "slow service"}})  # fmt: skip
    complaint = opened["openComplaint"]["id"]
    await run(db, HANDLE, {"id": complaint})
    await run(db, CLOSE, {"id": complaint, "s": 2})

    db.round_trips = 0
    data, errors, ctx = await execute(db, PERFORMANCE, {"m": "m-a", "d": None})
    assert errors == [] and data is not None and ctx.db.round_trips == 1
    m_a = data["performance"]["total"]
    assert (m_a["clients"], m_a["existingClients"], m_a["balance"], m_a["holdings"]) == (
        8, 8, "3199.97", 6,
    )  # fmt: skip
    assert (m_a["visitsDone"], m_a["productsPerClient"]) == (1, 0.75)
    assert data["performance"]["children"] == []  # a manager has no child departments

    sub = (await run(db, PERFORMANCE, {"m": None, "d": "d-a"}))["performance"]
    # d-a: m-a's 8 clients plus m-a1's prospect (not active, so not counted).
    assert [m["managerId"] for m in sub["managers"]] == ["m-a", "m-a1"]
    assert sub["total"]["clients"] == 8 and sub["total"]["balance"] == "3199.97"
    root = (await run(db, PERFORMANCE, {"m": None, "d": "d-root"}))["performance"]
    assert [m["managerId"] for m in root["managers"]] == ["m-a", "m-a1", "m-b", "m-root"]
    total = root["total"]
    assert total["clients"] == sum(m["figures"]["clients"] for m in root["managers"]) == 10
    assert total["balance"] == "3219.97"  # 3199.97 + m-b's 10.00 + m-root's 10.00
    assert (total["newClients"], total["existingClients"]) == (1, 9)
    assert (total["complaintsOpened"], total["complaintsClosed"]) == (1, 1)
    assert total["averageSatisfaction"] == 2.0
    # Each direct child summed down its own subtree (d-a holds d-a1); m-root's own client is the
    # rest of the total.
    assert root["children"] == [
        {"departmentId": "d-a", "name": "d-a",
         "figures": {"clients": 8, "newClients": 0, "balance": "3199.97"}},
        {"departmentId": "d-b", "name": "d-b",
         "figures": {"clients": 1, "newClients": 1, "balance": "10.00"}},
    ]  # fmt: skip
    assert [c["departmentId"] for c in sub["children"]] == ["d-a1"]
    leaf = (await run(db, PERFORMANCE, {"m": None, "d": "d-b"}))["performance"]
    assert [m["managerId"] for m in leaf["managers"]] == ["m-b"]
    assert leaf["children"] == []
    # No manager anywhere below: zeros, and the children still listed.
    empty = (await run(db, PERFORMANCE, {"m": None, "d": "d-prod"}))["performance"]
    assert empty["managers"] == [] and empty["total"]["clients"] == 0
    assert empty["children"] == [
        {"departmentId": "d-prod-1", "name": "d-prod-1",
         "figures": {"clients": 0, "newClients": 0, "balance": "0.00"}},
    ]  # fmt: skip
    none = await run(db, PERFORMANCE, {"m": None, "d": "no-such"})
    assert none["performance"] is None
    _, errors, _ = await execute(db, PERFORMANCE, {"m": "m-a", "d": "d-a"})
    assert errors and errors[0].extensions["argument"] == "managerId"
