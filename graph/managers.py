"""Managers: by id, listed with filters, and what hangs off them (department, boss, clients)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, LiteralString

from graph.db import Db
from graph.models import Manager, ManagerAssignment, ManagerLevel, Page
from graph.pagination import build_page
from graph.visibility import visible_to_manager

MANAGER_FIELDS: Final[LiteralString] = (
    "{.id, .name, .level, .education, .title, .creditYears, .active, .version}"
)

GET_MANAGERS: Final[LiteralString] = (
    "UNWIND $ids AS id MATCH (m:Manager {id: id}) RETURN m " + MANAGER_FIELDS + " AS manager"
)

MANAGER_FILTER: Final[LiteralString] = """
      ($nameContains IS NULL OR m.name CONTAINS $nameContains)
  AND ($level IS NULL OR m.level = $level)
  AND ($departmentId IS NULL OR EXISTS {
    MATCH (m)-[:MEMBER_OF]->(:Department)-[:DIRECT_REPORT*0..]->(:Department {id: $departmentId})
  })
"""

LIST_MANAGERS: Final[LiteralString] = (
    "CALL () { MATCH (m:Manager) WHERE "
    + MANAGER_FILTER
    + " RETURN count(m) AS total }"
    + " CALL () { MATCH (m:Manager) WHERE ($after IS NULL OR m.id > $after) AND "
    + MANAGER_FILTER
    + " WITH m ORDER BY m.id LIMIT $limit RETURN collect(m "
    + MANAGER_FIELDS
    + ") AS managers }"
    + " RETURN total, managers"
)

DEPARTMENT_OF_MANAGERS: Final[LiteralString] = """
UNWIND $ids AS id
MATCH (:Manager {id: id})-[:MEMBER_OF]->(d:Department)
RETURN id, d.id AS departmentId
"""

BOSS_OF_MANAGERS: Final[LiteralString] = """
UNWIND $ids AS id
MATCH (:Manager {id: id})-[:REPORTS_TO]->(boss:Manager)
RETURN id, boss.id AS bossId
"""

# Asked by a manager (`$visibleTo`), only clients in their book, filtered before the cap.
CLIENTS_OF_MANAGERS: Final[LiteralString] = (
    """
UNWIND $ids AS id
MATCH (m:Manager {id: id})-[r:MANAGES]->(c:Client)
WHERE ($role IS NULL OR r.role = $role)
  AND ($visibleTo IS NULL OR """
    + visible_to_manager("c")
    + """)
WITH m, r, c ORDER BY r.role, c.id
WITH m, collect({clientId: c.id, role: r.role, since: r.since}) AS rows
RETURN m.id AS managerId, rows[..$cap] AS rows, size(rows) AS total
"""
)


@dataclass(frozen=True)
class ManagerFilter:
    name_contains: str | None = None
    level: ManagerLevel | None = None
    department_id: str | None = None


async def get_managers(db: Db, ids: Sequence[str]) -> dict[str, Manager]:
    records = await db.read(GET_MANAGERS, {"ids": list(ids)})
    managers = (Manager.model_validate(r["manager"]) for r in records)
    return {m.id: m for m in managers}


async def list_managers(
    db: Db, first: int, after: str | None, filt: ManagerFilter
) -> Page[Manager]:
    records = await db.read(
        LIST_MANAGERS,
        {
            "after": after,
            "limit": first + 1,
            "nameContains": filt.name_contains,
            "level": filt.level.value if filt.level else None,
            "departmentId": filt.department_id,
        },
    )
    record = records[0]
    rows = [Manager.model_validate(row) for row in record["managers"]]
    return build_page(rows, first, record["total"])


async def get_manager_departments(db: Db, ids: Sequence[str]) -> dict[str, str]:
    records = await db.read(DEPARTMENT_OF_MANAGERS, {"ids": list(ids)})
    return {r["id"]: r["departmentId"] for r in records}


async def get_manager_bosses(db: Db, ids: Sequence[str]) -> dict[str, str]:
    records = await db.read(BOSS_OF_MANAGERS, {"ids": list(ids)})
    return {r["id"]: r["bossId"] for r in records}


async def get_manager_clients(
    db: Db, ids: Sequence[str], role: str | None, cap: int, visible_to: str | None = None
) -> dict[str, tuple[list[ManagerAssignment], int]]:
    """Each manager's clients (at most `cap`) and how many in all; only those in the book of
    manager `visible_to` when given."""
    records = await db.read(
        CLIENTS_OF_MANAGERS,
        {"ids": list(ids), "role": role, "cap": cap, "visibleTo": visible_to},
    )
    return {
        r["managerId"]: (
            [
                ManagerAssignment(
                    client_id=row["clientId"],
                    manager_id=r["managerId"],
                    role=row["role"],
                    since=row["since"],
                )
                for row in r["rows"]
            ],
            r["total"],
        )
        for r in records
    }
