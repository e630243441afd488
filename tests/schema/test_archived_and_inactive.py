"""Archived clients do not change, inactive managers take no clients, grades or records, and
control shares add up exactly: mutations that used to let these through, on the small bank of `test_data_in`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from neo4j import Driver

from graph.db import Db
from seeds.loader import load
from tests.conftest import DATABASE, graph_snapshot
from tests.gql import execute
from tests.schema.test_data_in import CLIENT, HOLDING, LINK, data_in_bank, mutate, new_client


@pytest.fixture
def bank(empty_graph: Driver) -> Iterator[Driver]:
    load(empty_graph, DATABASE, data_in_bank(), quiet=True)
    yield empty_graph


REFUSED = "... on InvariantViolationError { invariant }"


async def _archive(db: Db, client_id: str) -> None:
    archived = await mutate(db, "archiveClient", {"clientId": client_id}, CLIENT)
    assert archived["client"]["status"] == "ARCHIVED"


async def _visit(db: Db, client_id: str, manager_id: str) -> None:
    """A visit on record, which a prospect needs before it is VISITED."""
    visit = {"clientId": client_id, "managerId": manager_id, "kind": "VISIT"}
    assert (await mutate(db, "recordInteraction", visit))["__typename"] == "Interaction"


async def _refused(driver: Driver, db: Db, document: str, invariant: str) -> None:
    before = graph_snapshot(driver)
    data, errors, _ = await execute(db, document)
    assert errors == [] and data is not None
    [answer] = data.values()
    assert answer == {"__typename": "InvariantViolationError", "invariant": invariant}
    assert graph_snapshot(driver) == before


async def test_an_archived_client_does_not_change(bank: Driver, db: Db) -> None:
    await _archive(db, "c-1")
    for mutation in (
        'recordHolding(input: {clientId: "c-1", productId: "p-dep", balance: "5"})',
        'unrelateClients(input: {fromId: "c-1", toId: "c-2", kind: CONTROL})',
        'setClientPotential(input: {clientId: "c-1", potential: "HIGH"})',
    ):
        await _refused(
            bank, db, f"mutation {{ {mutation} {{ __typename {REFUSED} }} }}", "NOT_ARCHIVED"
        )


async def test_an_archived_clients_holdings_wind_down(bank: Driver, db: Db) -> None:
    await _archive(db, "c-1")
    closed = await mutate(db, "closeHolding", {"clientId": "c-1", "productId": "p-dep"}, HOLDING)
    assert closed["client"] == {"id": "c-1"}
    assert closed["holding"]["active"] is False
    rows, _, _ = bank.execute_query(
        "MATCH (:Client {id: 'c-1'})-[h:HOLDS]->(:Product {id: 'p-dep'}) "
        "OPTIONAL MATCH (a:AuditRecord {action: 'closeHolding'})-[:CHANGED]->(:Client {id: 'c-1'}) "
        "RETURN h.active AS active, count(a) AS audited",
        database_=DATABASE,
    )
    assert [dict(r) for r in rows] == [{"active": False, "audited": 1}]


async def test_an_archived_client_is_not_visited_but_may_still_complain(
    bank: Driver, db: Db
) -> None:
    opened_before = await _complaint(db)
    await _archive(db, "c-1")
    await _refused(
        bank, db,
        'mutation { recordInteraction(input: {clientId: "c-1", managerId: "m-1", kind: VISIT}) '
        f"{{ __typename {REFUSED} }} }}",
        "NOT_ARCHIVED",
    )  # fmt: skip
    opened_after = await _complaint(db)
    for complaint in (opened_before, opened_after):
        for step in (
            f'handleComplaint(input: {{complaintId: "{complaint}", notes: "退费"}})',
            f'closeComplaint(input: {{complaintId: "{complaint}", satisfaction: 3}})',
        ):
            data, errors, _ = await execute(db, f"mutation {{ {step} {{ __typename }} }}")
            assert errors == [] and data is not None
            assert list(data.values()) == [{"__typename": "Interaction"}]
    statuses, _, _ = bank.execute_query(
        "MATCH (i:Interaction {kind: 'COMPLAINT'})-[:WITH]->(:Client {id: 'c-1'}) "
        "RETURN collect(i.status) AS s",
        database_=DATABASE,
    )
    assert statuses[0]["s"] == ["CLOSED", "CLOSED"]


async def _complaint(db: Db) -> str:
    data, errors, _ = await execute(
        db,
        'mutation { openComplaint(input: {clientId: "c-1", managerId: "m-1", notes: "年费"}) '
        "{ __typename ... on Interaction { id } } }",
    )
    assert errors == [] and data is not None, errors
    assert data["openComplaint"]["__typename"] == "Interaction", data
    complaint: str = data["openComplaint"]["id"]
    return complaint


async def test_an_archived_prospect_does_not_come_back_through_the_pipeline(
    bank: Driver, db: Db
) -> None:
    assert (await mutate(db, "createClient", new_client(), CLIENT))["__typename"] == "ClientSuccess"
    move = (
        'mutation ($to: Stage!) { movePipeline(input: {clientId: "c-new", toStage: $to}) '
        "{ __typename } }"
    )
    await _visit(db, "c-new", "m-1")
    for stage in ("TARGET", "VISIT_PLANNED", "APPOINTMENT", "VISITED"):
        data, errors, _ = await execute(db, move, {"to": stage})
        assert errors == [] and data == {"movePipeline": {"__typename": "PipelineMove"}}
    await _archive(db, "c-new")
    await _refused(
        bank, db,
        f'mutation {{ movePipeline(input: {{clientId: "c-new", toStage: ACTIVE}}) '
        f"{{ __typename {REFUSED} }} }}",
        "NOT_ARCHIVED",
    )  # fmt: skip


async def _new_manager(db: Db, manager_id: str) -> None:
    created = await mutate(
        db, "createManager",
        {"id": manager_id, "name": "闲置", "level": "MANAGER", "education": "BACHELOR",
         "title": "NONE", "creditYears": 1, "departmentId": "d-ka-rm"},
    )  # fmt: skip
    assert created["__typename"] == "ManagerSuccess"


async def test_a_client_is_not_transferred_to_an_inactive_manager(bank: Driver, db: Db) -> None:
    await _new_manager(db, "m-9")
    resting = await mutate(db, "updateManager", {"managerId": "m-9", "active": False})
    assert resting["__typename"] == "ManagerSuccess"
    await _refused(
        bank, db,
        'mutation { transferClient(input: {clientId: "c-2", toManagerId: "m-9", reason: "调岗"}) '
        f"{{ __typename {REFUSED} }} }}",
        "MANAGER_ACTIVE",
    )  # fmt: skip


async def _two_prospects(db: Db, manager_id: str) -> None:
    """`manager_id`'s prospects c-new (new, VISITED: one move from being won) and c-old
    (existing, which updateClient may activate)."""
    for client_id, segment in (("c-new", "NEW"), ("c-old", "EXISTING")):
        made = await mutate(
            db, "createClient",
            new_client(id=client_id, segment=segment, primaryManagerId=manager_id), CLIENT,
        )  # fmt: skip
        assert made["__typename"] == "ClientSuccess"
    await _visit(db, "c-new", manager_id)
    move = 'mutation ($to: Stage!) { movePipeline(input: {clientId: "c-new", toStage: $to}) { __typename } }'
    for stage in ("TARGET", "VISIT_PLANNED", "APPOINTMENT", "VISITED"):
        data, errors, _ = await execute(db, move, {"to": stage})
        assert errors == [] and data == {"movePipeline": {"__typename": "PipelineMove"}}


async def test_a_client_of_an_inactive_manager_does_not_become_active(bank: Driver, db: Db) -> None:
    """m-9 may rest while only prospects are theirs; the prospects wait for a transfer."""
    await _new_manager(db, "m-9")
    await _two_prospects(db, "m-9")
    assert (await mutate(db, "updateManager", {"managerId": "m-9", "active": False}))[
        "__typename"
    ] == "ManagerSuccess"
    activate = 'updateClient(input: {clientId: "c-old", status: ACTIVE})'
    for mutation in ('movePipeline(input: {clientId: "c-new", toStage: ACTIVE})', activate):
        await _refused(
            bank, db, f"mutation {{ {mutation} {{ __typename {REFUSED} }} }}",
            "PRIMARY_MANAGER_ACTIVE",
        )  # fmt: skip
    moved = await mutate(
        db, "transferClient", {"clientId": "c-old", "toManagerId": "m-1", "reason": "接手"}
    )
    assert moved["__typename"] == "RestructureSuccess", moved
    data, errors, _ = await execute(db, f"mutation {{ {activate} {{ __typename }} }}")
    assert errors == [] and data == {"updateClient": {"__typename": "ClientSuccess"}}


async def test_a_prospect_without_a_primary_manager_does_not_become_active(
    bank: Driver, db: Db
) -> None:
    """Every active client has exactly one primary manager: a prospect an older import left with
    none stays a prospect, by either way in, until transferClient gives it one."""
    await _two_prospects(db, "m-1")
    summary = bank.execute_query(
        "MATCH (:Manager)-[r:MANAGES]->(c:Client) WHERE c.id IN ['c-new', 'c-old'] DELETE r",
        database_=DATABASE,
    ).summary
    assert summary.counters.relationships_deleted == 2
    activate = 'updateClient(input: {clientId: "c-old", status: ACTIVE})'
    for mutation in ('movePipeline(input: {clientId: "c-new", toStage: ACTIVE})', activate):
        await _refused(
            bank, db, f"mutation {{ {mutation} {{ __typename {REFUSED} }} }}", "ONE_PRIMARY_MANAGER"
        )
    moved = await mutate(
        db, "transferClient", {"clientId": "c-old", "toManagerId": "m-1", "reason": "接手"}
    )
    assert moved["__typename"] == "RestructureSuccess", moved
    data, errors, _ = await execute(db, f"mutation {{ {activate} {{ __typename }} }}")
    assert errors == [] and data == {"updateClient": {"__typename": "ClientSuccess"}}


async def test_an_inactive_manager_is_not_graded_and_records_nothing(bank: Driver, db: Db) -> None:
    await _new_manager(db, "m-9")
    eligibility = '{ promotionEligibility(managerId: "m-9") { eligible next { code } } }'
    master = await mutate(db, "updateManager", {"managerId": "m-9", "education": "MASTER"})
    assert master["__typename"] == "ManagerSuccess"
    data, errors, _ = await execute(db, eligibility)
    assert errors == [] and data is not None
    assert data["promotionEligibility"] == {"eligible": True, "next": {"code": "SENIOR"}}
    assert (await mutate(db, "updateManager", {"managerId": "m-9", "active": False}))[
        "__typename"
    ] == "ManagerSuccess"
    for mutation in (
        'promoteManager(input: {managerId: "m-9", toLevel: "SENIOR", exceptional: true, '
        'reason: "特批"})',
        'demoteManager(input: {managerId: "m-9", toLevel: "ASSISTANT", reason: "考核"})',
        'recordInteraction(input: {clientId: "c-2", managerId: "m-9", kind: VISIT})',
        'openComplaint(input: {clientId: "c-2", managerId: "m-9", notes: "慢"})',
    ):
        await _refused(
            bank, db, f"mutation {{ {mutation} {{ __typename {REFUSED} }} }}", "MANAGER_ACTIVE"
        )
    data, errors, _ = await execute(db, eligibility)
    assert errors == [] and data is not None
    assert data["promotionEligibility"] == {"eligible": False, "next": {"code": "SENIOR"}}


async def test_equity_shares_of_exactly_100_are_taken(bank: Driver, db: Db) -> None:
    # In floats 0.2 + 83.9 + 15.9 is a hair over 100, which was refused as more than 100%.
    result: dict[str, Any] = {}
    for owner, share in (("c-1", 0.2), ("c-2", 83.9), ("c-4", 15.9)):
        result = await mutate(
            db, "relateClients",
            {"fromId": owner, "toId": "c-3", "kind": "CONTROL", "share": share, "basis": "EQUITY"},
            LINK,
        )  # fmt: skip
        assert result["__typename"] == "ClientLinkSuccess", result
    more = await mutate(
        db, "relateClients",
        {"fromId": "c-x", "toId": "c-3", "kind": "CONTROL", "share": 0.01, "basis": "EQUITY"},
    )  # fmt: skip
    assert more["__typename"] == "InvariantViolationError"
    records, _, _ = bank.execute_query(
        "MATCH (:Client)-[r:CONTROLS]->(:Client {id: 'c-3'}) RETURN count(r) AS n",
        database_=DATABASE,
    )
    assert records[0]["n"] == 3


async def test_stakes_that_add_up_to_control_do_not_close_a_cycle(bank: Driver, db: Db) -> None:
    """c-1 controls c-2 (60%) and, here, c-3. c-2 may hold 30% of c-1; c-3's 30% more would make
    c-1's subsidiaries control c-1 (60%): a cycle of control, refused."""
    for owner, owned, share in (("c-1", "c-3", 60.0), ("c-2", "c-1", 30.0)):
        made = await mutate(
            db, "relateClients",
            {"fromId": owner, "toId": owned, "kind": "CONTROL", "share": share,
             "basis": "EQUITY"},
            LINK,
        )  # fmt: skip
        assert made["__typename"] == "ClientLinkSuccess", made
    before = graph_snapshot(bank)
    refused = await mutate(
        db, "relateClients",
        {"fromId": "c-3", "toId": "c-1", "kind": "CONTROL", "share": 30.0, "basis": "EQUITY"},
        "... on InvariantViolationError { invariant nodeIds }",
    )  # fmt: skip
    assert refused["invariant"] == "CONTROL_ACYCLIC"
    assert refused["nodeIds"][0] in ("c-1", "c-2", "c-3")
    assert graph_snapshot(bank) == before
