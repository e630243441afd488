"""Guarantee circles (担保圈): firms that guarantee each other's credit in a closed loop.

One round trip reads who guarantees whom (a guarantees a facility b borrows), as one compact row;
the cycles are enumerated here, each once: rotated to start at its smallest id. A second reads
the limits and guarantees of the clients in some cycle. Mutual pairs (互保) are the circles of
two. The search is bounded by `max_size` and a step budget, and the answer by `first`: only the
largest circles are described in full (a bank has thousands), the rest are counted.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from typing import Final, LiteralString

from graph.client_links import OPEN_FACILITY
from graph.db import Db
from graph.errors import InvalidInput
from graph.input_checks import require_amount
from graph.models import GraphModel, cents_to_decimal, decimal_to_cents
from graph.risk_settings import SETTINGS_COLUMNS, SETTINGS_ID, capital_base_from

MIN_SIZE: Final = 2
MAX_SIZE: Final = 8
STEP_BUDGET: Final = 2_000_000
MAX_FIRST: Final = 1000

# Only who guarantees whom, as one row: the search needs the shape, not the details.
GUARANTEE_EDGES: Final[LiteralString] = (
    """
MATCH (a:Client)-[:GUARANTEES]->(f:Facility)<-[:BORROWS]-(b:Client)
WHERE a <> b AND """
    + OPEN_FACILITY
    + """
RETURN collect(DISTINCT [a.id, b.id]) AS edges
"""
)

# For the clients in some circle: their facility limits (per currency) and the guarantees they
# give (in the guaranteed facility's currency), with the rates to add them up by.
MEMBER_DETAILS: Final[LiteralString] = (
    SETTINGS_COLUMNS
    + """CALL () {
UNWIND $ids AS id
MATCH (c:Client {id: id})
WITH id,
     COLLECT { MATCH (c)-[:BORROWS]->(f:Facility) WHERE """
    + OPEN_FACILITY
    + """
               WITH f.currency AS currency, sum(f.limitCents) AS cents
               RETURN [currency, cents] } AS limits,
     COLLECT { MATCH (c)-[g:GUARANTEES]->(f:Facility)<-[:BORROWS]-(b:Client)
               WHERE b <> c AND """
    + OPEN_FACILITY
    + """
               RETURN [b.id, f.id, g.amountCents, f.currency] } AS links
RETURN collect([id, limits, links]) AS members
}
RETURN profile, tier1, net, currency, fxCurrencies, fxRates, members
"""
)


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
    circles: list[GuaranteeCircle]  # three or more members, largest exposure first
    mutual_pairs: list[GuaranteeCircle]  # two members (互保), largest exposure first
    circle_count: int  # before `first` cut the lists
    mutual_pair_count: int
    complete: bool  # false when the step budget ran out


def find_cycles(
    edges: dict[str, set[str]], max_size: int, budget: int = STEP_BUDGET
) -> tuple[list[tuple[str, ...]], bool]:
    """Every simple cycle of 2..max_size nodes through a set of nodes no other cycle found runs
    through, each once, starting at its smallest node (of the cycles through one set, the first
    in id order). Mutual pairs are read straight off the edges, whatever the budget. Longer
    cycles are searched inside each strongly connected cluster, the smaller clusters first: a
    dense joint-guarantee cluster, whose firms all guarantee one another (thousands of cycles
    through a few dozen sets), spends the budget last, and cannot hide the circles elsewhere."""
    cycles: list[tuple[str, ...]] = [
        (a, b) for a in sorted(edges) for b in sorted(edges[a]) if a < b and a in edges.get(b, ())
    ]
    seen = {frozenset(c) for c in cycles}
    steps = 0
    for cluster in sorted(_clusters(edges), key=lambda c: (len(c), c[0])):
        if len(cluster) < 3 or max_size < 3:
            continue
        inside = set(cluster)
        nexts = {
            n: sorted((m for m in edges.get(n, ()) if m in inside), reverse=True) for n in cluster
        }
        for start in cluster:
            stack: list[tuple[str, list[str]]] = [(start, [start])]
            while stack:
                node, path = stack.pop()
                for nxt in nexts[node]:
                    steps += 1
                    if steps > budget:
                        return _in_order(cycles), False
                    if nxt == start:
                        if len(path) > 2 and (members := frozenset(path)) not in seen:
                            seen.add(members)
                            cycles.append(tuple(path))
                    elif nxt > start and nxt not in path and len(path) < max_size:
                        stack.append((nxt, [*path, nxt]))
    return _in_order(cycles), True


def _in_order(cycles: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    return sorted(cycles, key=lambda c: (len(c), c))


def _clusters(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of two or more nodes (each sorted), by Tarjan's
    algorithm, iteratively: a chain of guarantees thousands long would overflow Python's
    recursion. A firm in no cycle is a component of one, and left out."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    for root in edges:
        if root in index:
            continue
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        work: list[tuple[str, Iterator[str]]] = [(root, iter(edges[root]))]
        while work:
            node, todo = work[-1]
            for nxt in todo:
                if nxt not in edges:
                    continue  # guarantees nothing: on no cycle
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(edges[nxt])))
                    break
                if nxt in on_stack and index[nxt] < low[node]:
                    low[node] = index[nxt]
            else:
                work.pop()
                if work and low[node] < low[work[-1][0]]:
                    low[work[-1][0]] = low[node]
                if low[node] == index[node]:
                    member = stack.pop()
                    on_stack.discard(member)
                    if member != node:
                        component = [member]
                        while member != node:
                            member = stack.pop()
                            on_stack.discard(member)
                            component.append(member)
                        found.append(sorted(component))
    return found


def _rank(cycle: tuple[str, ...], exposure: int) -> tuple[int, int, tuple[str, ...]]:
    return (-exposure, len(cycle), cycle)


async def find_guarantee_circles(
    db: Db, max_size: int, min_exposure: Decimal, first: int = MAX_FIRST
) -> CircleSearch:
    """Every circle of up to `max_size` firms with at least `min_exposure` inside it; the
    `first` largest of each kind are described in full, the rest only counted."""
    if not MIN_SIZE <= max_size <= MAX_SIZE:
        raise InvalidInput("maxSize", f"must be between {MIN_SIZE} and {MAX_SIZE}")
    require_amount("minExposure", min_exposure)
    if not 1 <= first <= MAX_FIRST:
        raise InvalidInput("first", f"must be between 1 and {MAX_FIRST}")
    records = await db.read(GUARANTEE_EDGES)
    edges: dict[str, set[str]] = defaultdict(set)
    for guarantor, borrower in records[0]["edges"]:
        edges[guarantor].add(borrower)
    del records
    # Up to STEP_BUDGET steps of Python (a second or more on a whole bank): in a thread, so the
    # event loop goes on serving other requests meanwhile.
    cycles, complete = await asyncio.to_thread(find_cycles, edges, max_size)
    members = sorted({m for c in cycles for m in c})
    limits: dict[str, int] = {}  # in the reporting currency's cents
    given: dict[str, list[tuple[str, str, Decimal]]] = {}
    if members:
        details = await db.read(MEMBER_DETAILS, {"ids": members, "settingsId": SETTINGS_ID})
        base = capital_base_from(details[0])
        for client, per_currency, links in details[0]["members"]:
            limits[client] = decimal_to_cents(
                base.total((cents_to_decimal(c), cur) for cur, c in per_currency)
            )
            given[client] = [
                (b, f, base.to_reporting(cents_to_decimal(amount), cur))
                for b, f, amount, cur in links
            ]
    floor = decimal_to_cents(min_exposure)
    ranked: dict[bool, list[tuple[tuple[int, int, tuple[str, ...]], tuple[str, ...]]]] = {
        True: [],
        False: [],
    }
    for cycle in cycles:
        exposure = sum(limits.get(m, 0) for m in cycle)
        if exposure >= floor:
            ranked[len(cycle) == 2].append((_rank(cycle, exposure), cycle))

    def describe(cycle: tuple[str, ...], exposure: int) -> GuaranteeCircle:
        closing = [
            CircleLink(guarantor_id=a, borrower_id=b, facility_id=f, amount=amount)
            for i, a in enumerate(cycle)
            for b, f, amount in sorted(given.get(a, []), key=lambda x: x[1])
            if b == cycle[(i + 1) % len(cycle)]
        ]
        return GuaranteeCircle(
            member_ids=list(cycle),
            links=closing,
            guaranteed=sum((x.amount for x in closing), Decimal("0.00")),
            exposure=cents_to_decimal(exposure),
        )

    top = {
        mutual: [describe(cycle, -rank[0]) for rank, cycle in sorted(found)[:first]]
        for mutual, found in ranked.items()
    }
    return CircleSearch(
        circles=top[False],
        mutual_pairs=top[True],
        circle_count=len(ranked[False]),
        mutual_pair_count=len(ranked[True]),
        complete=complete,
    )
