"""Guarantee circles (担保圈): firms that guarantee each other's credit in a closed loop.

One round trip reads the client-to-client guarantee links (a guarantees a facility b borrows);
the cycles are enumerated here, each once: rotated to start at its smallest id. Mutual pairs
(互保) are the circles of two. The search is bounded by `max_size` and a step budget.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Final, LiteralString

from graph.db import Db
from graph.errors import InvalidInput
from graph.models import GraphModel, cents_to_decimal

MIN_SIZE: Final = 2
MAX_SIZE: Final = 8
STEP_BUDGET: Final = 2_000_000

GUARANTEE_LINKS: Final[LiteralString] = """
MATCH (a:Client)-[g:GUARANTEES]->(f:Facility)<-[:BORROWS]-(b:Client)
WHERE a <> b
RETURN a.id AS guarantorId, b.id AS borrowerId, f.id AS facilityId,
       g.amountCents AS amountCents, f.limitCents AS limitCents
"""

BORROWED: Final[LiteralString] = """
UNWIND $ids AS id
MATCH (:Client {id: id})-[:BORROWS]->(f:Facility)
RETURN id, sum(f.limitCents) AS limitCents, count(f) AS facilities
"""


class CircleLink(GraphModel):
    guarantor_id: str
    borrower_id: str
    facility_id: str
    amount: Decimal


class GuaranteeCircle(GraphModel):
    member_ids: list[str]  # in cycle order, smallest id first
    links: list[CircleLink]
    guaranteed: Decimal  # sum of the guarantees that close the circle
    exposure: Decimal  # members' facility limits, each facility once


class CircleSearch(GraphModel):
    circles: list[GuaranteeCircle]
    complete: bool  # false when the step budget ran out


def find_cycles(
    edges: dict[str, set[str]], max_size: int, budget: int = STEP_BUDGET
) -> tuple[list[tuple[str, ...]], bool]:
    """Every simple cycle of 2..max_size nodes, each once, starting at its smallest node."""
    cycles: list[tuple[str, ...]] = []
    steps = 0
    for start in sorted(edges):
        stack: list[tuple[str, list[str]]] = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in sorted(edges.get(node, ()), reverse=True):
                steps += 1
                if steps > budget:
                    return cycles, False
                if nxt == start and len(path) >= MIN_SIZE:
                    cycles.append(tuple(path))
                elif nxt > start and nxt not in path and len(path) < max_size:
                    stack.append((nxt, [*path, nxt]))
    return sorted(cycles, key=lambda c: (len(c), c)), True


async def find_guarantee_circles(db: Db, max_size: int, min_exposure: Decimal) -> CircleSearch:
    if not MIN_SIZE <= max_size <= MAX_SIZE:
        raise InvalidInput("maxSize", f"must be between {MIN_SIZE} and {MAX_SIZE}")
    if min_exposure < 0:
        raise InvalidInput("minExposure", "must not be negative")
    records = await db.read(GUARANTEE_LINKS)
    edges: dict[str, set[str]] = defaultdict(set)
    links: dict[tuple[str, str], list[CircleLink]] = defaultdict(list)
    for r in records:
        edges[r["guarantorId"]].add(r["borrowerId"])
        links[(r["guarantorId"], r["borrowerId"])].append(
            CircleLink(
                guarantor_id=r["guarantorId"],
                borrower_id=r["borrowerId"],
                facility_id=r["facilityId"],
                amount=cents_to_decimal(r["amountCents"]),
            )
        )
    cycles, complete = find_cycles(edges, max_size)
    members = sorted({m for c in cycles for m in c})
    borrowed = {
        r["id"]: cents_to_decimal(r["limitCents"])
        for r in (await db.read(BORROWED, {"ids": members}) if members else [])
    }
    circles = []
    for cycle in cycles:
        closing = [
            link
            for i, a in enumerate(cycle)
            for link in sorted(links[(a, cycle[(i + 1) % len(cycle)])], key=lambda x: x.facility_id)
        ]
        exposure = sum((borrowed.get(m, Decimal("0.00")) for m in cycle), Decimal("0.00"))
        if exposure >= min_exposure:
            circles.append(
                GuaranteeCircle(
                    member_ids=list(cycle),
                    links=closing,
                    guaranteed=sum((x.amount for x in closing), Decimal("0.00")),
                    exposure=exposure,
                )
            )
    return CircleSearch(circles=circles, complete=complete)
