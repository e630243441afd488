"""Warm introductions: the shortest chains of client links from a manager's active clients to a
prospect.

Links are control, supply chain, family, economic dependence, profit transfer, key person
(`RELATED_TO`) and guarantee (a client guaranteeing an open facility the other borrows), in
either direction. The
search is breadth-first from the prospect, one batched query per hop (at most `max_hops`), and
stops at the first hop that reaches any of the manager's clients; every shortest chain found is
returned.
Asked by a relationship manager, the chains pass only through clients in the asker's book.
Each level's frontier is capped, so a hub cannot make the search run away.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Final, LiteralString

from graph.client_links import OPEN_FACILITY
from graph.db import Db
from graph.models import GraphModel
from graph.visibility import get_visible_clients

MAX_HOPS: Final = 4
FRONTIER_CAP: Final = 5000
CHAIN_CAP: Final = 20

# The manager's active clients: a prospect the manager is developing (every prospect has a
# primary manager) is whom they want introduced, and neither prospects nor archived clients can
# introduce anyone. A manager no longer active has none (as graph.visibility has it).
BOOK: Final[LiteralString] = """
OPTIONAL MATCH (m:Manager {id: $managerId})
OPTIONAL MATCH (p:Client {id: $prospectId})
RETURN m IS NOT NULL AS managerFound, p IS NOT NULL AS prospectFound,
       COLLECT { MATCH (m {active: true})-[:MANAGES]->(c:Client {status: 'ACTIVE'})
                 RETURN c.id } AS clientIds
"""

# A guarantee of a closed facility is released: it no longer links the two clients. Everyone on a
# chain but the prospect is an active client: the bank asks clients for introductions, not former
# clients (whose links are no longer kept up) nor other prospects.
NEIGHBOURS: Final[LiteralString] = (
    """
UNWIND $ids AS id
MATCH (c:Client {id: id})
CALL (c) {
  MATCH (c)-[:CONTROLS]-(o:Client {status: 'ACTIVE'}) RETURN o.id AS otherId, 'CONTROL' AS kind
  UNION
  MATCH (c)-[r:RELATED_TO]-(o:Client {status: 'ACTIVE'}) RETURN o.id AS otherId, r.kind AS kind
  UNION
  MATCH (c)-[:GUARANTEES]->(f:Facility)<-[:BORROWS]-(o:Client {status: 'ACTIVE'}) WHERE """
    + OPEN_FACILITY
    + """
  RETURN o.id AS otherId, 'GUARANTEE' AS kind
  UNION
  MATCH (c)-[:BORROWS]->(f:Facility)<-[:GUARANTEES]-(o:Client {status: 'ACTIVE'}) WHERE """
    + OPEN_FACILITY
    + """
  RETURN o.id AS otherId, 'GUARANTEE' AS kind
}
WITH id, otherId, kind WHERE otherId <> id
RETURN id, otherId, kind ORDER BY id, otherId, kind
"""
)


class IntroductionHop(GraphModel):
    from_id: str
    to_id: str
    kinds: list[str]


class IntroductionSearch(GraphModel):
    chains: list[list[IntroductionHop]]  # each from one of the manager's clients to the prospect
    reason: str | None = None  # why there is no chain: ALREADY_CLIENT or NO_PATH_WITHIN_MAX_HOPS
    truncated: bool = False


async def find_introductions(
    db: Db, manager_id: str, prospect_id: str, max_hops: int, visible_to: str | None = None
) -> IntroductionSearch | None:
    """None when the manager or the prospect is unknown. With `visible_to` (a manager asking),
    chains pass only through clients in that manager's book: links between other managers'
    clients are not theirs to see. The prospect itself may be anyone."""
    [book] = await db.read(BOOK, {"managerId": manager_id, "prospectId": prospect_id})
    if not (book["managerFound"] and book["prospectFound"]):
        return None
    mine = set(book["clientIds"])
    if prospect_id in mine:
        return IntroductionSearch(chains=[], reason="ALREADY_CLIENT")
    if not mine:  # no one to start from (a manager no longer active has no clients)
        return IntroductionSearch(chains=[], reason="NO_PATH_WITHIN_MAX_HOPS")
    # parents[node] = {(previous node nearer the prospect, kinds)}
    kinds: dict[tuple[str, str], set[str]] = defaultdict(set)
    parents: dict[str, set[str]] = {prospect_id: set()}
    frontier, truncated = [prospect_id], False
    for level in range(max_hops):
        records = await db.read(NEIGHBOURS, {"ids": frontier})
        reached_from: dict[str, set[str]] = defaultdict(set)  # a new node: who links to it
        for r in records:
            other, here = r["otherId"], r["id"]
            kinds[(other, here)].add(r["kind"])
            if other not in parents:
                reached_from[other].add(here)
        if visible_to is not None and reached_from:
            allowed = await get_visible_clients(db, visible_to, sorted(reached_from))
            reached_from = defaultdict(set, {k: v for k, v in reached_from.items() if k in allowed})
        parents.update(reached_from)
        found = set(reached_from)
        reached = sorted(found & mine)
        if reached:
            chains, more = _chains(reached, parents, kinds)
            return IntroductionSearch(chains=chains, truncated=truncated or more)
        frontier = sorted(found)
        if level == max_hops - 1:
            break  # the last level is not expanded: no cap cuts anything here
        if len(frontier) > FRONTIER_CAP:
            frontier, truncated = frontier[:FRONTIER_CAP], True
        if not frontier:
            break
    return IntroductionSearch(chains=[], reason="NO_PATH_WITHIN_MAX_HOPS", truncated=truncated)


def _chains(
    starts: list[str], parents: dict[str, set[str]], kinds: dict[tuple[str, str], set[str]]
) -> tuple[list[list[IntroductionHop]], bool]:
    """The shortest chains from the reached clients back to the prospect, in order, at most
    `CHAIN_CAP` of them, and whether the cap left any out."""
    out: list[list[IntroductionHop]] = []

    def walk(node: str, hops: list[IntroductionHop]) -> None:
        if len(out) > CHAIN_CAP:  # one past the cap is enough to know there are more
            return
        if not parents[node]:
            out.append(hops)
            return
        for nxt in sorted(parents[node]):
            hop = IntroductionHop(from_id=node, to_id=nxt, kinds=sorted(kinds[(node, nxt)]))
            walk(nxt, [*hops, hop])

    for start in starts:
        walk(start, [])
    return out[:CHAIN_CAP], len(out) > CHAIN_CAP
