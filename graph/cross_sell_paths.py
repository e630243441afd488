"""Next products to offer: cross-sell chains from what a client holds to what it does not.

A path starts at a product the client holds (actively), follows `CROSS_SELLS_TO` links for at
most `max_hops`, never revisits a product, and ends at a product the client does not hold and
may buy: its audience fits the client's kind and its risk level is at most the client's risk
rating. An archived client is offered nothing. Score of a path = the product of its
confidences (the chance the chain holds, step by step); ties go to the stronger weakest lift,
then fewer hops, then product ids, so answers are stable. Each target keeps its best path.
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
  AND size(distinctIds) = size(nodes(p))
"""

_PATHS_HEAD: Final[LiteralString] = """
MATCH (c)-[h:HOLDS]->(start:Product) WHERE h.active
MATCH p = (start)-[:CROSS_SELLS_TO*1.."""

_PATHS_TAIL: Final[LiteralString] = (
    """]->(target:Product)
WITH c, target, p, reduce(ids = [], n IN nodes(p) |
  CASE WHEN n.id IN ids THEN ids ELSE ids + n.id END) AS distinctIds
WHERE """
    + _SUITABLE
    + """
WITH c, target, p,
     reduce(s = 1.0, r IN relationships(p) | s * r.confidence) AS score,
     reduce(m = 1.0e18, r IN relationships(p) | CASE WHEN r.lift < m THEN r.lift ELSE m END)
       AS weakestLift
ORDER BY score DESC, weakestLift DESC, length(p), [n IN nodes(p) | n.id]
WITH c, target, head(collect({path: p, score: score, lift: weakestLift, hops: length(p)}))
     AS best
"""
)

# The offered product comes along, so a suggestion's `product` costs no second round trip.
_RETURN: Final[LiteralString] = (
    """
RETURN c.id AS clientId, target.id AS productId, best.score AS score,
       [n IN nodes(best.path) | n.id] AS productIds,
       [r IN relationships(best.path) |
        {support: r.support, confidence: r.confidence, lift: r.lift}] AS links,
       target """
    + PRODUCT_FIELDS
    + """ AS product
"""
)


def _for_client(hops: LiteralString) -> LiteralString:
    return (
        # Pinned: with fresh statistics the planner sometimes scanned the id index instead.
        "MATCH (c:Client {id: $clientId}) USING INDEX c:Client(id) "
        + _PATHS_HEAD
        + hops
        + _PATHS_TAIL
        + "ORDER BY best.score DESC, best.lift DESC, best.hops, target.id LIMIT $first"
        + _RETURN
    )


def _for_manager(hops: LiteralString) -> LiteralString:
    return (
        # Start from the manager's id, not from every active client's status index.
        "MATCH (m:Manager {id: $managerId})-[:MANAGES]->(c:Client) USING INDEX m:Manager(id) "
        "WHERE c.status = 'ACTIVE' "
        + _PATHS_HEAD
        + hops
        + _PATHS_TAIL
        + "ORDER BY best.score DESC, best.lift DESC, best.hops, c.id, target.id LIMIT $first"
        + _RETURN
    )


# Variable-length bounds cannot be parameters: one prewritten statement per hop count.
PATHS_FOR_CLIENT: Final[dict[int, LiteralString]] = {
    1: _for_client("1"), 2: _for_client("2"), 3: _for_client("3"), 4: _for_client("4"),
}  # fmt: skip
PATHS_FOR_MANAGER: Final[dict[int, LiteralString]] = {
    1: _for_manager("1"), 2: _for_manager("2"), 3: _for_manager("3"), 4: _for_manager("4"),
}  # fmt: skip

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
