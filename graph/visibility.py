"""Which clients a relationship manager may see: their own (primary or secondary), and the
clients whose primary manager works in the manager's department or any department under it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, LiteralString

from graph.db import Db

# Expects `c` (a Client) in scope and `$visibleTo` (a manager id) as a parameter.
VISIBLE_TO_MANAGER: Final[LiteralString] = """(
  EXISTS { MATCH (:Manager {id: $visibleTo})-[:MANAGES]->(c) }
  OR EXISTS {
    MATCH (c)<-[:MANAGES {role: 'PRIMARY'}]-(:Manager)-[:MEMBER_OF]->(:Department)
          -[:DIRECT_REPORT*0..]->(:Department)<-[:MEMBER_OF]-(:Manager {id: $visibleTo})
  }
)"""

VISIBLE_AMONG: Final[LiteralString] = (
    "UNWIND $ids AS id MATCH (c:Client {id: id}) WHERE " + VISIBLE_TO_MANAGER + " RETURN c.id AS id"
)


async def get_visible_clients(db: Db, manager_id: str, client_ids: Sequence[str]) -> set[str]:
    records = await db.read(VISIBLE_AMONG, {"ids": list(client_ids), "visibleTo": manager_id})
    return {r["id"] for r in records}
