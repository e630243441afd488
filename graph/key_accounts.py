"""Key accounts (大客户): grades A, B and C from configurable thresholds, and each grade's plan.

A client's purchases are its active holdings' balances; its contribution share is that figure
as a share of its primary manager's book (the documents' "profit contribution", which the bank's
holdings are the measure of here); its potential is what the manager judged (`potential`: HIGH,
MEDIUM, LOW). Grade A: purchases or share above A's thresholds; B: above B's, or HIGH
potential; C: above C's purchases, or MEDIUM potential; otherwise no grade. Every comparison is
strictly "above" (超过一定限额): a client exactly at a threshold does not qualify.

The thresholds and the plans are data (`KeyAccountSettings`, `ManagementPlan`), seeded with
defaults on migration and kept once edited.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any, Final, LiteralString

from neo4j import Driver

from graph.data_writes import Write, require_client_not_archived, run_write
from graph.db import Db
from graph.errors import InvalidInput, NotFound
from graph.input_checks import require_amount
from graph.models import GraphModel, cents_to_decimal, decimal_to_cents

SETTINGS_ID: Final = "key-accounts"
DEFAULTS: Final = {
    "aPurchasesCents": decimal_to_cents(Decimal("10000000")),
    "aShare": 0.10,
    "bPurchasesCents": decimal_to_cents(Decimal("1000000")),
    "bShare": 0.05,
    "cPurchasesCents": decimal_to_cents(Decimal("100000")),
}
PLANS: Final = (
    {"grade": "A", "goals": "grow share of wallet; keep the whole relationship",
     "serviceLevel": "dedicated team led by a senior manager; head-office resources on call",
     "strategy": "integrated pricing on the whole relationship (综合效益); tailored solutions",
     "visitEveryDays": 30},
    {"grade": "B", "goals": "deepen the relationship; move towards A",
     "serviceLevel": "named manager with product specialists on request",
     "strategy": "cross-sell along the client's group and supply chain", "visitEveryDays": 60},
    {"grade": "C", "goals": "keep and develop",
     "serviceLevel": "named manager; standard service", "strategy": "standard products; campaigns",
     "visitEveryDays": 90},
)  # fmt: skip

SEED: Final[LiteralString] = """
MERGE (s:KeyAccountSettings {id: $id})
ON CREATE SET s += $defaults, s.updatedAt = datetime(), s.updatedBy = 'migration'
WITH s
UNWIND $plans AS plan
MERGE (p:ManagementPlan {grade: plan.grade})
ON CREATE SET p += plan
"""

SETTINGS: Final[LiteralString] = """
OPTIONAL MATCH (s:KeyAccountSettings {id: $id})
RETURN s {.*} AS settings,
       COLLECT { MATCH (p:ManagementPlan) RETURN p {.*} ORDER BY p.grade } AS plans
"""

# What the audit record keeps as `before`.
THRESHOLDS_NOW: Final[LiteralString] = """
MATCH (s:KeyAccountSettings {id: $id})
RETURN s {.aPurchasesCents, .aShare, .bPurchasesCents, .bShare, .cPurchasesCents} AS values
"""

SET_THRESHOLDS: Final[LiteralString] = """
MERGE (s:KeyAccountSettings {id: $id})
SET s += $values, s.updatedAt = datetime(), s.updatedBy = $actor
"""

# The thresholds as saved, or the defaults: `s` for the grading below.
_THRESHOLDS: Final[LiteralString] = """
OPTIONAL MATCH (saved:KeyAccountSettings {id: $id})
WITH {aPurchasesCents: coalesce(saved.aPurchasesCents, $defaults.aPurchasesCents),
      aShare: coalesce(saved.aShare, $defaults.aShare),
      bPurchasesCents: coalesce(saved.bPurchasesCents, $defaults.bPurchasesCents),
      bShare: coalesce(saved.bShare, $defaults.bShare),
      cPurchasesCents: coalesce(saved.cPurchasesCents, $defaults.cPurchasesCents)} AS s
"""
# From `s`, each client `c`, its `purchases` and its `share`: the clients whose grade would
# change. "Above" a threshold, as the rules say (超过一定限额): a client exactly at it does not
# qualify.
_GRADE: Final[LiteralString] = """
WITH c, c.grade AS before,
     CASE WHEN purchases > s.aPurchasesCents OR share > s.aShare THEN 'A'
          WHEN purchases > s.bPurchasesCents OR share > s.bShare OR c.potential = 'HIGH'
            THEN 'B'
          WHEN purchases > s.cPurchasesCents OR c.potential = 'MEDIUM' THEN 'C'
          ELSE null END AS after
WHERE coalesce(before, '-') <> coalesce(after, '-')
RETURN c.id AS clientId, before, after
"""
_PURCHASES: Final[LiteralString] = (
    "COLLECT { MATCH (c)-[h:HOLDS]->() WHERE h.active RETURN sum(h.balanceCents) }[0]"
)

# A client's book: its primary manager's, the first by id should it have two for a moment (an
# import between a transfer's rows), so that it is graded once and its purchases count in one
# share.
_BOOK_OF_C: Final[LiteralString] = (
    "COLLECT { MATCH (p:Manager)-[:MANAGES {role: 'PRIMARY'}]->(c) "
    "RETURN p.id ORDER BY p.id LIMIT 1 }[0]"
)
# The books to grade, and how many clients not archived each holds.
BOOKS: Final[LiteralString] = (
    """
MATCH (c:Client) WHERE c.status <> 'ARCHIVED'
WITH """
    + _BOOK_OF_C
    + """ AS managerId
WHERE managerId IS NOT NULL
RETURN managerId, count(*) AS clients ORDER BY managerId
"""
)
# The clients of some managers' books, each graded against its own book; those whose grade would
# change.
GRADES_TO_CHANGE: Final[LiteralString] = (
    "CALL () {\n"
    + _THRESHOLDS
    + """
UNWIND $managerIds AS managerId
MATCH (:Manager {id: managerId})-[:MANAGES {role: 'PRIMARY'}]->(c:Client)
WHERE c.status <> 'ARCHIVED' AND managerId = """
    + _BOOK_OF_C
    + """
WITH s, managerId, c, """
    + _PURCHASES
    + """ AS purchases
WITH s, managerId, collect({c: c, purchases: coalesce(purchases, 0)}) AS book
WITH s, book, reduce(total = 0, e IN book | total + e.purchases) AS bookTotal
UNWIND book AS e
WITH s, e.c AS c, e.purchases AS purchases,
     CASE WHEN bookTotal > 0 THEN toFloat(e.purchases) / bookTotal ELSE 0.0 END AS share
"""
    + _GRADE
    + "}\nRETURN clientId, before, after ORDER BY clientId\n"
)
# Clients in no book (no primary manager: an import may leave a prospect so), graded by their
# purchases and potential alone; and archived clients, who keep no grade (archiveClient clears
# it; imported ones may still carry one).
UNBOOKED_GRADES_TO_CHANGE: Final[LiteralString] = (
    "CALL () {\n"
    + _THRESHOLDS
    + """
MATCH (c:Client) WHERE c.status <> 'ARCHIVED'
  AND NOT EXISTS { (:Manager)-[:MANAGES {role: 'PRIMARY'}]->(c) }
WITH s, c, coalesce("""
    + _PURCHASES
    + """, 0) AS purchases, 0.0 AS share
"""
    + _GRADE
    + """
UNION
MATCH (c:Client {status: 'ARCHIVED'}) WHERE c.grade IS NOT NULL
RETURN c.id AS clientId, c.grade AS before, null AS after
}
RETURN clientId, before, after ORDER BY clientId
"""
)
# Clients graded per transaction, about: whole books, so that each share is of a book read at one
# moment. The bank's 100,000 clients in one transaction ran past its time limit.
GRADING_BATCH: Final = 5000
# Changes a GraphQL answer lists (all are in the audit log): a first grading of a large bank
# changes most of its clients.
CHANGES_LISTED: Final = 1000


def grading_batches(books: list[tuple[str, int]], size: int) -> list[list[str]]:
    """Managers' ids in batches of whole books of about `size` clients (a larger book alone)."""
    batches: list[list[str]] = []
    clients = 0
    for manager_id, count in books:
        if not batches or clients + count > size:
            batches.append([])
            clients = 0
        batches[-1].append(manager_id)
        clients += count
    return batches


# Applied once the changed clients are locked, to those still as they were read: a client
# archived (its grade removed) or regraded meanwhile is left as that write left it.
APPLY_GRADES: Final[LiteralString] = """
UNWIND $changes AS change
MATCH (c:Client {id: change.clientId})
WHERE (c.status <> 'ARCHIVED' OR change.after IS NULL)
  AND coalesce(c.grade, '') = coalesce(change.before, '')
SET c.grade = change.after, c.version = coalesce(c.version, 0) + 1
RETURN change.clientId AS clientId, change.before AS before, change.after AS after
ORDER BY clientId
"""

CLIENT_EXISTS: Final[LiteralString] = (
    "MATCH (c:Client {id: $id}) RETURN c.id AS id, c.status AS status, c.potential AS potential"
)
SET_POTENTIAL: Final[LiteralString] = """
MATCH (c:Client {id: $id})
SET c.potential = $potential, c.version = coalesce(c.version, 0) + 1
RETURN c.id AS id
"""


class Thresholds(GraphModel):
    a_purchases: Decimal
    a_share: float
    b_purchases: Decimal
    b_share: float
    c_purchases: Decimal


class ManagementPlan(GraphModel):
    grade: str
    goals: str
    service_level: str
    strategy: str
    visit_every_days: int


class KeyAccountSettings(GraphModel):
    thresholds: Thresholds
    plans: list[ManagementPlan]


class GradeChangeRow(GraphModel):
    client_id: str
    before: str | None
    after: str | None


def seed_key_accounts(driver: Driver, database: str) -> None:
    driver.execute_query(
        SEED, id=SETTINGS_ID, defaults=DEFAULTS, plans=list(PLANS), database_=database
    )


def _thresholds(raw: dict[str, Any] | None) -> Thresholds:
    values = {**DEFAULTS, **(raw or {})}
    return Thresholds(
        a_purchases=cents_to_decimal(values["aPurchasesCents"]),
        a_share=values["aShare"],
        b_purchases=cents_to_decimal(values["bPurchasesCents"]),
        b_share=values["bShare"],
        c_purchases=cents_to_decimal(values["cPurchasesCents"]),
    )


async def get_key_account_settings(db: Db) -> KeyAccountSettings:
    row = (await db.read(SETTINGS, {"id": SETTINGS_ID}))[0]
    plans = row["plans"] or [dict(p) for p in PLANS]
    return KeyAccountSettings(
        thresholds=_thresholds(row["settings"]),
        plans=[ManagementPlan.model_validate(p) for p in plans],
    )


def check_thresholds(t: Thresholds) -> None:
    for name in ("a_purchases", "b_purchases", "c_purchases"):
        require_amount(name.replace("_p", "P"), getattr(t, name))
    for name in ("a_share", "b_share"):
        if not 0 <= getattr(t, name) <= 1:
            raise InvalidInput(name.replace("_s", "S"), "must be a share between 0 and 1")
    if not t.a_purchases >= t.b_purchases >= t.c_purchases:
        raise InvalidInput("aPurchases", "thresholds must not rise from A to C")
    if t.a_share < t.b_share:
        raise InvalidInput("aShare", "must be at least bShare")


async def set_thresholds(db: Db, actor: str, t: Thresholds) -> Thresholds:
    check_thresholds(t)
    values = {
        "aPurchasesCents": decimal_to_cents(t.a_purchases),
        "aShare": t.a_share,
        "bPurchasesCents": decimal_to_cents(t.b_purchases),
        "bShare": t.b_share,
        "cPurchasesCents": decimal_to_cents(t.c_purchases),
    }

    async def work(w: Write) -> Thresholds:
        await w.lock(SETTINGS_ID)  # two changes one after the other, each with its own before
        before = await w.rows(THRESHOLDS_NOW, id=SETTINGS_ID)
        await w.tx.run(SET_THRESHOLDS, id=SETTINGS_ID, values=values, actor=actor)
        w.settings.add(SETTINGS_ID)
        w.before = before[0]["values"] if before else {}
        w.after = values
        return t

    return await run_write(db, "setKeyAccountThresholds", actor, values, work)


async def grade_clients(db: Db, actor: str, dry_run: bool = False) -> list[GradeChangeRow]:
    """Recompute every grade, book by book in transactions of about `GRADING_BATCH` clients,
    then the clients in no book and the archived; the clients whose grade changed (or, with
    `dry_run`, would change: nothing is written), in id order. Each batch grades under the
    thresholds as they are when it runs, and is audited on its own; a run cut short leaves the
    batches before as graded, and the next run grades the rest."""
    changed: dict[str, GradeChangeRow] = {}
    batch = 0

    async def grade(query: LiteralString, params: dict[str, Any]) -> None:
        nonlocal batch
        batch += 1
        params = {**params, "id": SETTINGS_ID, "defaults": DEFAULTS}
        if dry_run:
            rows = [r.data() for r in await db.read(query, params)]
        else:
            rows = await run_write(
                db, "gradeClients", actor, {"batch": batch}, _grading(query, params)
            )
        for r in rows:  # a client moved to a book graded later is graded again: its last grade
            changed[r["clientId"]] = GradeChangeRow.model_validate(r)

    async def grade_books(skip: set[str]) -> set[str]:
        """The books not in `skip`, batched; the managers whose books these were."""
        books = [(r["managerId"], int(r["clients"])) for r in await db.read(BOOKS)]
        books = [b for b in books if b[0] not in skip]
        for managers in grading_batches(books, GRADING_BATCH):
            await grade(GRADES_TO_CHANGE, {"managerIds": managers})
        return {manager for manager, _ in books}

    graded = await grade_books(set())
    await grade(UNBOOKED_GRADES_TO_CHANGE, {})
    # Books that appeared meanwhile (a manager hired, a client given to one): graded too. A
    # client moved into a book already graded waits for the next run.
    await grade_books(graded)
    return [changed[client] for client in sorted(changed)]


def _grading(
    query: LiteralString, params: dict[str, Any]
) -> Callable[[Write], Awaitable[list[dict[str, Any]]]]:
    async def work(w: Write) -> list[dict[str, Any]]:
        # The thresholds hold still until the grades they give are written: graded while a
        # change of them committed, the grades (and their audit) followed the replaced ones.
        await w.lock(SETTINGS_ID)
        rows = await w.rows(query, **params)
        await w.lock_clients([r["clientId"] for r in rows])
        applied = await w.rows(APPLY_GRADES, changes=rows)
        for r in applied:
            w.clients.add(r["clientId"])
            w.client_rows[r["clientId"]] = {
                "input": "{}",
                "before": json.dumps({"grade": r["before"]}),
                "after": json.dumps({"grade": r["after"]}),
            }
        w.after = {"changed": len(applied)}
        return applied

    return work


async def set_potential(
    db: Db, actor: str, client_id: str, potential: str | None, visible_to: str | None
) -> str:
    async def work(w: Write) -> str:
        await w.lock_clients([client_id])
        found = await w.rows(CLIENT_EXISTS, id=client_id)
        if not found:
            raise NotFound("Client", client_id)
        await w.require_in_book(visible_to, [client_id])
        require_client_not_archived(client_id, found[0]["status"])
        await w.tx.run(SET_POTENTIAL, id=client_id, potential=potential)
        w.clients.add(client_id)
        w.before = {"potential": found[0]["potential"]}
        w.after = {"potential": potential}
        return client_id

    inputs = {"clientId": client_id, "potential": potential}
    return await run_write(db, "setClientPotential", actor, inputs, work)
