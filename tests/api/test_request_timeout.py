"""A whole operation has a time limit of its own, beyond each transaction's."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from neo4j import Driver
from starlette.testclient import TestClient

import graph.client_writes
import schema.client360
from api.app import create_app
from api.settings import ApiSettings
from tests.conftest import DATABASE, bearer


def test_an_operation_past_its_time_is_cancelled_with_a_typed_error(
    demo_bank: Driver, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    cancelled = []

    async def never_done(*_: Any, **__: Any) -> Any:
        try:
            await asyncio.sleep(3600)  # e.g. many aliases, each within its own limit
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    monkeypatch.setattr(schema.client360, "get_client_page", never_done)
    app = create_app(api_settings=ApiSettings(request_timeout=0.5, warm_plans=False))
    with TestClient(app, headers=bearer()) as api:
        response = api.post(
            "/graphql",
            json={"query": '{ client(id: "cli-0001") { name holdings { balance } } }'},
            headers={"x-request-id": "slow-1"},
        )
        assert response.status_code == 200
        assert response.json() == {
            "data": None,
            "errors": [{
                "message": "Timeout: the request ran past its 0.5 s limit and was cancelled "
                           "(request id slow-1)",
                "extensions": {"code": "TIMEOUT", "requestId": "slow-1", "committedWrites": 0},
            }],
        }  # fmt: skip
        # The worker goes on serving.
        quick = api.post("/graphql", json={"query": '{ product(id: "prod-dep") { id } }'})
        assert quick.status_code == 200 and "errors" not in quick.json()
    assert cancelled == [True]
    assert (
        "rmgraph.api",
        logging.WARNING,
        "request slow-1 ran past 0.5 s (0 writes committed)",
    ) in [(r.name, r.levelno, r.getMessage()) for r in caplog.records]


def test_a_mutation_past_its_time_says_which_writes_stand(
    writable_demo_bank: Driver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Mutation fields run one after another, each committed alone: the first stands when the
    second runs past the limit, and the answer says so rather than that all was cancelled. (The
    limit leaves the first, real, write seconds to spare, its plan included.)"""

    async def never_done(*_: Any, **__: Any) -> Any:
        await asyncio.sleep(3600)

    monkeypatch.setattr(graph.client_writes, "archive_client", never_done)
    app = create_app(api_settings=ApiSettings(request_timeout=5, warm_plans=False))
    with TestClient(app, headers=bearer()) as api:
        response = api.post(
            "/graphql",
            json={"query": 'mutation { a: updateClient(input: {clientId: "cli-0001", '
                           'region: "华北"}) { __typename } '
                           'b: archiveClient(input: {clientId: "cli-0002"}) { __typename } }'},
            headers={"x-request-id": "slow-2"},
        )  # fmt: skip
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "TIMEOUT", "requestId": "slow-2", "committedWrites": 1}
    assert error["message"] == (
        "Timeout: the request ran past its 5 s limit and was cancelled (request id slow-2); "
        "1 of its writes had committed and stand (audited), the rest did not run: read back "
        "before retrying"
    )
    records, _, _ = writable_demo_bank.execute_query(
        "MATCH (c:Client {id: 'cli-0001'}) RETURN c.region AS region", database_=DATABASE
    )
    assert records[0]["region"] == "华北"
