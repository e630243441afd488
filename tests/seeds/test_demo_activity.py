"""The managers' demo activity `make run` adds: idempotent, and the new queries have something
to show on it."""

from __future__ import annotations

import datetime as dt

from neo4j import Driver

from graph.db import Db
from seeds.demo_activity import load_activity
from tests.conftest import DATABASE, graph_snapshot
from tests.gql import execute

TODAY = dt.date(2026, 11, 28)


async def test_demo_activity_is_idempotent_and_usable(writable_demo_bank: Driver, db: Db) -> None:
    named = load_activity(writable_demo_bank, DATABASE, TODAY)
    once = graph_snapshot(writable_demo_bank)
    assert load_activity(writable_demo_bank, DATABASE, TODAY) == named
    assert graph_snapshot(writable_demo_bank) == once

    data, errors, _ = await execute(
        db, '{ client(id: "cli-0320") { pipelineStage pipelineHistory { toStage } } }'
    )
    assert errors == [] and data is not None
    assert data["client"]["pipelineStage"] == "VISITED"
    assert [m["toStage"] for m in data["client"]["pipelineHistory"]] == [
        "VISITED", "APPOINTMENT", "VISIT_PLANNED", "TARGET",
    ]  # fmt: skip
    move = """mutation { movePipeline(input: {clientId: "cli-0320", toStage: ACTIVE}) {
      __typename } }"""
    data, errors, _ = await execute(db, move)
    assert errors == [] and data == {"movePipeline": {"__typename": "PipelineMove"}}

    # The third graded client was last visited 120 days ago: overdue whatever its plan.
    records, _, _ = writable_demo_bank.execute_query(
        "MATCH (m:Manager)<-[:BY]-(:Interaction {id: 'demo-visit-002'})-[:WITH]->(c:Client) "
        "RETURN m.id AS manager, c.id AS client",
        database_=DATABASE,
    )
    manager, client = records[0]["manager"], records[0]["client"]
    query = "query ($m: ID!, $t: Date) { overdueVisits(managerId: $m, today: $t) { clientId } }"
    data, errors, _ = await execute(db, query, {"m": manager, "t": TODAY.isoformat()})
    assert errors == [] and data is not None
    assert client in [r["clientId"] for r in data["overdueVisits"]]
    records, _, _ = writable_demo_bank.execute_query(
        "MATCH (i:Interaction {kind: 'COMPLAINT'}) RETURN i.status AS s ORDER BY s",
        database_=DATABASE,
    )
    assert [r["s"] for r in records] == ["CLOSED", "CLOSED", "HANDLED", "OPENED", "OPENED"]
