"""The benchmark's timing: both sides measured in alternating slices, summed up as one."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable

from bench.run import drive_both


async def test_both_sides_are_timed_in_alternating_slices() -> None:
    order: list[str] = []

    def side(name: str, pause: float) -> Callable[[int, random.Random], Awaitable[None]]:
        async def call(n: int, rng: random.Random) -> None:
            if not order or order[-1] != name:
                order.append(name)
            await asyncio.sleep(pause)

        return call

    graphql, raw = await drive_both(side("gql", 0.004), side("raw", 0.001), 2, 0.4, rounds=2)
    assert order == ["gql", "raw", "gql", "raw"]
    # Two clients for 0.2 s in each slice (plus warm-ups): the slower side does fewer requests.
    assert 0 < graphql["requests"] < raw["requests"]
    # Each side's latencies are its own (a sleep lasts at least its time; on a loaded machine,
    # longer, so only the lower bounds and the order are fixed).
    assert graphql["p50_ms"] >= 4 and raw["p50_ms"] >= 1
    assert raw["p50_ms"] < graphql["p50_ms"]
    assert graphql["p50_ms"] <= graphql["p95_ms"] <= graphql["p99_ms"]
    assert raw["rps"] > graphql["rps"] > 0
