"""Key queries start from an index, never from a scan of a whole label (read from EXPLAIN)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any, LiteralString

import pytest
from neo4j import Driver

from graph.client_links import LINKS_BY_CLIENT
from graph.client_page import CLIENT_PAGE
from graph.clients import GET_CLIENTS, LIST_BOOK_CLIENTS
from graph.cross_sell_paths import PATHS_FOR_CLIENT, PATHS_FOR_MANAGER
from graph.exposure import EXPOSURE_BY_DEPTH
from graph.local_server import Connection
from graph.relationship_graph import NEIGHBOURHOOD, NEIGHBOURHOOD_FOR_MANAGER
from graph.visibility import VISIBLE_AMONG
from tests.conftest import DATABASE, warm_plans

PARAMS: dict[str, Any] = {
    "ids": ["cli-0001"], "clientId": "cli-hdsteel", "managerId": "mgr-001", "visibleTo": "mgr-001",
    "kinds": None, "direction": "BOTH", "cap": 50, "includeClosed": False, "holdingsCap": 50,
    "facilitiesCap": 50, "memberCap": 100, "depth": 2, "types": ["CONTROLS"], "limit": 10,
    "first": 10, "after": None, "nameContains": None, "kind": None, "grade": None,
    "departmentId": None,
}  # fmt: skip

KEY_QUERIES: dict[str, LiteralString] = {
    "client by id": GET_CLIENTS,
    "client page": CLIENT_PAGE,
    "client links": LINKS_BY_CLIENT,
    "relationship graph": NEIGHBOURHOOD,
    "relationship graph (manager)": NEIGHBOURHOOD_FOR_MANAGER,
    "credit exposure d4": EXPOSURE_BY_DEPTH[4],
    "cross-sell paths": PATHS_FOR_CLIENT[3],
    "cross-sell opportunities": PATHS_FOR_MANAGER[3],
    "manager visibility": VISIBLE_AMONG,
    "a manager's clients": LIST_BOOK_CLIENTS,
}


def operators(plan: dict[str, Any]) -> list[str]:
    found = [str(plan["operatorType"]).split("@")[0]]
    for child in plan.get("children", []):
        found += operators(child)
    return found


def details(plan: dict[str, Any]) -> list[str]:
    found = [f"{plan['operatorType']}: {plan.get('args', {}).get('Details', '')}"]
    for child in plan.get("children", []):
        found += details(child)
    return found


@pytest.fixture(scope="module", autouse=True)
def plans_warmed_after(neo4j_conn: Connection) -> Iterator[None]:
    """The tests here empty Neo4j's plan cache: the tests after them expect the key reads
    planned, as the API leaves them (a cold client page plan can outlast a 5 s transaction)."""
    yield
    asyncio.run(warm_plans(neo4j_conn))


@pytest.fixture
def fresh_plans(demo_bank: Driver) -> Driver:
    """Plans from the demo bank's statistics, not ones cached while earlier tests filled and
    emptied the database (a running server replans as its statistics drift; a test asking
    straight after a wipe would otherwise see whatever was cached)."""
    demo_bank.execute_query("CALL db.prepareForReplanning()", database_=DATABASE)
    return demo_bank


@pytest.mark.parametrize("name", sorted(KEY_QUERIES))
def test_key_query_seeks_an_index(fresh_plans: Driver, name: str) -> None:
    with fresh_plans.session(database=DATABASE) as session:
        summary = session.run("EXPLAIN " + KEY_QUERIES[name], PARAMS).consume()
    assert summary.plan is not None
    ops = operators(summary.plan)
    # The anchor is an index seek (which one is the planner's choice); never a whole-label scan.
    assert any("IndexSeek" in op for op in ops), "\n".join(details(summary.plan))
    assert not any(op in ("NodeByLabelScan", "AllNodesScan") for op in ops), ops
