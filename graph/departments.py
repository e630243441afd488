"""Departments: by id, listed, and their links (direct tree, linear, check-and-balance, members).

Which link to follow is chosen from prewritten statements by `DepartmentLinkKind`, never by
formatting a relationship type into Cypher.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Final, LiteralString

from graph.db import Db
from graph.models import Department, DepartmentFunction, DepartmentLink, Page
from graph.pagination import build_page

# The most direct links a department may have above it (restructure's TREE_DEPTH, the importer's
# tree check); the queries that walk the tree read this far.
MAX_DEPTH: Final = 32


def dependent(a: LiteralString, b: LiteralString) -> LiteralString:
    """True when the departments bound to `a` and `b` are not independent: the same department,
    or one above the other along `DIRECT_REPORT`. What check-and-balance links (制衡) and facility
    approvals (审贷分离) must avoid."""
    return (
        "(" + a + " = " + b
        + " OR EXISTS { (" + a + ")-[:DIRECT_REPORT*1..64]->(" + b + ") }"
        + " OR EXISTS { (" + b + ")-[:DIRECT_REPORT*1..64]->(" + a + ") })"
    )  # fmt: skip


DEPARTMENT_FIELDS: Final[LiteralString] = "{.id, .name, .function, .model, .archived, .version}"

GET_DEPARTMENTS: Final[LiteralString] = (
    "UNWIND $ids AS id MATCH (d:Department {id: id}) RETURN d "
    + DEPARTMENT_FIELDS
    + " AS department"
)

DEPARTMENT_FILTER: Final[LiteralString] = """
      ($nameContains IS NULL OR d.name CONTAINS $nameContains)
  AND ($function IS NULL OR d.function = $function)
  AND ($includeArchived OR NOT coalesce(d.archived, false))
"""

LIST_DEPARTMENTS: Final[LiteralString] = (
    "CALL () { MATCH (d:Department) WHERE "
    + DEPARTMENT_FILTER
    + " RETURN count(d) AS total }"
    + " CALL () { MATCH (d:Department) WHERE ($after IS NULL OR d.id > $after) AND "
    + DEPARTMENT_FILTER
    + " WITH d ORDER BY d.id LIMIT $limit RETURN collect(d "
    + DEPARTMENT_FIELDS
    + ") AS departments }"
    + " RETURN total, departments"
)


class DepartmentLinkKind(Enum):
    PARENT = "PARENT"
    CHILDREN = "CHILDREN"
    LINEAR_TO = "LINEAR_TO"
    LINEAR_FROM = "LINEAR_FROM"
    CHECKS = "CHECKS"
    CHECKED_BY = "CHECKED_BY"


_LINK_TAIL: Final[LiteralString] = """
WITH id, o, r ORDER BY o.id
RETURN id, o.id AS otherId, r.since AS since, r.note AS note
"""

LINK_STATEMENTS: Final[dict[DepartmentLinkKind, LiteralString]] = {
    DepartmentLinkKind.PARENT: "UNWIND $ids AS id "
    "MATCH (:Department {id: id})-[rel:DIRECT_REPORT]->(o:Department) "
    "WITH id, o, {since: rel.since, note: null} AS r" + _LINK_TAIL,
    DepartmentLinkKind.CHILDREN: "UNWIND $ids AS id "
    "MATCH (:Department {id: id})<-[rel:DIRECT_REPORT]-(o:Department) "
    "WITH id, o, {since: rel.since, note: null} AS r" + _LINK_TAIL,
    DepartmentLinkKind.LINEAR_TO: "UNWIND $ids AS id "
    "MATCH (:Department {id: id})-[rel:LINEAR]->(o:Department) "
    "WITH id, o, {since: rel.since, note: rel.purpose} AS r" + _LINK_TAIL,
    DepartmentLinkKind.LINEAR_FROM: "UNWIND $ids AS id "
    "MATCH (:Department {id: id})<-[rel:LINEAR]-(o:Department) "
    "WITH id, o, {since: rel.since, note: rel.purpose} AS r" + _LINK_TAIL,
    DepartmentLinkKind.CHECKS: "UNWIND $ids AS id "
    "MATCH (:Department {id: id})-[rel:CHECKS]->(o:Department) "
    "WITH id, o, {since: rel.since, note: rel.scope} AS r" + _LINK_TAIL,
    DepartmentLinkKind.CHECKED_BY: "UNWIND $ids AS id "
    "MATCH (:Department {id: id})<-[rel:CHECKS]-(o:Department) "
    "WITH id, o, {since: rel.since, note: rel.scope} AS r" + _LINK_TAIL,
}

MEMBERS_OF_DEPARTMENTS: Final[LiteralString] = """
UNWIND $ids AS id
MATCH (:Department {id: id})<-[:MEMBER_OF]-(m:Manager)
WITH id, m ORDER BY m.id
RETURN id, collect(m.id) AS managerIds
"""

PRODUCTS_OF_DEPARTMENTS: Final[LiteralString] = """
UNWIND $ids AS id
MATCH (:Department {id: id})-[:OFFERS]->(p:Product)
WITH id, p ORDER BY p.id
RETURN id, collect(p.id) AS productIds
"""

PATH_TO_ROOT: Final[LiteralString] = """
UNWIND $ids AS id
MATCH (d:Department {id: id})
OPTIONAL MATCH path = (d)-[:DIRECT_REPORT*1..32]->(root:Department)
WHERE NOT (root)-[:DIRECT_REPORT]->()
RETURN id, CASE WHEN path IS NULL THEN [d.id] ELSE [n IN nodes(path) | n.id] END AS chain
"""


@dataclass(frozen=True)
class DepartmentFilter:
    name_contains: str | None = None
    function: DepartmentFunction | None = None
    include_archived: bool = False


async def get_departments(db: Db, ids: Sequence[str]) -> dict[str, Department]:
    records = await db.read(GET_DEPARTMENTS, {"ids": list(ids)})
    departments = (Department.model_validate(r["department"]) for r in records)
    return {d.id: d for d in departments}


async def list_departments(
    db: Db, first: int, after: str | None, filt: DepartmentFilter
) -> Page[Department]:
    records = await db.read(
        LIST_DEPARTMENTS,
        {
            "after": after,
            "limit": first + 1,
            "nameContains": filt.name_contains,
            "function": filt.function.value if filt.function else None,
            "includeArchived": filt.include_archived,
        },
    )
    record = records[0]
    rows = [Department.model_validate(row) for row in record["departments"]]
    return build_page(rows, first, record["total"])


async def get_department_links(
    db: Db, ids: Sequence[str], kind: DepartmentLinkKind
) -> dict[str, list[DepartmentLink]]:
    records = await db.read(LINK_STATEMENTS[kind], {"ids": list(ids)})
    out: dict[str, list[DepartmentLink]] = defaultdict(list)
    for r in records:
        out[r["id"]].append(
            DepartmentLink(
                department_id=r["id"], other_id=r["otherId"], since=r["since"], note=r["note"]
            )
        )
    return out


async def get_department_members(db: Db, ids: Sequence[str]) -> dict[str, list[str]]:
    records = await db.read(MEMBERS_OF_DEPARTMENTS, {"ids": list(ids)})
    return {r["id"]: list(r["managerIds"]) for r in records}


async def get_department_products(db: Db, ids: Sequence[str]) -> dict[str, list[str]]:
    records = await db.read(PRODUCTS_OF_DEPARTMENTS, {"ids": list(ids)})
    return {r["id"]: list(r["productIds"]) for r in records}


async def get_department_paths(db: Db, ids: Sequence[str]) -> dict[str, list[str]]:
    """Each department's chain up the direct tree: itself first, the root last."""
    records = await db.read(PATH_TO_ROOT, {"ids": list(ids)})
    return {r["id"]: list(r["chain"]) for r in records}
