"""A manager's grade history: the `GradeChange` records promotions and demotions leave, newest
first, optionally for one grading scheme."""

from __future__ import annotations

from typing import Final, LiteralString

from graph.db import Db
from graph.promotions import GradeChange

HISTORY: Final[LiteralString] = """
OPTIONAL MATCH (m:Manager {id: $managerId})
CALL (m) {
  MATCH (c:GradeChange)-[:OF]->(m)
  WHERE $scheme IS NULL OR c.scheme = $scheme
  WITH c ORDER BY c.at DESC, c.id
  LIMIT $first
  RETURN collect(c {.id, .scheme, .kind, .fromGrade, .toGrade, .exceptional, .reason,
                    at: toString(c.at)}) AS changes
}
RETURN m IS NOT NULL AS found, changes
"""


async def get_grade_history(
    db: Db, manager_id: str, scheme: str | None, first: int
) -> list[GradeChange] | None:
    """None for an unknown manager."""
    [row] = await db.read(HISTORY, {"managerId": manager_id, "scheme": scheme, "first": first})
    if not row["found"]:
        return None
    return [
        GradeChange(
            id=c["id"], manager_id=manager_id, scheme=c["scheme"], kind=c["kind"],
            from_grade=c["fromGrade"], to_grade=c["toGrade"], exceptional=c["exceptional"],
            reason=c["reason"], at=c["at"],
        )
        for c in row["changes"]
    ]  # fmt: skip
