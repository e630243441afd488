"""Two writes whose checks read what the other changes take turns: each locks the nodes it
checks before reading them. Forced here: write A is paused just after its state read, write B
is started, and then A is let go. Had B not waited for A's lock it would have committed during
the pause and both would have succeeded on stale checks; it waits, then sees A's commit and is
refused."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Coroutine, Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from neo4j import Driver

from graph import (
    client_writes,
    csv_import,
    data_writes,
    facility_writes,
    holding_writes,
    interactions,
    key_accounts,
    manager_writes,
    org_operations,
    pipeline,
    product_writes,
    promotions,
    restructure,
)
from graph.csv_export import export_csv
from graph.csv_import import import_csv
from graph.db import Db, open_driver
from graph.errors import GraphError, InvalidInput, InvariantViolation
from graph.interactions import InteractionKind
from graph.models import (
    ClientKind,
    ClientSegment,
    ClientStatus,
    DepartmentFunction,
    Education,
    ManagerLevel,
    OrgModel,
    ProductAudience,
    ProductCategory,
    ProfessionalTitle,
)
from graph.pipeline import Stage
from graph.settings import Neo4jSettings
from seeds.loader import load
from tests.conftest import DATABASE
from tests.schema.test_data_in import data_in_bank


@pytest.fixture
def bank(empty_graph: Driver) -> Iterator[Driver]:
    load(empty_graph, DATABASE, data_in_bank(), quiet=True)
    yield empty_graph


def pause_after(
    monkeypatch: pytest.MonkeyPatch, cls: Any, method: str, query: str, nth: int = 1
) -> tuple[asyncio.Event, asyncio.Event]:
    """The `nth` `cls.method(query)` pauses once it has its rows, until `go` is set."""
    paused, go = asyncio.Event(), asyncio.Event()
    original = getattr(cls, method)
    seen = 0

    async def wrapped(self: Any, statement: str, **params: Any) -> Any:
        nonlocal seen
        out = await original(self, statement, **params)
        if statement == query and not paused.is_set():
            seen += 1
            if seen == nth:
                paused.set()
                await go.wait()
        return out

    monkeypatch.setattr(cls, method, wrapped)
    return paused, go


async def race(
    a: Coroutine[Any, Any, Any], b: Coroutine[Any, Any, Any], paused: asyncio.Event,
    go: asyncio.Event, b_waits: bool = True,
) -> tuple[Any, Any]:  # fmt: skip
    """A runs to its pause; B runs up to A's lock and waits there: that it waits is what the
    test is about (had it finished first, A's lock would have kept nothing from it). With
    `b_waits` false, A holds no lock yet where it pauses, and B commits first, as the test
    means it to."""
    first = asyncio.create_task(a)
    await paused.wait()
    second = asyncio.create_task(b)
    if not b_waits:
        finished = await asyncio.gather(asyncio.wait_for(second, 30), return_exceptions=True)
        go.set()
        result = await asyncio.gather(first, return_exceptions=True)
        return result[0], finished[0]
    settings = Neo4jSettings()
    assert settings.uri and settings.password is not None
    with open_driver(settings.uri, settings.user, settings.password) as watcher:
        for _ in range(600):
            if _blocked_transactions(watcher) or second.done():
                break
            await asyncio.sleep(0.02)
        blocked = _blocked_transactions(watcher)
    go.set()
    both = await asyncio.gather(first, second, return_exceptions=True)
    assert blocked == 1, ("B did not wait for A's lock", both)
    return both[0], both[1]


def _refused(result: Any, invariant: str) -> bool:
    return isinstance(result, InvariantViolation) and result.invariant == invariant


def _took_turns(caplog: pytest.LogCaptureFixture, *results: Any) -> None:
    """Both writes succeeded, and neither was failed by Neo4j to break a deadlock (which the
    driver retries, and so would hide)."""
    for result in results:
        assert not isinstance(result, BaseException), result
    assert not [r for r in caplog.records if "Deadlock" in r.getMessage()]


def rows(driver: Driver, text: str) -> list[dict[str, Any]]:
    records, _, _ = driver.execute_query(text, database_=DATABASE)
    return [dict(r) for r in records]


NEW_MANAGER = manager_writes.NewManager(
    id="m-9", name="新人", level=ManagerLevel.MANAGER, education=Education.BACHELOR,
    title=ProfessionalTitle.NONE, credit_years=1, department_id="d-ka-rm",
)  # fmt: skip


async def test_a_new_client_and_its_managers_deactivation(
    bank: Driver, db: Db, monkeypatch: pytest.MonkeyPatch
) -> None:
    await manager_writes.create_manager(db, "t", NEW_MANAGER)
    paused, go = pause_after(monkeypatch, data_writes.Write, "one", client_writes.CREATE_STATE)
    new = client_writes.NewClient(
        id="c-race", name="竞态公司", kind=ClientKind.CORPORATE, segment=ClientSegment.EXISTING,
        status=ClientStatus.ACTIVE, risk_rating=2,
    )  # fmt: skip
    created, deactivated = await race(
        client_writes.create_client(db, "t", new, "m-9"),
        manager_writes.update_manager(
            db, "t", "m-9", manager_writes.ManagerChanges(active=False), None
        ),
        paused, go,
    )  # fmt: skip
    assert not isinstance(created, BaseException)
    assert _refused(deactivated, "PRIMARY_MANAGER_ACTIVE")
    assert rows(bank, "MATCH (m:Manager {id: 'm-9'}) RETURN m.active AS active") == [
        {"active": True}
    ]


async def test_a_prospect_won_and_its_managers_deactivation(
    bank: Driver, db: Db, monkeypatch: pytest.MonkeyPatch
) -> None:
    await manager_writes.create_manager(db, "t", NEW_MANAGER)
    new = client_writes.NewClient(
        id="c-race", name="竞态公司", kind=ClientKind.CORPORATE, segment=ClientSegment.NEW,
        risk_rating=2,
    )  # fmt: skip
    await client_writes.create_client(db, "t", new, "m-9")
    await interactions.record_interaction(
        db, "t", "c-race", "m-9", InteractionKind.VISIT, None, None, None, None
    )
    for stage in (Stage.TARGET, Stage.VISIT_PLANNED, Stage.APPOINTMENT, Stage.VISITED):
        await pipeline.move_pipeline(db, "t", "c-race", stage, None, None, None)
    # The deactivation has found no active client of m-9's; the prospect is won meanwhile.
    paused, go = pause_after(monkeypatch, data_writes.Write, "one", manager_writes.MANAGER_STATE)
    deactivated, won = await race(
        manager_writes.update_manager(
            db, "t", "m-9", manager_writes.ManagerChanges(active=False), None
        ),
        pipeline.move_pipeline(db, "t", "c-race", Stage.ACTIVE, None, None, None),
        paused, go,
    )  # fmt: skip
    assert not isinstance(deactivated, BaseException)
    assert _refused(won, "PRIMARY_MANAGER_ACTIVE")
    assert rows(bank, "MATCH (c:Client {id: 'c-race'}) RETURN c.status AS status") == [
        {"status": "PROSPECT"}
    ]


async def _product_for_all(db: Db) -> None:
    """p-all, a product any client may hold."""
    product = product_writes.NewProduct(
        id="p-all", name="通用理财", category=ProductCategory.WEALTH,
        audience=ProductAudience.ALL, risk_level=1, department_id="d-prod",
    )  # fmt: skip
    await product_writes.create_product(db, "t", product)


async def test_a_holding_and_its_products_new_audience(
    bank: Driver, db: Db, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _product_for_all(db)
    paused, go = pause_after(monkeypatch, data_writes.Write, "one", holding_writes.STATE)
    held, narrowed = await race(
        holding_writes.record_holding(db, "t", "c-1", "p-all", Decimal("100.00"), None),
        product_writes.update_product(
            db, "t", "p-all", product_writes.ProductChanges(audience=ProductAudience.INDIVIDUAL)
        ),
        paused, go,
    )  # fmt: skip
    assert not isinstance(held, BaseException)  # c-1 is a corporate client
    assert isinstance(narrowed, GraphError)
    assert rows(bank, "MATCH (p:Product {id: 'p-all'}) RETURN p.audience AS audience") == [
        {"audience": "ALL"}
    ]


async def test_a_clients_new_kind_and_its_products_new_audience(
    bank: Driver, db: Db, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _product_for_all(db)
    await holding_writes.record_holding(db, "t", "c-1", "p-all", Decimal("100.00"), None)
    bank.execute_query(  # only p-all is held: the kind's check passes on its own
        "MATCH (:Client {id: 'c-1'})-[h:HOLDS]->(p:Product) WHERE p.id <> 'p-all' DELETE h",
        database_=DATABASE,
    )
    paused, go = pause_after(monkeypatch, data_writes.Write, "one", client_writes.UNSUITED_PRODUCTS)
    changed, narrowed = await race(
        client_writes.update_client(
            db, "t", "c-1", client_writes.ClientChanges(kind=ClientKind.INDIVIDUAL), None
        ),
        product_writes.update_product(
            db, "t", "p-all", product_writes.ProductChanges(audience=ProductAudience.CORPORATE)
        ),
        paused, go,
    )  # fmt: skip
    assert not isinstance(changed, BaseException)
    assert isinstance(narrowed, GraphError)  # an individual now holds it
    assert rows(bank, "MATCH (p:Product {id: 'p-all'}) RETURN p.audience AS audience") == [
        {"audience": "ALL"}
    ]


async def test_a_grading_and_a_clients_archiving(
    bank: Driver, db: Db, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A client the grading would grade, with nothing drawn, so that it may be archived.
    graded = [c.client_id for c in await key_accounts.grade_clients(db, "t", dry_run=True)]
    [target], _, _ = bank.execute_query(
        "UNWIND $ids AS id MATCH (c:Client {id: id}) "
        "WHERE NOT EXISTS { (c)-[:BORROWS]->(f:Facility) WHERE f.drawnCents > 0 } "
        "RETURN c.id AS id ORDER BY id LIMIT 1",
        ids=graded,
        database_=DATABASE,
    )
    paused, go = pause_after(monkeypatch, data_writes.Write, "rows", key_accounts.GRADES_TO_CHANGE)
    done, archived = await race(
        key_accounts.grade_clients(db, "t"),
        client_writes.archive_client(db, "t", target["id"], None),
        paused, go, b_waits=False,
    )  # fmt: skip
    assert not isinstance(archived, BaseException), archived
    assert not isinstance(done, BaseException), done
    # The grading read it before the archive and applied after: it leaves it as archived.
    assert target["id"] not in [c.client_id for c in done]
    [after], _, _ = bank.execute_query(
        "MATCH (c:Client {id: $id}) RETURN c.grade AS grade, c.status AS status",
        id=target["id"],
        database_=DATABASE,
    )
    assert (after["grade"], after["status"]) == (None, "ARCHIVED")


async def test_a_grading_waits_for_new_thresholds(
    bank: Driver, db: Db, monkeypatch: pytest.MonkeyPatch
) -> None:
    """New thresholds (no grade by purchases or share) are being set when the grading starts: it
    waits for them and grades by them, so nothing is left graded by the ones replaced."""
    out_of_reach = Decimal("1000000000000")
    paused, go = pause_after(monkeypatch, data_writes.Write, "rows", key_accounts.THRESHOLDS_NOW)
    _, graded = await race(
        key_accounts.set_thresholds(db, "t", key_accounts.Thresholds(
            a_purchases=out_of_reach, a_share=1.0, b_purchases=out_of_reach, b_share=1.0,
            c_purchases=out_of_reach,
        )),
        key_accounts.grade_clients(db, "t"),
        paused, go,
    )  # fmt: skip
    assert not isinstance(graded, BaseException), graded
    assert graded  # the small bank's A and B clients lose their grades
    assert await key_accounts.grade_clients(db, "t", dry_run=True) == []


async def test_a_new_member_and_the_departments_archiving(
    bank: Driver, db: Db, monkeypatch: pytest.MonkeyPatch
) -> None:
    await org_operations.create_department(
        db, "t", False, "d-new", "新组", DepartmentFunction.CLIENT, OrgModel.CLIENT, "d-ka"
    )
    paused, go = pause_after(monkeypatch, data_writes.Write, "one", manager_writes.CREATE_STATE)
    joined, archived = await race(
        manager_writes.create_manager(
            db, "t", NEW_MANAGER.model_copy(update={"department_id": "d-new"})
        ),
        org_operations.archive_department(db, "t", False, "d-new", None),
        paused, go,
    )  # fmt: skip
    assert not isinstance(joined, BaseException)
    assert _refused(archived, "ARCHIVE_EMPTY")
    assert rows(bank, "MATCH (d:Department {id: 'd-new'}) RETURN d.archived AS archived") == [
        {"archived": False}
    ]


async def test_a_transfer_and_the_clients_archiving(
    bank: Driver, db: Db, monkeypatch: pytest.MonkeyPatch
) -> None:
    paused, go = pause_after(monkeypatch, restructure.Change, "rows", org_operations.CLIENT_STATE)
    transferred, archived = await race(
        org_operations.transfer_client(db, "t", False, "c-3", "m-1", "调岗", 0),
        client_writes.archive_client(db, "t", "c-3", 0),
        paused, go,
    )  # fmt: skip
    assert not isinstance(transferred, BaseException)
    assert isinstance(archived, GraphError)  # the transfer moved its version on
    assert rows(bank, "MATCH (c:Client {id: 'c-3'}) RETURN c.status AS status") == [
        {"status": "ACTIVE"}
    ]


async def test_a_transfer_and_a_new_boss_for_the_old_manager_take_turns_without_deadlock(
    bank: Driver, db: Db, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """c-3 moves from m-2 to m-x while m-2 is made to report to m-x: both lock the two managers
    in id order (taken one by one, each held one and waited for the other: a deadlock, which
    Neo4j broke by failing one, retried)."""
    caplog.set_level(logging.WARNING, logger="neo4j")
    paused, go = pause_after(
        monkeypatch, restructure.Change, "rows", org_operations.CLIENT_STATE, nth=2
    )
    transferred, reported = await race(
        org_operations.transfer_client(db, "t", False, "c-3", "m-x", "调岗", None),
        manager_writes.update_manager(
            db, "t", "m-2", manager_writes.ManagerChanges(reports_to_id="m-x"), None
        ),
        paused, go,
    )  # fmt: skip
    _took_turns(caplog, transferred, reported)
    assert rows(
        bank, "MATCH (m:Manager)-[:MANAGES {role: 'PRIMARY'}]->(:Client {id: 'c-3'}) "
        "OPTIONAL MATCH (:Manager {id: 'm-2'})-[:REPORTS_TO]->(b:Manager) "
        "RETURN m.id AS primary, b.id AS boss"
    ) == [{"primary": "m-x", "boss": "m-x"}]  # fmt: skip


async def test_a_promotion_and_a_demotion_of_one_manager(
    bank: Driver, db: Db, monkeypatch: pytest.MonkeyPatch
) -> None:
    # m-1 is SENIOR with a master's degree and four years: PRINCIPAL is open to them.
    paused, go = pause_after(monkeypatch, data_writes.Write, "one", promotions.STATE)
    promoted, demoted = await race(
        promotions.change_grade(db, "t", "m-1", "BANK", "PRINCIPAL", None),
        promotions.change_grade(db, "t", "m-1", "BANK", "MANAGER", "业绩不达标", demotion=True),
        paused, go,
    )  # fmt: skip
    assert not isinstance(promoted, BaseException)
    # The demotion now starts from PRINCIPAL: it is judged on that, not lost behind it.
    history = rows(
        bank,
        "MATCH (g:GradeChange)-[:OF]->(:Manager {id: 'm-1'}) "
        "RETURN g.fromGrade AS from, g.toGrade AS to ORDER BY g.at",
    )
    level = rows(bank, "MATCH (m:Manager {id: 'm-1'}) RETURN m.level AS level")[0]["level"]
    # From PRINCIPAL, MANAGER is two grades down: refused, where from SENIOR it was one.
    assert isinstance(demoted, InvalidInput), demoted
    assert (demoted.field, demoted.message) == ("toLevel", "a demotion goes one grade down")
    assert history == [{"from": "SENIOR", "to": "PRINCIPAL"}] and level == "PRINCIPAL"


async def test_a_facility_closed_while_money_is_drawn_on_it(
    bank: Driver, db: Db, monkeypatch: pytest.MonkeyPatch
) -> None:
    """f-1 repaid; its closing has found nothing drawn when a drawing comes in. (Unlocked, the
    drawing would commit in the pause and leave a closed facility with money drawn.)"""
    await facility_writes.repay_facility(db, "t", "f-1", Decimal("123456789.01"))
    # The second read of its state: the first, before the locks, finds whom to lock.
    paused, go = pause_after(
        monkeypatch, data_writes.Write, "one", facility_writes.MOVE_STATE, nth=2
    )
    closed, drawn = await race(
        facility_writes.close_facility(db, "t", "f-1", None),
        facility_writes.draw_facility(db, "t", "f-1", Decimal("100")),
        paused, go,
    )  # fmt: skip
    assert not isinstance(closed, BaseException)
    assert _refused(drawn, "FACILITY_OPEN")
    assert rows(bank, "MATCH (f:Facility {id: 'f-1'}) RETURN f.status AS s, f.drawnCents AS d") == [
        {"s": "CLOSED", "d": 0}
    ]


async def test_a_limit_lowered_while_money_is_drawn(
    bank: Driver, db: Db, monkeypatch: pytest.MonkeyPatch
) -> None:
    """f-1 (limit 500,000,000.00, 123,456,789.01 drawn) is being lowered to 200,000,000.00, its
    drawn amount checked, when 100,000,000.00 more is drawn. (Unlocked, the drawing would commit
    in the pause and leave more drawn than the new limit.)"""
    paused, go = pause_after(
        monkeypatch, data_writes.Write, "one", facility_writes.GUARANTEES_ABOVE
    )
    lowered, drawn = await race(
        facility_writes.change_facility_limit(db, "t", "f-1", Decimal("200000000"), None),
        facility_writes.draw_facility(db, "t", "f-1", Decimal("100000000")),
        paused, go,
    )  # fmt: skip
    assert not isinstance(lowered, BaseException)
    assert _refused(drawn, "DRAWN_WITHIN_LIMIT")
    assert rows(
        bank, "MATCH (f:Facility {id: 'f-1'}) RETURN f.limitCents AS l, f.drawnCents AS d"
    ) == [{"l": 20000000000, "d": 12345678901}]


@pytest.mark.parametrize("guarantee", ["added", "amended"])
async def test_a_limit_lowered_while_a_guarantee_is_added_or_raised(
    bank: Driver, db: Db, monkeypatch: pytest.MonkeyPatch, guarantee: str
) -> None:
    """f-1 repaid down to 1.00 drawn is being lowered to 20,000,000.00, its guarantees checked
    (c-3's 10,000,000.00), when c-1 guarantees 30,000,000.00 of it, or c-3 raises its guarantee
    to that. (Unlocked, the guarantee would commit in the pause and exceed the new limit.)"""
    await facility_writes.repay_facility(db, "t", "f-1", Decimal("123456788.01"))
    paused, go = pause_after(
        monkeypatch, data_writes.Write, "one", facility_writes.GUARANTEES_ABOVE
    )
    amount = Decimal("30000000")
    lowered, guaranteed = await race(
        facility_writes.change_facility_limit(db, "t", "f-1", Decimal("20000000"), None),
        facility_writes.add_guarantee(db, "t", "c-1", "f-1", amount)
        if guarantee == "added"
        else facility_writes.change_guarantee_amount(db, "t", "c-3", "f-1", amount, None),
        paused, go,
    )  # fmt: skip
    assert not isinstance(lowered, BaseException)
    assert _refused(guaranteed, "GUARANTEE_WITHIN_LIMIT")
    assert rows(
        bank,
        "MATCH (g:Client)-[r:GUARANTEES]->(:Facility {id: 'f-1'}) "
        "RETURN g.id AS g, r.amountCents AS amount",
    ) == [{"g": "c-3", "amount": 1000000000}]


async def test_a_hire_and_an_assignment_of_the_hires_boss_take_turns_without_deadlock(
    bank: Driver, db: Db, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """m-9 is hired into d-ka-rm reporting to m-1 while m-1 is assigned from d-ka-rm to d-ka.
    Both take the department before the manager (the hire holds d-ka-rm, then links to m-1):
    taken the other way round, the assignment held m-1 and waited for d-ka-rm, the hire held
    d-ka-rm and waited for m-1, and Neo4j broke the deadlock by failing one."""
    caplog.set_level(logging.WARNING, logger="neo4j")
    paused, go = pause_after(monkeypatch, data_writes.Write, "one", manager_writes.CREATE_STATE)
    hired, assigned = await race(
        manager_writes.create_manager(
            db, "t", NEW_MANAGER.model_copy(update={"reports_to_id": "m-1"})
        ),
        org_operations.assign_manager(db, "t", False, "m-1", "d-ka", None),
        paused, go,
    )  # fmt: skip
    _took_turns(caplog, hired, assigned)
    assert rows(
        bank, "MATCH (n:Manager {id: 'm-9'})-[:MEMBER_OF]->(nd:Department), "
        "(n)-[:REPORTS_TO]->(b:Manager)-[:MEMBER_OF]->(bd:Department) "
        "RETURN nd.id AS hiredInto, b.id AS boss, bd.id AS bossIn"
    ) == [{"hiredInto": "d-ka-rm", "boss": "m-1", "bossIn": "d-ka"}]  # fmt: skip


@pytest.mark.parametrize("other", ["draw", "repay"])
async def test_a_guarantee_released_while_money_moves_takes_turns_without_deadlock(
    bank: Driver,
    db: Db,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    other: str,
) -> None:
    """c-3's guarantee of f-1 (c-2's loan) is being released, the guarantee deleted, when money
    moves on f-1. Both lock c-2 before f-1, so the second waits for the first; had the release
    locked c-2 only for its audit record, after f-1, the two would deadlock, and Neo4j would
    fail one of them for the driver to retry."""
    caplog.set_level(logging.WARNING, logger="neo4j")
    paused, go = pause_after(
        monkeypatch, data_writes.Write, "one", facility_writes.RELEASE_GUARANTEE
    )
    move = facility_writes.draw_facility if other == "draw" else facility_writes.repay_facility
    released, moved = await race(
        facility_writes.release_guarantee(db, "t", "c-3", "f-1", None),
        move(db, "t", "f-1", Decimal("1")),
        paused, go,
    )  # fmt: skip
    _took_turns(caplog, released, moved)
    assert rows(bank, "MATCH (:Client)-[g:GUARANTEES]->(:Facility {id: 'f-1'}) RETURN g") == []


def _blocked_transactions(driver: Driver) -> int:
    return len(rows(driver, "SHOW TRANSACTIONS YIELD status WHERE status STARTS WITH 'Blocked' "
                            "RETURN status"))  # fmt: skip


async def test_a_facility_re_lent_by_an_import_while_it_is_repaid(
    bank: Driver,
    db: Db,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    """A repayment of f-1 holds its borrower c-2 and is about to lock f-1 when an import lends
    f-1 to c-1. The import takes the borrowers' locks before the facility's, as the mutations
    do, so it waits for the repayment, which then finishes first, rather than taking the two in
    the opposite order (which can deadlock, for Neo4j to fail one side and the driver to retry
    it)."""
    caplog.set_level(logging.WARNING, logger="neo4j")
    paused, go = asyncio.Event(), asyncio.Event()
    lock_clients = data_writes.Write.lock_clients

    async def held(self: data_writes.Write, client_ids: Sequence[str]) -> None:
        await lock_clients(self, client_ids)
        if not paused.is_set():
            paused.set()
            await go.wait()

    monkeypatch.setattr(data_writes.Write, "lock_clients", held)
    folder = tmp_path / "re-lent"
    folder.mkdir()
    (folder / "facilities.csv").write_text(
        "id,borrowerId,type,limit,drawn,currency,grantingDepartmentId,approvingDepartmentId,"
        "grantedAt\nf-1,c-1,LOAN,500000000.00,100.00,CNY,d-ka,d-risk,2022-01-10\n"
    )
    repaid = asyncio.create_task(facility_writes.repay_facility(db, "t", "f-1", Decimal("1")))
    await paused.wait()
    imported = asyncio.create_task(asyncio.to_thread(import_csv, bank, DATABASE, folder))
    for _ in range(600):  # until the import waits for a lock the repayment holds
        if _blocked_transactions(bank) or imported.done():
            break
        await asyncio.sleep(0.05)
    assert _blocked_transactions(bank) == 1
    go.set()
    await repaid
    report = await imported
    assert report.accepted, report.problems.kept
    assert not [r for r in caplog.records if "Deadlock" in r.getMessage()]
    assert rows(
        bank, "MATCH (c:Client)-[:BORROWS]->(f:Facility {id: 'f-1'}) RETURN c.id AS c, "
        "f.drawnCents AS d"
    ) == [{"c": "c-1", "d": 10000}]  # fmt: skip
    # The import's audit record shows what it replaced: the repaid amount, not what it read
    # before the repayment committed.
    [record] = rows(
        bank, "MATCH (a:AuditRecord {action: 'importCsv'})-[r:CHANGED]->(:Facility {id: 'f-1'}) "
        "RETURN r.before AS before"
    )  # fmt: skip
    [before] = json.loads(record["before"])
    assert before["drawnCents"] == 12345678901 - 100


async def test_a_client_renamed_while_an_import_restates_it_is_audited_as_replaced(
    bank: Driver, db: Db, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """An import of clients.csv (c-1's risk rating changed, its name as exported) has read its
    rows when updateClient renames c-1. The import then locks c-1 and reads it again, so its
    audit record shows the name it overwrote, not the one it first read."""
    export_csv(bank, DATABASE, tmp_path / "export")
    folder = tmp_path / "clients"
    folder.mkdir()
    lines = (tmp_path / "export" / "clients.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    rating = header.index("riskRating")
    row = next(line.split(",") for line in lines if line.startswith("c-1,"))
    row[rating] = "5" if row[rating] != "5" else "4"
    (folder / "clients.csv").write_text(f"{lines[0]}\n{','.join(row)}\n", encoding="utf-8")

    read_once, go = threading.Event(), threading.Event()
    current = csv_import._current

    def paused_after_reading(tx: Any, table: Any, rows: Any) -> Any:
        found = current(tx, table, rows)
        if not read_once.is_set():
            read_once.set()
            go.wait(30)
        return found

    monkeypatch.setattr(csv_import, "_current", paused_after_reading)
    imported = asyncio.create_task(asyncio.to_thread(import_csv, bank, DATABASE, folder))
    assert await asyncio.to_thread(read_once.wait, 30)
    await client_writes.update_client(
        db, "t", "c-1", client_writes.ClientChanges(name="改名客户"), None
    )
    go.set()
    assert (await imported).written
    [record] = rows(
        bank, "MATCH (:AuditRecord {action: 'importCsv'})-[r:CHANGED]->(:Client {id: 'c-1'}) "
        "RETURN r.before AS before, r.after AS after"
    )  # fmt: skip
    [before], [after] = json.loads(record["before"]), json.loads(record["after"])
    assert before["name"] == "改名客户"
    assert after["name"] == row[header.index("name")]
