"""Recompute `CROSS_SELLS_TO` from the holdings in the graph, in one transaction.

Only active holdings of active clients count, each (client, product) once (an archived client
keeps its holdings as they were, but they are no longer business), and only those the client
consented to (one found opened without consent says nothing of what clients want). For products
A and B, over the active clients holding at least one active product:
support(A→B) = share holding both; confidence(A→B) = P(B | A); lift(A→B) = confidence / P(B).
A link is kept when support ≥ min_support, confidence ≥ min_confidence and lift > 1. Links a
product department pinned (`pinned: true`) are never removed; their measures are refreshed.
"""

from __future__ import annotations

from typing import Any, Final, LiteralString

from neo4j import AsyncManagedTransaction

from graph.db import Db
from graph.errors import InvalidInput
from graph.models import GraphModel

# The three counts in one statement, so that holdings written while the refresh reads them (it
# locks nothing: a whole-bank read) can make them disagree by those few only.
COUNTS: Final[LiteralString] = """
CALL () {
  MATCH (c:Client {status: 'ACTIVE'})
  WHERE EXISTS { (c)-[h:HOLDS]->(:Product) WHERE h.active AND coalesce(h.consented, true) }
  RETURN count(c) AS clients
}
CALL () {
  MATCH (p:Product)
  RETURN collect({productId: p.id,
                  holders: COUNT { (p)<-[h:HOLDS]-(:Client {status: 'ACTIVE'})
                                   WHERE h.active AND coalesce(h.consented, true) }})
         AS holders
}
CALL () {
  MATCH (a:Product)<-[ha:HOLDS]-(c:Client {status: 'ACTIVE'})-[hb:HOLDS]->(b:Product)
  WHERE ha.active AND hb.active AND a <> b
    AND coalesce(ha.consented, true) AND coalesce(hb.consented, true)
  WITH a.id AS fromId, b.id AS toId, count(DISTINCT c) AS both
  RETURN collect({fromId: fromId, toId: toId, both: both}) AS pairs
}
RETURN clients, holders, pairs
"""

REMOVE_UNPINNED: Final[LiteralString] = """
MATCH (:Product)-[r:CROSS_SELLS_TO]->(:Product) WHERE NOT coalesce(r.pinned, false)
DELETE r
RETURN count(*) AS removed
"""

WRITE_LINKS: Final[LiteralString] = """
UNWIND $rows AS row
MATCH (a:Product {id: row.fromId}), (b:Product {id: row.toId})
MERGE (a)-[r:CROSS_SELLS_TO]->(b)
ON CREATE SET r.pinned = false
SET r.support = row.support, r.confidence = row.confidence, r.lift = row.lift,
    r.refreshedAt = datetime()
RETURN count(*) AS written
"""

PINNED: Final[LiteralString] = """
MATCH (a:Product)-[r:CROSS_SELLS_TO {pinned: true}]->(b:Product)
RETURN a.id AS fromId, b.id AS toId
"""


class RefreshResult(GraphModel):
    clients: int
    links: int  # links in the graph after the refresh
    removed: int  # unpinned links deleted before writing the new set
    pinned_kept: int


def compute_measures(
    clients: int, holders: dict[str, int], pairs: dict[tuple[str, str], int]
) -> dict[tuple[str, str], tuple[float, float, float]]:
    """(support, confidence, lift) for every ordered pair with co-holders. Counts read while
    holdings change may disagree by the holdings written meanwhile: each is held within what the
    others allow (co-holders at most either product's holders, holders at most the clients), so
    no support or confidence leaves [0, 1], which the path search's pruning relies on."""
    out = {}
    for (a, b), both in pairs.items():
        held_a, held_b = min(holders.get(a, 0), clients), min(holders.get(b, 0), clients)
        if clients and held_a and held_b:
            confidence = min(both, held_a, held_b) / held_a
            support = min(both, held_a, held_b) / clients
            out[(a, b)] = (support, confidence, confidence / (held_b / clients))
    return out


def _check_threshold(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise InvalidInput(name, "must be between 0 and 1")


async def refresh_cross_sell(db: Db, min_support: float, min_confidence: float) -> RefreshResult:
    _check_threshold("minSupport", min_support)
    _check_threshold("minConfidence", min_confidence)

    async def work(tx: AsyncManagedTransaction) -> RefreshResult:
        counts = await (await tx.run(COUNTS)).single(strict=True)
        clients = counts["clients"]
        holders = {h["productId"]: h["holders"] for h in counts["holders"]}
        pairs = {(p["fromId"], p["toId"]): p["both"] for p in counts["pairs"]}
        pinned = {(r["fromId"], r["toId"]) async for r in await tx.run(PINNED)}
        measures = compute_measures(clients, holders, pairs)
        rows: list[dict[str, Any]] = [
            {"fromId": a, "toId": b, "support": s, "confidence": c, "lift": lift}
            for (a, b), (s, c, lift) in sorted(measures.items())
            if (s >= min_support and c >= min_confidence and lift > 1) or (a, b) in pinned
        ]
        removed = (await (await tx.run(REMOVE_UNPINNED)).single(strict=True))["removed"]
        await (await tx.run(WRITE_LINKS, rows=rows)).consume()
        total = len(rows) + len([p for p in pinned if p not in measures])
        return RefreshResult(clients=clients, links=total, removed=removed, pinned_kept=len(pinned))

    return await db.write(work)
