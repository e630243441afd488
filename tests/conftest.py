"""A real Neo4j for the whole test session, and fixtures that give each test a known graph.

The database comes from `graph.provision`: `NEO4J_URI` when set, else Docker, else the managed
local server in a fresh temporary state folder (so the suite never touches `make run`'s data).
Neo4j Community has one user database, so tests take turns: `demo_bank` guarantees the demo bank
exactly as seeded, `empty_graph` an empty database; a test that writes uses `empty_graph` or
`writable_demo_bank`, and the next test that needs the demo bank reloads it.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from neo4j import Driver
from starlette.testclient import TestClient

from api.auth import Role, issue_token
from graph import bank_calendar
from graph.db import Db, open_async_driver, open_driver
from graph.local_server import Connection
from graph.migrations import migrate
from graph.plan_warmup import warm_key_plans
from graph.provision import provide_neo4j
from graph.settings import Neo4jSettings

DATABASE = Neo4jSettings().database
WIPE = "MATCH (n) DETACH DELETE n"


class GraphState:
    """What the shared database holds now, so fixtures reload only when needed."""

    demo_loaded = False
    demo_counts: tuple[int, int, int] = (0, 0, 0)


TEST_SECRET = "test-secret-for-the-rmgraph-suite-only-" + "0123456789abcdef" * 3
os.environ["RMGRAPH_JWT_SECRET"] = TEST_SECRET
os.environ["RMGRAPH_ENV"] = "development"  # the app as `make run` serves it
os.environ.pop("RMGRAPH_JWT_PUBLIC_KEY", None)


def bearer(
    role: Role = Role.ADMIN, manager_id: str | None = None, ttl: int = 600
) -> dict[str, str]:
    token = issue_token(TEST_SECRET, role, f"test-{role.value.lower()}", manager_id, ttl)
    return {"Authorization": f"Bearer {token}"}


def pytest_configure(config: pytest.Config) -> None:
    """A run that is terminated (a CI time limit, `kill`) tears down as one interrupted with
    Ctrl-C does, so the managed Neo4j it started is stopped, not left holding its memory."""
    signal.signal(signal.SIGTERM, signal.default_int_handler)


@pytest.fixture(scope="session")
def neo4j_conn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Connection]:
    state: Path = tmp_path_factory.mktemp("neo4j-state")
    with provide_neo4j(state_dir=state) as conn:
        os.environ.update(
            {"NEO4J_URI": conn.uri, "NEO4J_USER": conn.user, "NEO4J_PASSWORD": conn.password}
        )
        yield conn


@pytest.fixture(scope="session")
def driver(neo4j_conn: Connection) -> Iterator[Driver]:
    with open_driver(neo4j_conn.uri, neo4j_conn.user, neo4j_conn.password) as drv:
        migrate(drv, DATABASE)
        asyncio.run(warm_plans(neo4j_conn))
        yield drv


async def warm_plans(conn: Connection) -> None:
    """Plans the key reads, as the API does when it starts: on a server just started, planning
    the client page can take longer than a test transaction's 5 s."""
    drv = open_async_driver(conn.uri, conn.user, conn.password)
    try:
        await warm_key_plans(Db(drv, DATABASE, 60.0))
    finally:
        await drv.close()


def _wipe(driver: Driver) -> None:
    driver.execute_query(WIPE, database_=DATABASE)
    GraphState.demo_loaded = False


# Every write leaves an audit record, and most add or remove nodes or links: counts the store
# keeps, read at no cost.
COUNTS = """
CALL () { MATCH (n) RETURN count(n) AS nodes }
CALL () { MATCH ()-[r]->() RETURN count(r) AS links }
CALL () { MATCH (a:AuditRecord) RETURN count(a) AS audits }
RETURN nodes, links, audits
"""


def _counts(driver: Driver) -> tuple[int, int, int]:
    records, _, _ = driver.execute_query(COUNTS, database_=DATABASE)
    return records[0]["nodes"], records[0]["links"], records[0]["audits"]


@pytest.fixture
def demo_bank(driver: Driver) -> Iterator[Driver]:
    """The demo bank, exactly as seeded. Tests using it must not write: one that does fails
    here (and the bank is reloaded for the next), rather than leaving its writes to others."""
    if not GraphState.demo_loaded:
        from seeds.loader import load_demo

        _wipe(driver)
        load_demo(driver, DATABASE, quiet=True)
        GraphState.demo_loaded = True
        GraphState.demo_counts = _counts(driver)
    yield driver
    if GraphState.demo_loaded and _counts(driver) != GraphState.demo_counts:
        GraphState.demo_loaded = False
        pytest.fail("the test wrote to the shared demo bank: use writable_demo_bank")


def reload_demo(driver: Driver) -> None:
    """The demo bank again, for the next example of a property test whose last one wrote."""
    from seeds.loader import load_demo

    _wipe(driver)
    load_demo(driver, DATABASE, quiet=True)


@pytest.fixture
def writable_demo_bank(demo_bank: Driver) -> Iterator[Driver]:
    """The demo bank for a test that changes it; reloaded for whoever comes next."""
    yield demo_bank
    GraphState.demo_loaded = False


@pytest.fixture
def empty_graph(driver: Driver) -> Iterator[Driver]:
    """An empty database (constraints kept) for a hand-built graph; emptied again after."""
    _wipe(driver)
    yield driver
    _wipe(driver)


@pytest.fixture
async def db(neo4j_conn: Connection) -> AsyncIterator[Db]:
    """A `Db` on its own async driver, bound to this test's event loop."""
    drv = open_async_driver(neo4j_conn.uri, neo4j_conn.user, neo4j_conn.password)
    try:
        yield Db(drv, DATABASE)
    finally:
        await drv.close()


@pytest.fixture(scope="session")
def api(neo4j_conn: Connection) -> Iterator[TestClient]:
    """The app over HTTP, as an ADMIN unless a test passes its own headers."""
    from api.app import create_app

    with TestClient(create_app(), headers=bearer()) as client:
        yield client


def graph_snapshot(driver: Driver) -> dict[str, Any]:
    """Every node and relationship with its properties, to compare before and after."""
    nodes, _, _ = driver.execute_query(
        "MATCH (n) RETURN labels(n) AS l, properties(n) AS p ORDER BY n.id", database_=DATABASE
    )
    rels, _, _ = driver.execute_query(
        "MATCH (a)-[r]->(b) RETURN a.id AS a, type(r) AS t, properties(r) AS p, b.id AS b "
        "ORDER BY a, t, b",
        database_=DATABASE,
    )
    return {
        "nodes": [(sorted(r["l"]), r["p"]) for r in nodes],
        "rels": [(r["a"], r["t"], r["b"], r["p"]) for r in rels],
    }


@pytest.fixture
def shanghai(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The bank's days are Beijing's, whatever RMGRAPH_TIMEZONE says where the tests run."""
    monkeypatch.setenv("RMGRAPH_TIMEZONE", "Asia/Shanghai")
    bank_calendar.bank_zone.cache_clear()
    yield
    bank_calendar.bank_zone.cache_clear()  # monkeypatch restores the variable after this
