"""No request can run away: depth, aliases, tokens, page sizes and time are all bounded."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any, LiteralString

import pytest
from graphql import parse, validate
from graphql.validation.rules import overlapping_fields_can_be_merged
from neo4j import Driver, Record

from api.context import Context
from graph.db import Db
from graph.errors import QueryTimeout
from schema.build import VALIDATION_BUDGET, schema
from schema.document_limits import document_limits
from tests.gql import ADMIN, execute


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


async def test_fragments_spread_again_and_again_are_measured_once(
    demo_bank: Driver, db: Db
) -> None:
    # 300 tokens whose expansion is 4 million fields: Strawberry's limiters walked into every
    # spread and ran for minutes. Measured once per fragment, it is refused at once.
    fragments = "fragment F0 on Query { __typename } " + " ".join(
        f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, 23)
    )
    data, errors, ctx = await execute(db, "query Fan { ...F22 } " + fragments)
    assert data is None
    assert [e.message for e in errors] == [
        "'Fan' could answer about 4,194,304 fields; the most one request may ask for is "
        "100,000: ask for smaller pages"
    ]
    assert ctx.db.round_trips == 0


async def test_lists_within_lists_are_refused_before_anything_runs(
    demo_bank: Driver, db: Db
) -> None:
    # Within depth, aliases and tokens, yet megabytes: every list counted at its page size.
    inner = (
        "clients(first: 100) { edges { node { managers { manager { clients(first: 100) { "
        "client { relatedClients(first: 100) { client { id name } } } } } } } } }"
    )
    data, errors, ctx = await execute(
        db, "{ " + " ".join(f"a{i}: {inner}" for i in range(3)) + " }"
    )
    assert data is None
    assert "could answer about 120,606,603 fields" in errors[0].message
    assert ctx.db.round_trips == 0
    # The same at a sensible size answers.
    small = "clients(first: 5) { edges { node { managers { manager { clients(first: 5) { client { id } } } } } } }"
    data, errors, _ = await execute(db, "{ " + small + " }")
    assert errors == [] and data is not None and len(data["clients"]["edges"]) == 5


async def test_a_negative_page_size_cannot_cancel_out_the_rest(demo_bank: Driver, db: Db) -> None:
    # The negative literal fails at run time in a nullable field; counted as written it made the
    # estimate of the whole operation negative, and the rest ran unchecked.
    inner = (
        "clients(first: 100) { edges { node { relatedClients(first: 100) { client { id } } } } }"
    )
    query = (
        '{ x: relationshipGraph(clientId: "cli-0001", limit: -2000000000) { nodes { id } } '
        + " ".join(f"a{i}: {inner}" for i in range(6))
        + " }"
    )
    data, errors, ctx = await execute(db, query)
    assert data is None
    assert "could answer about" in errors[0].message
    assert ctx.db.round_trips == 0


async def test_page_sizes_from_variables_count_at_their_most(demo_bank: Driver, db: Db) -> None:
    # Validation sees no variable values (and its verdict is cached for the document): a
    # variable's default of 1 must not let a request of 100 at every level through.
    query = """query ($n: Int! = 1) { clients(first: $n) { edges { node {
        relatedClients(first: $n) { client { relatedClients(first: $n) { client { id } } } }
    } } } }"""
    for variables in ({"n": 100}, {}):
        data, errors, ctx = await execute(db, query, variables)
        assert data is None
        assert "could answer about 3,020,201 fields" in errors[0].message
        assert ctx.db.round_trips == 0


def _estimate(query: str) -> int:
    """The size the document limits estimate for `query` (a limit of 0 reports every one)."""
    rule = document_limits(max_depth=100, max_aliases=100, max_size=0)
    [error] = validate(schema._schema, parse(query), [rule])
    return int(re.sub(r"\D", "", error.message.split("could answer about ")[1].split(" ")[0]))


def test_page_sizes_count_within_each_fields_range() -> None:
    graph = 'query ($n: Int! = 5) { relationshipGraph(clientId: "c", limit: %s) { nodes { id } } }'
    # relationshipGraph's limit goes to 1,000 (most lists' to 100): a variable counts as that,
    # a literal within 1 to 1,000.
    assert _estimate(graph % "$n") == _estimate(graph % "1000") == _estimate(graph % "5000")
    assert _estimate(graph % "1000") == 2001
    assert _estimate(graph % "-2000000000") == _estimate(graph % "1") == 3
    clients = "query ($n: Int = 3) { clients(first: %s) { edges { node { id } } } }"
    assert _estimate(clients % "$n") == _estimate(clients % "100") == 301
    # The org chart's departments count at the most it draws (2,000), not as a short list.
    assert _estimate('{ orgChart(rootId: "d") { departments { id name } } }') == 6001


async def test_a_groups_members_count_at_their_cap(demo_bank: Driver, db: Db) -> None:
    # Up to 100 members each, not the 10 of a short link list: groups within groups multiply.
    query = (
        '{ client(id: "cli-0001") { group { members { group { members { group { members { id }'
        " } } } } } } }"
    )
    data, errors, ctx = await execute(db, query)
    assert data is None
    assert "could answer about 2,020,202 fields" in errors[0].message
    assert ctx.db.round_trips == 0


async def test_token_bomb_is_refused(demo_bank: Driver, db: Db) -> None:
    query = "{ clients { totalCount " + "__typename " * 3000 + "} }"
    data, errors, _ = await execute(db, query)
    assert data is None
    assert "token" in errors[0].message.lower()


def _logged(caplog: pytest.LogCaptureFixture) -> list[tuple[str, int, str]]:
    return [(r.name, r.levelno, r.getMessage()) for r in caplog.records]


async def test_oversized_page_is_refused(
    demo_bank: Driver, db: Db, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    _, errors, ctx = await execute(db, "{ clients(first: 1000) { totalCount } }")
    assert errors[0].extensions == {"code": "BAD_USER_INPUT", "argument": "first"}
    assert ctx.db.round_trips == 0
    # A client's mistake is the client's to see: nothing is logged at warning or above.
    assert [r for r in _logged(caplog) if r[1] >= logging.WARNING] == []


SLOW: LiteralString = "UNWIND range(1, 300000000) AS x WITH x WHERE x % 7 = 0 RETURN count(*)"


class SlowDb(Db):
    """Every read is preceded by Cypher that outlasts the timeout, so a field's own query
    reliably hits the database's real time limit."""

    async def read(
        self, query: LiteralString, params: Mapping[str, Any] | None = None
    ) -> list[Record]:
        await super().read(SLOW)
        return await super().read(query, params)


async def test_slow_cypher_is_cancelled_with_a_typed_error(
    demo_bank: Driver, db: Db, caplog: pytest.LogCaptureFixture
) -> None:
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
    assert (
        "rmgraph.errors",
        logging.WARNING,
        "timeout in request test at ['relationshipGraph']",
    ) in (_logged(caplog))


async def test_internal_errors_are_masked_with_a_request_id(
    demo_bank: Driver, db: Db, caplog: pytest.LogCaptureFixture
) -> None:
    await db.driver.close()  # every round trip now fails inside the driver
    data, errors, _ = await execute(db, '{ client(id: "cli-0001") { name } }')
    assert data == {"client": None}
    [error] = errors
    assert error.message == "Internal error (request id test)"
    assert error.extensions == {"code": "INTERNAL_ERROR", "requestId": "test"}
    # Logged once, with the request id and the cause's traceback.
    [record] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert (record.name, record.getMessage()) == (
        "rmgraph.errors",
        "internal error in request test at ['client']",
    )
    assert record.exc_info is not None


async def test_several_operations_need_a_name(demo_bank: Driver, db: Db) -> None:
    document = "query A { clients(first: 1) { totalCount } } query B { __typename }"
    data, errors, ctx = await execute(db, document)
    assert data is None
    assert [e.message for e in errors] == [
        "Must provide operation name if query contains multiple operations."
    ]
    assert ctx.db.round_trips == 0
    result = await schema.execute(
        document, operation_name="B", context_value=Context(db=db, request_id="t", principal=ADMIN)
    )
    assert result.errors is None and result.data == {"__typename": "Query"}


# Collects numbers until the database's transaction memory limit stops it, whatever the limit.
HUNGRY: LiteralString = "UNWIND range(1, 1000000000) AS x WITH collect(x) AS xs RETURN size(xs)"


class HungryDb(Db):
    """Every read is preceded by Cypher that outgrows the transaction memory limit."""

    async def read(
        self, query: LiteralString, params: Mapping[str, Any] | None = None
    ) -> list[Record]:
        await super().read(HUNGRY)
        return await super().read(query, params)


async def test_a_query_out_of_memory_is_answered_with_a_typed_error(
    demo_bank: Driver, db: Db, caplog: pytest.LogCaptureFixture
) -> None:
    data, errors, _ = await execute(
        HungryDb(db.driver, db.database, db.tx_timeout),
        '{ client(id: "cli-hdsteel") { name } }',
    )
    assert data == {"client": None}
    [error] = errors
    assert error.extensions == {"code": "MEMORY_LIMIT", "requestId": "test"}
    assert error.message.startswith("Memory limit: the query needed more memory")
    assert ("rmgraph.errors", logging.WARNING, "memory limit in request test at ['client']") in (
        _logged(caplog)
    )


async def test_a_field_repeated_hundreds_of_times_is_given_up_early(
    demo_bank: Driver, db: Db
) -> None:
    """Within the token limit, 400 repeats of one field made graphql-core compare every pair
    (a second of CPU per document, which no time limit can cut): it gives up once its budget is
    spent, and nothing runs. A field repeated a few times, as clients do, is still merged."""
    assert overlapping_fields_can_be_merged.MAX_COMPLEXITY_BUDGET == VALIDATION_BUDGET
    repeated = " ".join(["keyAccountSettings { thresholds { aShare } }"] * 400)
    data, errors, ctx = await execute(db, "{ " + repeated + " }")
    assert data is None
    assert [e.message for e in errors] == ["Validation aborted."]
    assert ctx.db.round_trips == 0
    few = " ".join(["keyAccountSettings { thresholds { aShare } }"] * 3)
    data, errors, _ = await execute(db, "{ " + few + " }")
    assert errors == [] and data is not None
    assert data["keyAccountSettings"]["thresholds"]["aShare"] > 0


def test_aliases_inside_introspection_count() -> None:
    """With introspection on (development), 150 aliased copies of the schema's types cost
    seconds of CPU: they count against the alias limit, fragments spread once per spread."""
    rule = document_limits(max_depth=100, max_aliases=30, max_size=10**9)
    copies = " ".join(f"a{i}: types {{ name fields {{ name }} }}" for i in range(31))
    [error] = validate(schema._schema, parse("{ __schema { " + copies + " } }"), [rule])
    assert error.message == "31 aliases found. Allowed: 30"
    sixteen = " ".join(f"a{i}: types {{ name }}" for i in range(16))
    spread = "{ __schema { ...T ...T } } fragment T on __Schema { " + sixteen + " }"
    [error] = validate(schema._schema, parse(spread), [rule])
    assert error.message == "32 aliases found. Allowed: 30"
    assert validate(schema._schema, parse("{ __schema { a: types { name } } }"), [rule]) == []
