"""Everything within a few hops of a client, as nodes and edges a drawing library can take.

A breadth-first search, one level at a time, unrolled in one Cypher statement (depth ≤ 4):
each level expands only nodes not seen before, levels are kept whole in id order until the
node limit is reached, so a cut always keeps the nearest nodes and is the same every time.

With `visible_to` (a relationship manager), clients outside the manager's book and facilities
lent to them are marked hidden and never expanded: they end the walk, so nothing behind them
(their holdings, facilities, managers, relations) is reached through them.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any, Final, LiteralString

from graph.db import Db
from graph.models import GraphModel, cents_to_decimal
from graph.visibility import hidden_from_manager

MAX_DEPTH: Final = 4
MAX_LIMIT: Final = 1000


class RelationKind(StrEnum):
    """Relationship types the graph may follow; values are the Neo4j types."""

    MANAGES = "MANAGES"
    MEMBER_OF = "MEMBER_OF"
    REPORTS_TO = "REPORTS_TO"
    DIRECT_REPORT = "DIRECT_REPORT"
    LINEAR = "LINEAR"
    CHECKS = "CHECKS"
    HOLDS = "HOLDS"
    OFFERS = "OFFERS"
    CROSS_SELLS_TO = "CROSS_SELLS_TO"
    CONTROLS = "CONTROLS"
    RELATED_TO = "RELATED_TO"
    BORROWS = "BORROWS"
    GRANTED = "GRANTED"
    APPROVED = "APPROVED"
    GUARANTEES = "GUARANTEES"


# Shared nodes are hubs: a product has thousands of holders, a department grants thousands of
# facilities and employs hundreds of managers, a manager looks after hundreds of clients. Being
# the client's product, department or manager is a relationship; sharing one with a stranger is
# not. So those links are only walked from their narrow end: HOLDS and MEMBER_OF outward
# (client → product, manager → department), GRANTED, APPROVED and MANAGES inward (facility ←
# department, client ← manager). Typed patterns also let Neo4j skip a dense node's other
# relationship groups instead of reading every relationship and filtering.
BOTH_WAYS: Final = (
    "REPORTS_TO|DIRECT_REPORT|LINEAR|CHECKS|OFFERS|CROSS_SELLS_TO|CONTROLS|RELATED_TO"
    "|BORROWS|GUARANTEES"
)
OUTWARD_ONLY: Final = "HOLDS|MEMBER_OF"
INWARD_ONLY: Final = "GRANTED|APPROVED|MANAGES"
# A closed facility's guarantees are released (as releaseGuarantee's are removed): they link
# nothing, while the facility itself is still drawn, with its status, from its borrower.
FOLLOWED: Final = (
    "type(r) IN $types AND NOT (type(r) = 'GUARANTEES'"
    " AND coalesce(endNode(r).status, 'ACTIVE') = 'CLOSED')"
)


def _level(hidden_f: LiteralString, hidden_n: LiteralString) -> LiteralString:
    """One breadth-first level; a frontier node `f` for which `hidden_f` holds is not expanded,
    and a node `n` for which `hidden_n` holds is taken only from a client: see `_neighbourhood`."""
    return (
        """
CALL (frontier, seen) {
  WITH frontier, seen WHERE size(frontier) > 0 AND size(seen) <= $limit
  UNWIND frontier AS f
  WITH f, seen WHERE NOT """
        + hidden_f
        + """
  CALL (f) {
    MATCH (f)-[r:"""
        + BOTH_WAYS
        + "]-(n) WHERE "
        + FOLLOWED
        + """ RETURN n
    UNION
    MATCH (f)-[r:"""
        + OUTWARD_ONLY
        + """]->(n) WHERE type(r) IN $types RETURN n
    UNION
    MATCH (f)<-[r:"""
        + INWARD_ONLY
        + """]-(n) WHERE type(r) IN $types RETURN n
  }
  WITH f, n, seen WHERE NOT n IN seen AND """
        + _taken(hidden_n)
        + """
  WITH DISTINCT n ORDER BY n.id
  RETURN collect(n) AS next
}
WITH start, seen + next[..($limit + 1 - size(seen))] AS seen,
     next[..($limit + 1 - size(seen))] AS frontier,
     levels + [next[..($limit + 1 - size(seen))]] AS levels
"""
    )


def _taken(hidden_n: LiteralString) -> LiteralString:
    if hidden_n == "false":
        return "true"
    # CASE, so that the book is looked up only for a client or facility reached from a non-client.
    return (
        "CASE WHEN f:Client OR NOT (n:Client OR n:Facility) THEN true ELSE NOT " + hidden_n + " END"
    )


def _neighbourhood(hidden_f: LiteralString, hidden_n: LiteralString) -> LiteralString:
    """For a manager, a node outside the book is a leaf hanging off a client in the book (that
    client's relation, or a facility it guarantees): reached from anything else (another
    guarantor of a facility the manager sees), it would be dropped from the answer as none of the
    manager's business, after taking a place under `$limit`, so it is not taken at all."""
    return (
        """
MATCH (start:Client {id: $clientId})
WITH start, [start] AS seen, [start] AS frontier, [[start]] AS levels
WITH start, seen, CASE WHEN $depth >= 1 THEN frontier ELSE [] END AS frontier, levels
"""
        + _level(hidden_f, hidden_n)
        + "WITH start, seen, CASE WHEN $depth >= 2 THEN frontier ELSE [] END AS frontier, levels"
        + _level(hidden_f, hidden_n)
        + "WITH start, seen, CASE WHEN $depth >= 3 THEN frontier ELSE [] END AS frontier, levels"
        + _level(hidden_f, hidden_n)
        + "WITH start, seen, CASE WHEN $depth >= 4 THEN frontier ELSE [] END AS frontier, levels"
        + _level(hidden_f, hidden_n)
        + """
WITH seen[..$limit] AS kept, size(seen) > $limit AS truncated, levels
CALL (kept) {
  UNWIND kept AS x
  CALL (x, kept) {
    MATCH (x)-[r:"""
        + BOTH_WAYS
        + "|"
        + OUTWARD_ONLY
        + "]->(y) WHERE "
        + FOLLOWED
        + """ AND y IN kept
    RETURN x AS a, r, y AS b
    UNION
    MATCH (x)<-[r:"""
        + INWARD_ONLY
        + """]-(y) WHERE type(r) IN $types AND y IN kept
    RETURN y AS a, r, x AS b
  }
  WITH a, r, b ORDER BY type(r), a.id, b.id, r.kind
  RETURN collect({type: type(r), source: a.id, sourceLabel: labels(a)[0], target: b.id,
                  targetLabel: labels(b)[0], properties: properties(r)}) AS edges
}
CALL (kept) {
  UNWIND range(0, size(kept) - 1) AS i
  WITH i, kept[i] AS n WHERE """
        + hidden_n
        + """
  RETURN collect(i) AS hiddenAt
}
RETURN [i IN range(0, size(kept) - 1) | {
          label: labels(kept[i])[0], properties: properties(kept[i]),
          distance: head([d IN range(0, size(levels) - 1) WHERE kept[i] IN levels[d]]),
          hidden: i IN hiddenAt
        }] AS nodes,
       edges, truncated
"""
    )


# Every node visible (all roles but MANAGER): nothing is checked, so nothing is paid for.
NEIGHBOURHOOD: Final[LiteralString] = _neighbourhood("false", "false")
# For a manager (`$visibleTo`): hidden nodes end the walk and are marked.
NEIGHBOURHOOD_FOR_MANAGER: Final[LiteralString] = _neighbourhood(
    hidden_from_manager("f"), hidden_from_manager("n")
)


class GraphNode(GraphModel):
    id: str
    kind: str
    label: str
    distance: int
    properties: dict[str, Any]
    hidden: bool = False  # outside the asking manager's book: show only id and kind


class GraphEdge(GraphModel):
    id: str
    source: str
    target: str
    type: str
    properties: dict[str, Any]


class Neighbourhood(GraphModel):
    nodes: list[GraphNode]
    edges: list[GraphEdge]
    truncated: bool


def node_key(label: str, node_id: str) -> str:
    """Unique across labels, stable across requests."""
    return f"{label}:{node_id}"


# Bookkeeping of the writes (a client's interaction counter), no business of a drawing.
INTERNAL_PROPERTIES: Final = frozenset({"interactionSeq"})


def _plain(properties: dict[str, Any]) -> dict[str, Any]:
    """JSON-ready properties: cents as decimal strings, dates as ISO strings."""
    out: dict[str, Any] = {}
    for key, value in properties.items():
        if key in INTERNAL_PROPERTIES:
            continue
        if key.endswith("Cents") and isinstance(value, int):
            out[key.removesuffix("Cents")] = str(cents_to_decimal(value))
        elif hasattr(value, "iso_format"):
            out[key] = value.iso_format()
        else:
            out[key] = value
    return out


def _edge_id(row: dict[str, Any]) -> str:
    base = f"{row['type']}:{node_key(row['sourceLabel'], row['source'])}->"
    base += node_key(row["targetLabel"], row["target"])
    kind = row["properties"].get("kind")
    return f"{base}:{kind}" if kind else base


async def get_neighbourhood(
    db: Db,
    client_id: str,
    depth: int,
    kinds: Sequence[RelationKind],
    limit: int,
    visible_to: str | None = None,
) -> Neighbourhood | None:
    records = await db.read(
        NEIGHBOURHOOD if visible_to is None else NEIGHBOURHOOD_FOR_MANAGER,
        {
            "clientId": client_id,
            "depth": depth,
            "types": [k.value for k in kinds],
            "limit": limit,
            "visibleTo": visible_to,
        },
    )
    if not records:
        return None
    record = records[0]
    nodes = [
        GraphNode(
            id=node_key(n["label"], n["properties"]["id"]),
            kind=n["label"],
            label=str(n["properties"].get("name") or n["properties"]["id"]),
            distance=n["distance"],
            properties=_plain(n["properties"]),
            hidden=n["hidden"],
        )
        for n in record["nodes"]
    ]
    edges = [
        GraphEdge(
            id=_edge_id(e),
            source=node_key(e["sourceLabel"], e["source"]),
            target=node_key(e["targetLabel"], e["target"]),
            type=e["type"],
            properties=_plain(e["properties"]),
        )
        for e in record["edges"]
    ]
    return Neighbourhood(nodes=nodes, edges=edges, truncated=record["truncated"])
