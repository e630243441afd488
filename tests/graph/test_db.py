"""The drivers rmgraph opens: optional properties absent from the database do not flood the log."""

from __future__ import annotations

import logging

import pytest
from neo4j import GraphDatabase

from graph.db import open_async_driver, open_driver
from graph.local_server import Connection
from tests.conftest import DATABASE

# An optional property (a corporate's industry, a prospect's potential) can be absent from a whole
# database; Neo4j then warns "property key does not exist" on every query that reads it.
READS_ABSENT_PROPERTY = (
    "OPTIONAL MATCH (c:Client {id: 'no-such-client'}) RETURN c.noSuchOptionalProperty AS nothing"
)


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "neo4j.notifications"]


def test_a_plain_driver_warns_and_ours_does_not(
    neo4j_conn: Connection, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="neo4j.notifications")
    auth = (neo4j_conn.user, neo4j_conn.password)
    with GraphDatabase.driver(neo4j_conn.uri, auth=auth) as plain:
        _, summary, _ = plain.execute_query(READS_ABSENT_PROPERTY, database_=DATABASE)
    assert any("noSuchOptionalProperty" in w for w in _warnings(caplog))
    assert summary.gql_status_objects and any(s.is_notification for s in summary.gql_status_objects)

    caplog.clear()
    with open_driver(neo4j_conn.uri, neo4j_conn.user, neo4j_conn.password) as ours:
        records, summary, _ = ours.execute_query(READS_ABSENT_PROPERTY, database_=DATABASE)
    assert records[0]["nothing"] is None
    assert _warnings(caplog) == []
    assert not any(s.is_notification for s in summary.gql_status_objects)


async def test_the_apps_async_driver_is_quiet_too(
    neo4j_conn: Connection, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="neo4j.notifications")
    driver = open_async_driver(neo4j_conn.uri, neo4j_conn.user, neo4j_conn.password)
    try:
        records, summary, _ = await driver.execute_query(READS_ABSENT_PROPERTY, database_=DATABASE)
    finally:
        await driver.close()
    assert records[0]["nothing"] is None
    assert _warnings(caplog) == []
    assert not any(s.is_notification for s in summary.gql_status_objects)
