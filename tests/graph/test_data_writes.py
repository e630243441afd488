"""The write frame of the data-in mutations: a step failing after the change leaves nothing
behind, and concurrent writes cannot together break what each checks alone."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal

import pytest
from neo4j import Driver
from neo4j.exceptions import Neo4jError

from graph import data_writes
from graph.client_link_writes import ClientLinkInput, relate_clients
from graph.client_writes import NewClient, archive_client, create_client
from graph.db import Db
from graph.errors import Duplicate, InvariantViolation
from graph.facility_writes import NewFacility, approve_facility, create_facility, draw_facility
from graph.models import ClientKind, ClientLinkKind, ClientSegment, ControlBasis, FacilityType
from seeds.loader import load
from tests.conftest import DATABASE, graph_snapshot
from tests.small_bank import build_small_bank

# Runs after the change, in the same transaction, and fails there.
FAILING_AUDIT = "CREATE (:AuditRecord {id: 'half'}) WITH 1 AS one RETURN one / $zero AS boom"


@pytest.fixture
def bank(empty_graph: Driver) -> Iterator[Driver]:
    load(empty_graph, DATABASE, build_small_bank(), quiet=True)
    yield empty_graph


def a_client(client_id: str = "c-new") -> NewClient:
    return NewClient(
        id=client_id, name="丁公司", kind=ClientKind.CORPORATE, segment=ClientSegment.NEW,
        risk_rating=2,
    )  # fmt: skip


async def test_a_failing_last_step_leaves_nothing_behind(
    bank: Driver, db: Db, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = graph_snapshot(bank)
    monkeypatch.setattr(data_writes, "AUDIT", FAILING_AUDIT.replace("$zero", "0"))
    with pytest.raises(Neo4jError):
        await create_client(db, "test", a_client(), "m-1")
    facility = NewFacility(
        id="f-2", borrower_id="c-3", type=FacilityType.LOAN, limit=Decimal("10"),
        currency="CNY", granting_department_id="d-ka",
    )  # fmt: skip
    with pytest.raises(Neo4jError):
        await create_facility(db, "test", facility)
    assert graph_snapshot(bank) == before
    monkeypatch.undo()
    await create_client(db, "test", a_client(), "m-1")
    assert graph_snapshot(bank) != before


async def test_two_creates_of_one_id_give_one_client_and_a_duplicate(bank: Driver, db: Db) -> None:
    results = await asyncio.gather(
        *(create_client(db, "test", a_client("c-race"), m) for m in ("m-1", "m-2")),
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in results) == ["Client", "Duplicate"]
    assert all(not isinstance(r, BaseException) or isinstance(r, Duplicate) for r in results)
    rows, _, _ = bank.execute_query(
        "MATCH (c:Client {id: 'c-race'})<-[:MANAGES {role: 'PRIMARY'}]-(m) RETURN count(*) AS n",
        database_=DATABASE,
    )
    assert rows[0]["n"] == 1


async def test_two_control_links_cannot_close_a_cycle_together(bank: Driver, db: Db) -> None:
    def control(a: str, b: str) -> ClientLinkInput:
        return ClientLinkInput(
            from_id=a, to_id=b, kind=ClientLinkKind.CONTROL, share=80.0,
            basis=ControlBasis.VOTING_AGREEMENT,
        )  # fmt: skip

    for _ in range(3):
        bank.execute_query(
            "MATCH (:Client)-[r:CONTROLS]->(:Client) WHERE r.share = 80.0 DELETE r",
            database_=DATABASE,
        )
        results = await asyncio.gather(
            relate_clients(db, "test", control("c-3", "c-4")),
            relate_clients(db, "test", control("c-4", "c-3")),
            return_exceptions=True,
        )
        failures = [r for r in results if isinstance(r, BaseException)]
        assert len(failures) == 1 and isinstance(failures[0], InvariantViolation), results
        assert failures[0].invariant == "CONTROL_ACYCLIC"


async def test_archiving_and_lending_to_one_client_cannot_both_happen(bank: Driver, db: Db) -> None:
    """Each checks the client before writing; the client's lock makes the second see the first.
    Lending is drawing money (a facility is granted with nothing drawn)."""
    facility = NewFacility(
        id="f-race", borrower_id="c-3", type=FacilityType.LOAN, limit=Decimal("10"),
        currency="CNY", granting_department_id="d-ka",
    )  # fmt: skip
    await create_facility(db, "test", facility)
    await approve_facility(db, "test", "f-race", "d-risk")
    for _ in range(3):
        results = await asyncio.gather(
            archive_client(db, "test", "c-3", None),
            draw_facility(db, "test", "f-race", Decimal("5")),
            return_exceptions=True,
        )
        failures = [r for r in results if isinstance(r, BaseException)]
        assert len(failures) == 1 and isinstance(failures[0], InvariantViolation), results
        assert failures[0].invariant in ("NOT_ARCHIVED", "NO_OUTSTANDING_CREDIT")
        bank.execute_query(
            "MATCH (c:Client {id: 'c-3'})-[:BORROWS]->(f:Facility {id: 'f-race'}) "
            "SET c.status = 'ACTIVE', f.drawnCents = 0",
            database_=DATABASE,
        )
