"""One request runs a bounded number of transactions at once, however many aliases or batched
operations it holds; the rest wait their turn and still answer."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from neo4j import AsyncDriver, Driver
from starlette.testclient import TestClient

from api.app import create_app
from api.settings import ApiSettings
from tests.conftest import bearer

# Each alias is its own round trip: exposures are not batched by a loader.
ALIASES = "{ " + " ".join(
    f'e{n}: creditExposure(clientId: "cli-0001", maxDepth: {n % 3 + 1}) {{ total }}'
    for n in range(6)
) + " }"  # fmt: skip


class InFlight:
    """Counts the driver's reads running at once; each is held a moment so they overlap."""

    def __init__(self, driver: AsyncDriver) -> None:
        self.calls = self.now = self.most = 0
        self.execute_query = driver.execute_query

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        self.now += 1
        self.most = max(self.most, self.now)
        try:
            await asyncio.sleep(0.05)
            return await self.execute_query(*args, **kwargs)
        finally:
            self.now -= 1


@pytest.mark.parametrize("cap", [1, 2])
def test_aliases_and_batches_take_turns_on_the_request_s_slots(
    demo_bank: Driver, monkeypatch: pytest.MonkeyPatch, cap: int
) -> None:
    app = create_app(api_settings=ApiSettings(max_request_transactions=cap, warm_plans=False))
    with TestClient(app, headers=bearer()) as api:
        counter = InFlight(app.state.driver)
        monkeypatch.setattr(app.state.driver, "execute_query", counter)
        one = api.post("/graphql", json={"query": ALIASES}).json()
        assert "errors" not in one and len(one["data"]) == 6
        assert (counter.calls, counter.most) == (6, cap)
        # Operations of one batch share the request's slots.
        counter.calls = counter.most = 0
        batch = api.post("/graphql", json=[{"query": ALIASES}, {"query": ALIASES}]).json()
        assert [sorted(r["data"]) for r in batch] == [sorted(one["data"])] * 2
        assert (counter.calls, counter.most) == (12, cap)


def test_the_cap_is_at_least_one() -> None:
    with pytest.raises(ValueError, match="max_request_transactions"):
        ApiSettings(max_request_transactions=0)
