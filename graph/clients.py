"""Clients: fetch by id (batched for DataLoaders) and list with filters, a page at a time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, LiteralString

from graph.db import Db
from graph.models import Client, ClientKind, KeyAccountGrade, Page
from graph.pagination import build_page
from graph.visibility import BOOK

CLIENT_FIELDS: Final[LiteralString] = (
    "{.id, .name, .kind, .segment, .status, .grade, .riskRating, .industry, .region, .version,"
    " .stage, .potential}"
)

GET_CLIENTS: Final[LiteralString] = (
    "UNWIND $ids AS id MATCH (c:Client {id: id}) RETURN c " + CLIENT_FIELDS + " AS client"
)

# The Client `c`'s primary manager works in department `$departmentId` or any below it: team
# figures roll up along the direct hierarchy.
IN_DEPARTMENT: Final[LiteralString] = """EXISTS {
    MATCH (c)<-[:MANAGES {role: 'PRIMARY'}]-(:Manager)-[:MEMBER_OF]->(:Department)
          -[:DIRECT_REPORT*0..]->(:Department {id: $departmentId}) }"""

# Each filter is off when its parameter is null.
CLIENT_FILTER: Final[LiteralString] = (
    """
      ($nameContains IS NULL OR c.name CONTAINS $nameContains)
  AND ($kind IS NULL OR c.kind = $kind)
  AND ($grade IS NULL OR c.grade = $grade)
  AND ($managerId IS NULL OR EXISTS {
    MATCH (:Manager {id: $managerId})-[:MANAGES {role: 'PRIMARY'}]->(c) })
  AND ($departmentId IS NULL OR """
    + IN_DEPARTMENT
    + """)
"""
)

# Every client may be listed: the page comes from the id index in order, the count apart.
LIST_CLIENTS: Final[LiteralString] = (
    "CALL () { MATCH (c:Client) WHERE "
    + CLIENT_FILTER
    + " RETURN count(c) AS total }"
    + " CALL () { MATCH (c:Client) WHERE ($after IS NULL OR c.id > $after) AND "
    + CLIENT_FILTER
    + " WITH c ORDER BY c.id LIMIT $limit RETURN collect(c "
    + CLIENT_FIELDS
    + ") AS clients }"
    + " RETURN total, clients"
)
# A manager (`$visibleTo`) lists their book: read from the manager's end, filtered, counted and
# paged in one pass.
LIST_BOOK_CLIENTS: Final[LiteralString] = (
    BOOK
    + "WITH c WHERE "
    + CLIENT_FILTER
    + """WITH c ORDER BY c.id
WITH collect(c) AS matching
RETURN size(matching) AS total,
       [c IN [m IN matching WHERE $after IS NULL OR m.id > $after][..$limit] | c """
    + CLIENT_FIELDS
    + """] AS clients
"""
)


@dataclass(frozen=True)
class ClientFilter:
    name_contains: str | None = None
    kind: ClientKind | None = None
    grade: KeyAccountGrade | None = None
    primary_manager_id: str | None = None
    department_id: str | None = None
    # Only what this manager may see (the MANAGER role); None for everyone else.
    visible_to: str | None = None


async def get_clients(db: Db, ids: Sequence[str]) -> dict[str, Client]:
    records = await db.read(GET_CLIENTS, {"ids": list(ids)})
    clients = (Client.model_validate(r["client"]) for r in records)
    return {c.id: c for c in clients}


async def list_clients(db: Db, first: int, after: str | None, filt: ClientFilter) -> Page[Client]:
    records = await db.read(
        LIST_CLIENTS if filt.visible_to is None else LIST_BOOK_CLIENTS,
        {
            "after": after,
            "limit": first + 1,
            "nameContains": filt.name_contains,
            "kind": filt.kind.value if filt.kind else None,
            "grade": filt.grade.value if filt.grade else None,
            "managerId": filt.primary_manager_id,
            "departmentId": filt.department_id,
            "visibleTo": filt.visible_to,
        },
    )
    record = records[0]
    rows = [Client.model_validate(row) for row in record["clients"]]
    return build_page(rows, first, record["total"])
