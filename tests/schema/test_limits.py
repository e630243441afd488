"""No request can run away: depth, aliases, tokens, page sizes and time are all bounded."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, LiteralString

import pytest
from neo4j import Driver, Record

from graph.db import Db
from graph.errors import QueryTimeout
from tests.gql import execute


async def test_depth_bomb_is_refused(demo_bank: Driver, db: Db) -> None:
    nested = "id"
    for _ in range(6):
        nested = f"manager {{ reportsTo {{ {nested} }} }}"
    query = '{ client(id: "cli-0001") { managers { ' + nested + " } } }"
    data, errors, ctx = await execute(db, query)
    assert data is None
    assert "exceeds maximum operation depth" in errors[0].message
    assert ctx.db.round_trips == 0


async def test_alias_bomb_is_refused(demo_bank: Driver, db: Db) -> None:
    query = "{ " + " ".join(f"a{i}: clients(first: 100) {{ totalCount }}" for i in range(31)) + " }"
    data, errors, ctx = await execute(db, query)
    assert data is None
    assert "aliases" in errors[0].message
    assert ctx.db.round_trips == 0


async def test_token_bomb_is_refused(demo_bank: Driver, db: Db) -> None:
    query = "{ clients { totalCount " + "__typename " * 3000 + "} }"
    data, errors, _ = await execute(db, query)
    assert data is None
    assert "token" in errors[0].message.lower()


async def test_oversized_page_is_refused(demo_bank: Driver, db: Db) -> None:
    _, errors, ctx = await execute(db, "{ clients(first: 1000) { totalCount } }")
    assert errors[0].extensions == {"code": "BAD_USER_INPUT", "argument": "first"}
    assert ctx.db.round_trips == 0


SLOW: LiteralString = "UNWIND range(1, 300000000) AS x WITH x WHERE x % 7 = 0 RETURN count(*)"


class SlowDb(Db):
    """Every read is preceded by Cypher that outlasts the timeout, so a field's own query
    reliably hits the database's real time limit."""

    async def read(
        self, query: LiteralString, params: Mapping[str, Any] | None = None
    ) -> list[Record]:
        await super().read(SLOW)
        return await super().read(query, params)


async def test_slow_cypher_is_cancelled_with_a_typed_error(demo_bank: Driver, db: Db) -> None:
    slow = Db(db.driver, db.database, tx_timeout=0.05)
    with pytest.raises(QueryTimeout):
        await slow.read(SLOW)
    data, errors, _ = await execute(
        SlowDb(db.driver, db.database, tx_timeout=0.05),
        '{ relationshipGraph(clientId: "cli-hdsteel", depth: 4, limit: 1000) { truncated } }',
    )
    assert data == {"relationshipGraph": None}
    [error] = errors
    assert error.extensions == {"code": "TIMEOUT", "requestId": "test"}


async def test_internal_errors_are_masked_with_a_request_id(demo_bank: Driver, db: Db) -> None:
    await db.driver.close()  # every round trip now fails inside the driver
    data, errors, _ = await execute(db, '{ client(id: "cli-0001") { name } }')
    assert data == {"client": None}
    [error] = errors
    assert error.message == "Internal error (request id test)"
    assert error.extensions == {"code": "INTERNAL_ERROR", "requestId": "test"}
