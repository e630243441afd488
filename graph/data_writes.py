"""The frame every data-in mutation runs in: one write transaction holding the mutation's checks
and its change, then an audit record of what it touched.

Graph errors raised inside roll the whole transaction back, so a refused mutation leaves nothing
behind. A uniqueness constraint that fires (two requests creating one id at once) becomes
`Duplicate`. The transaction function may be retried by the driver, so it keeps no state outside
the `Write` it is given.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, LiteralString, TypeVar

from neo4j import AsyncManagedTransaction
from neo4j.exceptions import ConstraintError

from graph.bank_calendar import zone_name
from graph.db import Db
from graph.errors import Duplicate, NotFound, VersionConflict, require
from graph.visibility import VISIBLE_TO_MANAGER

T = TypeVar("T")

# Changes that must not interleave (e.g. two control links closing one cycle) take turns on a
# named lock node; `OrgLock.id` is unique, so even the first MERGE cannot race.
LOCK: Final[LiteralString] = "MERGE (l:OrgLock {id: $id}) SET l.touchedAt = datetime()"


def _locking(label: LiteralString) -> LiteralString:
    return (
        "UNWIND $ids AS id MATCH (n:"
        + label
        + " {id: id}) WITH n ORDER BY n.id SET n._lock = true REMOVE n._lock"
    )


# Setting and removing a property takes the node's write lock until commit and changes nothing:
# a mutation that checks a node's state before writing locks it first, and holds it still
# meanwhile (e.g. no archiving between a facility's check of its borrower and its creation; no
# deactivating a manager between a new client's check of them and its link). Both sides of
# such a pair lock the same node before they read, so they take turns.
LOCK_CLIENTS: Final[LiteralString] = _locking("Client")
LOCK_MANAGERS: Final[LiteralString] = _locking("Manager")
LOCK_PRODUCTS: Final[LiteralString] = _locking("Product")
LOCK_DEPARTMENTS: Final[LiteralString] = _locking("Department")
LOCK_INTERACTIONS: Final[LiteralString] = _locking("Interaction")
LOCK_FACILITIES: Final[LiteralString] = _locking("Facility")

IN_BOOK: Final[LiteralString] = (
    "UNWIND $ids AS id MATCH (c:Client {id: id}) WHERE "
    + VISIBLE_TO_MANAGER
    + " RETURN collect(c.id) AS ids"
)

PRIMARIES: Final[LiteralString] = """
MATCH (m:Manager)-[:MANAGES {role: 'PRIMARY'}]->(:Client {id: $id})
RETURN m.id AS id, coalesce(m.active, true) AS active ORDER BY id
"""

AUDIT: Final[LiteralString] = """
CREATE (a:AuditRecord {id: randomUUID(), at: datetime(), actor: $actor, action: $action,
                       input: $input, before: $before, after: $after})
WITH a
CALL (a) {
  CALL () {
    UNWIND $clients AS id MATCH (n:Client {id: id}) RETURN n, $clientRows[id] AS row
    UNION
    UNWIND $managers AS id MATCH (n:Manager {id: id}) RETURN n, null AS row
    UNION
    UNWIND $products AS id MATCH (n:Product {id: id}) RETURN n, null AS row
    UNION
    UNWIND $facilities AS id MATCH (n:Facility {id: id}) RETURN n, null AS row
    UNION
    UNWIND $settings AS id MATCH (n:RiskSettings {id: id}) RETURN n, null AS row
    UNION
    UNWIND $settings AS id MATCH (n:KeyAccountSettings {id: id}) RETURN n, null AS row
  }
  CREATE (a)-[r:CHANGED]->(n)
  SET r += coalesce(row, {})
}
RETURN a.id AS id
"""


@dataclass
class Write:
    """One mutation's transaction: run statements, and note what was touched for the audit."""

    tx: AsyncManagedTransaction
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)
    clients: set[str] = field(default_factory=set)
    managers: set[str] = field(default_factory=set)
    products: set[str] = field(default_factory=set)
    facilities: set[str] = field(default_factory=set)
    settings: set[str] = field(default_factory=set)  # RiskSettings, KeyAccountSettings ids
    # A write touching many clients each its own way (gradeClients) keeps each client's change
    # on its link (`input`, `before`, `after` as JSON), as an import does: a client's audit log
    # shows its own change, not the whole run's.
    client_rows: dict[str, dict[str, str]] = field(default_factory=dict)

    async def rows(self, query: LiteralString, **params: Any) -> list[dict[str, Any]]:
        """Every statement gets `$tz`, the bank's time zone: a write dates what it records by
        the bank's day (`date({timezone: $tz})`), whatever the server's zone."""
        result = await self.tx.run(query, tz=zone_name(), **params)
        return [dict(r) async for r in result]

    async def one(self, query: LiteralString, **params: Any) -> dict[str, Any]:
        """The single row a statement returns (state look-ups use OPTIONAL MATCH for this)."""
        [row] = await self.rows(query, **params)
        return row

    async def lock(self, name: str) -> None:
        await self.tx.run(LOCK, id=name)

    async def lock_clients(self, client_ids: Sequence[str]) -> None:
        await self.tx.run(LOCK_CLIENTS, ids=sorted(set(client_ids)))

    async def lock_managers(self, manager_ids: Sequence[str]) -> None:
        await self.tx.run(LOCK_MANAGERS, ids=sorted(set(manager_ids)))

    async def lock_products(self, product_ids: Sequence[str]) -> None:
        await self.tx.run(LOCK_PRODUCTS, ids=sorted(set(product_ids)))

    async def lock_departments(self, department_ids: Sequence[str]) -> None:
        await self.tx.run(LOCK_DEPARTMENTS, ids=sorted(set(department_ids)))

    async def lock_interactions(self, interaction_ids: Sequence[str]) -> None:
        await self.tx.run(LOCK_INTERACTIONS, ids=sorted(set(interaction_ids)))

    async def lock_facilities(self, facility_ids: Sequence[str]) -> None:
        await self.tx.run(LOCK_FACILITIES, ids=sorted(set(facility_ids)))

    async def require_in_book(self, visible_to: str | None, client_ids: Sequence[str]) -> None:
        """A manager (`visible_to`) may change only clients in their book; to them any other
        client does not exist, as it does not when they read it. Other roles pass."""
        if visible_to is None:
            return
        row = await self.one(IN_BOOK, ids=list(client_ids), visibleTo=visible_to)
        for client_id in client_ids:
            if client_id not in row["ids"]:
                raise NotFound("Client", client_id)

    async def require_active_primary(self, client_id: str) -> list[str]:
        """Before a client becomes active: it has exactly one primary manager, who is active and
        held so (locked) until this transaction ends, since deactivating a manager checks their
        active clients. The primary manager's id, in a list."""
        primaries = await self.rows(PRIMARIES, id=client_id)
        await self.lock_managers([p["id"] for p in primaries])
        primaries = await self.rows(PRIMARIES, id=client_id)
        # A prospect left without one (by an older import, or a since-removed manager) would
        # otherwise become an active client whom no one owns.
        require(
            len(primaries) == 1,
            "ONE_PRIMARY_MANAGER",
            f"client {client_id!r} has {len(primaries)} primary managers: an active client has "
            "exactly one (transferClient gives it one)",
            [client_id, *(p["id"] for p in primaries)],
        )
        inactive = [p["id"] for p in primaries if not p["active"]]
        require(
            not inactive,
            "PRIMARY_MANAGER_ACTIVE",
            f"client {client_id!r} has an inactive primary manager: transfer it first",
            [client_id, *inactive],
        )
        return [p["id"] for p in primaries]


def require_active_manager(manager_id: str, active: bool | None) -> None:
    """A deactivated manager (left the bank, on leave) takes no new work or grade."""
    require(
        active is not False, "MANAGER_ACTIVE", f"manager {manager_id!r} is not active", [manager_id]
    )


def require_client_not_archived(client_id: str, status: str | None) -> None:
    """Archiving is final: an archived client takes no change."""
    require(status != "ARCHIVED", "NOT_ARCHIVED", f"client {client_id!r} is archived", [client_id])


def require_active_department(archived: bool, department_id: str) -> None:
    require(
        not archived, "NOT_ARCHIVED", f"department {department_id!r} is archived", [department_id]
    )


def require_version(node_id: str, expected: int | None, actual: int | None) -> None:
    if expected is not None and expected != (actual or 0):
        raise VersionConflict(node_id, expected, actual or 0)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


async def run_write(
    db: Db,
    action: str,
    actor: str,
    inputs: dict[str, Any],
    work: Callable[[Write], Awaitable[T]],
    creates: tuple[str, str] | None = None,
) -> T:
    """Run `work` and its audit record as one transaction. `creates` names the (kind, id) of a
    node the mutation creates, for the `Duplicate` a lost race on its id turns into."""

    async def transaction(tx: AsyncManagedTransaction) -> T:
        write = Write(tx=tx)
        done = await work(write)
        await tx.run(
            AUDIT,
            actor=actor,
            action=action,
            input=_json(inputs),
            before=_json(write.before),
            after=_json(write.after),
            clients=sorted(write.clients),
            managers=sorted(write.managers),
            products=sorted(write.products),
            facilities=sorted(write.facilities),
            settings=sorted(write.settings),
            clientRows=write.client_rows,
        )
        return done

    try:
        return await db.write(transaction)
    except ConstraintError as exc:
        if creates is None:
            raise
        raise Duplicate(*creates) from exc
