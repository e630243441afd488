"""Next products to offer: cross-sell chains from what a client holds to what it does not.

A path starts at a product the client holds (actively), follows `CROSS_SELLS_TO` links for at
most `max_hops`, never revisits a product, and ends at a product the client does not hold and
may buy: its audience fits the client's kind and its risk level is at most the client's risk
rating. An archived client is offered nothing. Score of a path = the product of its
confidences (the chance the chain holds, step by step); ties go to the stronger weakest lift,
then fewer hops, then product ids, so answers are stable. Each target keeps its best path; the
search keeps only the best path to each product at each hop, so its work stays bounded.
(Weighting the score by lift favoured rare products and lost to the popularity baseline on
held-out holdings; see `make bench-cross-sell`.)
"""

from __future__ import annotations

from typing import Any, Final, LiteralString

from graph.db import Db
from graph.models import GraphModel, Product
from graph.products import PRODUCT_FIELDS

MAX_HOPS: Final = 4

_SUITABLE: Final[LiteralString] = """
  c.status <> 'ARCHIVED'
  AND NOT EXISTS { MATCH (c)-[held:HOLDS]->(target) WHERE held.active }
  AND target.riskLevel <= c.riskRating
  AND (target.audience = 'ALL'
       OR (target.audience = 'INDIVIDUAL') = (c.kind = 'INDIVIDUAL'))
"""

# The search goes one hop at a time and keeps, at each hop, only the best path to each product
# (by score, then weakest lift, then ids): the work grows with products × links per hop, not
# with the number of paths, which in a densely linked catalogue is millions at four hops.
_FROM_HOLDINGS: Final[LiteralString] = """
WITH c, [(c)-[h:HOLDS]->(p:Product) WHERE h.active |
         {node: p, ids: [p.id], rels: [], score: 1.0, lift: 1.0e18}] AS frontier
WITH c, frontier, [] AS found
"""

_HOP: Final[LiteralString] = """
CALL (frontier) {
  UNWIND frontier AS f
  WITH f, f.node AS n
  MATCH (n)-[r:CROSS_SELLS_TO]->(m:Product) WHERE NOT m.id IN f.ids
  WITH m, f.ids + m.id AS ids, f.rels + r AS rels, f.score * r.confidence AS score,
       CASE WHEN r.lift < f.lift THEN r.lift ELSE f.lift END AS lift
  ORDER BY score DESC, lift DESC, ids
  WITH m, head(collect({node: m, ids: ids, rels: rels, score: score, lift: lift})) AS best
  RETURN collect(best) AS next
}
WITH c, found + next AS found, next AS frontier
"""

# Every target's best path over all hop counts, fewer hops winning ties.
_BEST: Final[LiteralString] = (
    """
UNWIND found AS best
WITH c, best, best.node AS target
WHERE """
    + _SUITABLE
    + """
WITH c, target, best ORDER BY best.score DESC, best.lift DESC, size(best.ids), best.ids
WITH c, target, head(collect(best)) AS best
"""
)

# The offered product comes along, so a suggestion's `product` costs no second round trip.
_RETURN: Final[LiteralString] = (
    """
RETURN c.id AS clientId, target.id AS productId, best.score AS score, best.ids AS productIds,
       [r IN best.rels | {support: r.support, confidence: r.confidence, lift: r.lift}] AS links,
       target """
    + PRODUCT_FIELDS
    + """ AS product
"""
)

# One hop block per hop: a statement per `max_hops`, chosen by the caller.
_SEARCH: Final[dict[int, LiteralString]] = {
    1: _FROM_HOLDINGS + _HOP + _BEST,
    2: _FROM_HOLDINGS + _HOP + _HOP + _BEST,
    3: _FROM_HOLDINGS + _HOP + _HOP + _HOP + _BEST,
    4: _FROM_HOLDINGS + _HOP + _HOP + _HOP + _HOP + _BEST,
}


def _for_client(hops: int) -> LiteralString:
    return (
        # Pinned: with fresh statistics the planner sometimes scanned the id index instead.
        "MATCH (c:Client {id: $clientId}) USING INDEX c:Client(id) "
        + _SEARCH[hops]
        + "ORDER BY best.score DESC, best.lift DESC, size(best.ids), target.id LIMIT $first"
        + _RETURN
    )


def _for_manager(hops: int) -> LiteralString:
    return (
        # Start from the manager's id, not from every active client's status index. A manager
        # no longer active has no clients to sell to (as graph.visibility has it).
        "MATCH (m:Manager {id: $managerId})-[:MANAGES]->(c:Client) USING INDEX m:Manager(id) "
        "WHERE c.status = 'ACTIVE' AND m.active = true "
        + _SEARCH[hops]
        + "ORDER BY best.score DESC, best.lift DESC, size(best.ids), c.id, target.id "
        "LIMIT $first" + _RETURN
    )


PATHS_FOR_CLIENT: Final[dict[int, LiteralString]] = {h: _for_client(h) for h in _SEARCH}
PATHS_FOR_MANAGER: Final[dict[int, LiteralString]] = {h: _for_manager(h) for h in _SEARCH}

CLIENT_EXISTS: Final[LiteralString] = "MATCH (c:Client {id: $id}) RETURN c.id AS id"
MANAGER_EXISTS: Final[LiteralString] = "MATCH (m:Manager {id: $id}) RETURN m.id AS id"


class CrossSellStep(GraphModel):
    support: float
    confidence: float
    lift: float


class CrossSellPath(GraphModel):
    client_id: str
    product_id: str
    score: float
    product_ids: list[str]  # from the held product to the offered one
    steps: list[CrossSellStep]  # the link between product_ids[i] and product_ids[i + 1]
    product: Product  # the offered one


def _path(row: Any) -> CrossSellPath:
    return CrossSellPath(
        client_id=row["clientId"],
        product_id=row["productId"],
        score=row["score"],
        product_ids=row["productIds"],
        steps=[CrossSellStep.model_validate(link) for link in row["links"]],
        product=Product.model_validate(row["product"]),
    )


async def get_cross_sell_paths(
    db: Db, client_id: str, max_hops: int, first: int
) -> list[CrossSellPath] | None:
    """None for an unknown client."""
    records = await db.read(PATHS_FOR_CLIENT[max_hops], {"clientId": client_id, "first": first})
    if not records and not await db.read(CLIENT_EXISTS, {"id": client_id}):
        return None
    return [_path(r) for r in records]


async def get_cross_sell_opportunities(
    db: Db, manager_id: str, max_hops: int, first: int
) -> list[CrossSellPath] | None:
    """The best (client, product, path) triples across a manager's active clients."""
    records = await db.read(PATHS_FOR_MANAGER[max_hops], {"managerId": manager_id, "first": first})
    if not records and not await db.read(MANAGER_EXISTS, {"id": manager_id}):
        return None
    return [_path(r) for r in records]
