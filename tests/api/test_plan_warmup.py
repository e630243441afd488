"""The API plans its key reads when it starts, so that first requests need not."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, LiteralString

from neo4j import Driver, Record
from starlette.testclient import TestClient

from api.app import create_app
from api.settings import ApiSettings
from graph.client_page import CLIENT_PAGE
from graph.cross_sell_paths import PATHS_FOR_CLIENT
from graph.db import Db
from graph.exposure import EXPOSURE_BY_DEPTH
from graph.local_server import Connection
from graph.performance import Scope
from graph.plan_warmup import warm_key_plans
from graph.relationship_graph import NEIGHBOURHOOD, NEIGHBOURHOOD_FOR_MANAGER
from tests.conftest import DATABASE, warm_plans


def _cached_plans(driver: Driver) -> int:
    """Empties Neo4j's query cache; how many plans it held."""
    records, _, _ = driver.execute_query("CALL db.clearQueryCaches()", database_=DATABASE)
    message = str(records[0][0])
    found = re.search(r"(\d+) quer", message)
    return int(found.group(1)) if found else 0


class Recording(Db):
    """A `Db` that notes every statement it runs."""

    statements: list[str]

    async def read(
        self, query: LiteralString, params: Mapping[str, Any] | None = None
    ) -> list[Record]:
        self.statements.append(query)
        return await super().read(query, params)


async def test_the_key_reads_are_planned_by_the_warm_up(
    neo4j_conn: Connection, driver: Driver, db: Db
) -> None:
    _cached_plans(driver)
    try:
        await _warm_up_plans_each_key_read(driver, db)
    finally:
        await warm_plans(neo4j_conn)  # as found: the tests after this one expect the plans ready


async def _warm_up_plans_each_key_read(driver: Driver, db: Db) -> None:
    recording = Recording(db.driver, DATABASE, 60.0)
    recording.statements = []
    await warm_key_plans(recording)
    # Each key read, as the API asks it by default, and a manager's variants.
    assert set(recording.statements) >= {
        CLIENT_PAGE, NEIGHBOURHOOD, NEIGHBOURHOOD_FOR_MANAGER, EXPOSURE_BY_DEPTH[4],
        PATHS_FOR_CLIENT[3], Scope.MANAGER.value, Scope.DEPARTMENT.value,
    }  # fmt: skip
    # ... and Neo4j holds a plan for every statement run (the client page once per parameter
    # types at least).
    assert _cached_plans(driver) >= len(set(recording.statements))
    # Nothing was written: the reads asked for an id that matches nothing.
    records, _, _ = driver.execute_query(
        "MATCH (n) WHERE n.id = 'rmgraph-plan-warm-up' RETURN count(n) AS n", database_=DATABASE
    )
    assert records[0]["n"] == 0


async def test_the_api_warms_the_plans_as_it_starts(neo4j_conn: Connection, driver: Driver) -> None:
    _cached_plans(driver)
    try:
        with TestClient(create_app(api_settings=ApiSettings(warm_plans=False))):
            assert _cached_plans(driver) == 0
        with TestClient(create_app()):
            assert _cached_plans(driver) >= 6
    finally:
        await warm_plans(neo4j_conn)
