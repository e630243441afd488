"""Which clients a relationship manager may see: their own (primary or secondary), and the
clients whose primary manager works in the manager's department or any department under it.
A facility is as visible as its borrower. A manager who is no longer active (left, or resting)
sees none, whatever their token says: deactivating keeps their department and secondary links,
and a token lives until it expires."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, LiteralString

from graph.db import Db


def visible_to_manager(client: LiteralString) -> LiteralString:
    """True when the Client bound to `client` is in the book of the manager `$visibleTo`."""
    return (
        "(EXISTS { MATCH (:Manager {id: $visibleTo, active: true})-[:MANAGES]->(" + client + ") }\n"
        "  OR EXISTS {\n"
        "    MATCH (" + client + ")<-[:MANAGES {role: 'PRIMARY'}]-(:Manager)-[:MEMBER_OF]->"
        "(:Department)\n"
        "          -[:DIRECT_REPORT*0..]->(:Department)<-[:MEMBER_OF]-"
        "(:Manager {id: $visibleTo, active: true})\n"
        "  })"
    )


def hidden_from_manager(node: LiteralString) -> LiteralString:
    """True when `$visibleTo` (a manager id, or null for roles that see every client) may not see
    the node bound to `node`: a client outside the book, or a facility lent to one."""
    return (
        "($visibleTo IS NOT NULL AND (\n"
        "  (" + node + ":Client AND NOT " + visible_to_manager(node) + ")\n"
        "  OR (" + node + ":Facility AND NOT EXISTS {\n"
        "    MATCH (hm_borrower:Client)-[:BORROWS]->("
        + node
        + ") WHERE "
        + visible_to_manager("hm_borrower")
        + " })))"
    )


# Expects `c` (a Client) in scope and `$visibleTo` (a manager id) as a parameter.
VISIBLE_TO_MANAGER: Final[LiteralString] = visible_to_manager("c")

# The clients in the book of `$visibleTo`, each once, as `c`: what a manager's lists start from,
# rather than testing every client in the bank against VISIBLE_TO_MANAGER (two seconds a page on
# the 100k bank). The same two ways in, walked from the manager's end.
BOOK: Final[LiteralString] = """
CALL () {
  MATCH (vis_me:Manager {id: $visibleTo, active: true})-[:MANAGES]->(c:Client)
  RETURN c
  UNION
  MATCH (vis_me:Manager {id: $visibleTo, active: true})-[:MEMBER_OF]->(:Department)
        <-[:DIRECT_REPORT*0..]-(:Department)<-[:MEMBER_OF]-(:Manager)
        -[:MANAGES {role: 'PRIMARY'}]->(c:Client)
  RETURN c
}
"""

VISIBLE_AMONG: Final[LiteralString] = (
    "UNWIND $ids AS id MATCH (c:Client {id: id}) WHERE " + VISIBLE_TO_MANAGER + " RETURN c.id AS id"
)


async def get_visible_clients(db: Db, manager_id: str, client_ids: Sequence[str]) -> set[str]:
    records = await db.read(VISIBLE_AMONG, {"ids": list(client_ids), "visibleTo": manager_id})
    return {r["id"] for r in records}
