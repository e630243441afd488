"""The drivers rmgraph opens: optional properties absent from the database do not flood the log."""

from __future__ import annotations

import asyncio
import logging
from typing import LiteralString

import pytest
from neo4j import AsyncManagedTransaction, Driver, GraphDatabase
from neo4j.exceptions import ClientError, TransientError

from graph.db import OUT_OF_MEMORY, Db, is_too_large, open_async_driver, open_driver
from graph.errors import QueryTooLarge
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


# Collects numbers until the database's transaction memory limit stops it, whatever the limit.
HUNGRY: LiteralString = "UNWIND range(1, 1000000000) AS x WITH collect(x) AS xs RETURN size(xs)"


def test_only_a_transactions_own_memory_limit_is_too_large() -> None:
    # The messages of Neo4j 5.26, as the managed server gives them.
    own = (
        "The allocation of an extra 2.0 MiB would use more than the limit 256.0 MiB. Currently "
        "using 254.6 MiB. db.memory.transaction.max threshold reached"
    )
    pool = (
        "The allocation of an extra 2.0 MiB would use more than the limit 512.0 MiB. Currently "
        "using 511.0 MiB. dbms.memory.transaction.total.max threshold reached"
    )
    assert is_too_large(OUT_OF_MEMORY, own)
    assert not is_too_large(OUT_OF_MEMORY, pool)
    assert not is_too_large("Neo.TransientError.Transaction.DeadlockDetected", own)
    assert not is_too_large(None, None)


# About 200 MiB of transaction memory each: under one transaction's 256 MiB, but three at once
# overfill the managed server's 512 MiB pool.
WITHIN_LIMIT: LiteralString = (
    "UNWIND range(1, 8000000) AS x WITH collect(x) AS xs RETURN size(xs) AS n"
)


async def test_queries_within_their_limit_wait_for_a_full_pool(empty_graph: Driver, db: Db) -> None:
    # The pool's error is transient: those that meet it are retried as the others end. (A
    # generous transaction timeout: on two busy cores one such query can take seconds.)
    patient = Db(db.driver, db.database, tx_timeout=120)
    found = await asyncio.gather(*(patient.read(WITHIN_LIMIT) for _ in range(3)))
    assert [records[0]["n"] for records in found] == [8000000] * 3


async def test_a_read_out_of_memory_is_stopped_at_once(empty_graph: Driver, db: Db) -> None:
    with pytest.raises(QueryTooLarge):
        await db.read(HUNGRY)
    assert (await db.read("RETURN 1 AS one"))[0]["one"] == 1  # the pool is free again


async def test_a_write_out_of_memory_is_not_retried_and_writes_nothing(
    empty_graph: Driver, db: Db
) -> None:
    attempts = []

    async def work(tx: AsyncManagedTransaction) -> None:
        attempts.append(1)
        await tx.run("CREATE (:Probe {id: 'hungry'})")
        await (await tx.run(HUNGRY)).consume()

    with pytest.raises(QueryTooLarge):
        await db.write(work)
    assert attempts == [1]  # the driver retries transient errors; this one it must not
    probes, _, _ = empty_graph.execute_query("MATCH (p:Probe) RETURN count(p) AS n")
    assert probes[0]["n"] == 0


async def test_other_transient_errors_are_still_retried(empty_graph: Driver, db: Db) -> None:
    attempts = []

    async def work(tx: AsyncManagedTransaction) -> int:
        attempts.append(1)
        if len(attempts) == 1:
            raise TransientError("a deadlock, say")
        return len(attempts)

    assert await db.write(work) == 2


async def test_reads_run_in_read_transactions(empty_graph: Driver, db: Db) -> None:
    # What a cluster routes to its secondaries; the single server refuses writes in them too.
    with pytest.raises(ClientError) as refused:
        await db.read("CREATE (:Probe {id: 'read'}) RETURN 1 AS one")
    assert refused.value.code == "Neo.ClientError.Statement.AccessMode"


async def test_writes_feed_the_bookmarks_reads_wait_for(empty_graph: Driver, db: Db) -> None:
    manager = db.driver.execute_query_bookmark_manager
    before = await manager.get_bookmarks()

    async def work(tx: AsyncManagedTransaction) -> None:
        await tx.run("CREATE (:Probe {id: 'bookmark'})")

    await db.write(work)
    after = await manager.get_bookmarks()
    assert after and after != before
