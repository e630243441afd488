"""A few weeks of the demo branch's client work, for `make run`: visits and maintenance by the
primary managers, complaints at each stage, and prospects part-way through the pipeline.

Written straight in Cypher with fixed ids (MERGE), so a rerun adds nothing. The activity is not
part of the bank's CSV set (the importer carries source data, not the managers' own records),
and the tests' demo bank leaves it out; `seeds.loader.load_demo(activity=True)` adds it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final, LiteralString

from neo4j import Driver

from graph import bank_calendar

# (prospect, stages reached in order)
PIPELINE: Final = (
    ("cli-0317", ("TARGET",)),
    ("cli-0318", ("TARGET", "VISIT_PLANNED")),
    ("cli-0319", ("TARGET", "VISIT_PLANNED", "APPOINTMENT")),
    ("cli-0320", ("TARGET", "VISIT_PLANNED", "APPOINTMENT", "VISITED")),
    ("cli-0321", ("TARGET", "LOST")),
)
METHODS: Final = ("EMOTIONAL", "KNOWLEDGE", "VALUE_ADDED", "CONSULTATIVE", "CROSS_SELLING")

INTERACTIONS: Final[LiteralString] = """
UNWIND $rows AS row
MATCH (c:Client {id: row.clientId})<-[:MANAGES {role: 'PRIMARY'}]-(m:Manager)
MERGE (i:Interaction {id: row.id})
ON CREATE SET i.kind = row.kind, i.method = row.method, i.at = datetime(row.at),
              i.notes = row.notes, i.status = row.status, i.satisfaction = row.satisfaction,
              i.handledAt = CASE WHEN row.handled THEN datetime(row.at) + duration('P2D') END,
              i.closedAt = CASE WHEN row.status = 'CLOSED' THEN datetime(row.at) + duration('P5D')
                           END
MERGE (i)-[:WITH]->(c)
MERGE (i)-[:BY]->(m)
"""
MOVES: Final[LiteralString] = """
UNWIND $rows AS row
MATCH (c:Client {id: row.clientId})<-[:MANAGES {role: 'PRIMARY'}]-(m:Manager)
MERGE (move:PipelineMove {id: row.id})
ON CREATE SET move.fromStage = row.fromStage, move.toStage = row.toStage,
              move.at = datetime(row.at), move.by = 'demo', move.note = null
MERGE (move)-[:OF]->(c)
MERGE (move)-[:BY]->(m)
FOREACH (_ IN CASE WHEN row.toStage = 'ACTIVE' THEN [1] ELSE [] END |
  MERGE (move)-[:WON_BY]->(m))
WITH c, row WHERE row.last
SET c.stage = row.toStage
"""
# The prospect at VISITED has opened its account (a new client must hold a product before
# it is won): one movePipeline to ACTIVE wins it.
ACCOUNT_OPENED: Final = ("cli-0320", "prd-deposit-corp", 5_000_000_00)
OPEN_ACCOUNT: Final[LiteralString] = """
MATCH (c:Client {id: $clientId}), (p:Product {id: $productId})
MERGE (c)-[h:HOLDS]->(p)
ON CREATE SET h.balanceCents = $cents, h.since = date($since), h.active = true
"""
GRADED: Final[LiteralString] = """
MATCH (c:Client) WHERE c.grade IS NOT NULL AND c.status = 'ACTIVE'
RETURN c.id AS id ORDER BY id
"""


def _at(today: dt.date, days_ago: int) -> str:
    return f"{(today - dt.timedelta(days=days_ago)).isoformat()}T10:00:00Z"


def activity_rows(graded: list[str], today: dt.date) -> dict[str, list[dict[str, Any]]]:
    interactions: list[dict[str, Any]] = []
    for n, client in enumerate(graded):
        # Every third graded client is left unvisited for long: the overdue list has entries.
        days = 20 + (n % 3) * 50
        interactions.append({"id": f"demo-visit-{n:03d}", "clientId": client, "kind": "VISIT",
                             "method": "ON_SITE", "at": _at(today, days), "notes": "季度走访",
                             "status": None, "satisfaction": None, "handled": False})  # fmt: skip
        interactions.append({"id": f"demo-care-{n:03d}", "clientId": client,
                             "kind": "MAINTENANCE", "method": METHODS[n % len(METHODS)],
                             "at": _at(today, days // 2), "notes": None, "status": None,
                             "satisfaction": None, "handled": False})  # fmt: skip
    for n, client in enumerate(graded[:5]):
        status = ("OPENED", "HANDLED", "CLOSED", "CLOSED", "OPENED")[n]
        interactions.append({"id": f"demo-complaint-{n}", "clientId": client,
                             "kind": "COMPLAINT", "method": None, "at": _at(today, 10 + n),
                             "notes": "手续费争议", "status": status,
                             "satisfaction": (None, None, 4, 2, None)[n],
                             "handled": status != "OPENED"})  # fmt: skip
    moves: list[dict[str, Any]] = []
    for client, stages in PIPELINE:
        previous = None
        for k, stage in enumerate(stages):
            moves.append({"id": f"demo-move-{client}-{k}", "clientId": client,
                          "fromStage": previous, "toStage": stage,
                          "at": _at(today, 30 - 5 * k), "last": k == len(stages) - 1})  # fmt: skip
            previous = stage
    return {"interactions": interactions, "moves": moves}


def load_activity(driver: Driver, database: str, today: dt.date | None = None) -> int:
    """The demo's activity; the number of interactions it names (existing ones are kept)."""
    today = today or bank_calendar.today()
    records, _, _ = driver.execute_query(GRADED, database_=database, routing_="r")
    rows = activity_rows([r["id"] for r in records], today)
    driver.execute_query(INTERACTIONS, rows=rows["interactions"], database_=database)
    driver.execute_query(MOVES, rows=rows["moves"], database_=database)
    client, product, cents = ACCOUNT_OPENED
    since = (today - dt.timedelta(days=3)).isoformat()
    driver.execute_query(
        OPEN_ACCOUNT, clientId=client, productId=product, cents=cents, since=since,
        database_=database,
    )  # fmt: skip
    return len(rows["interactions"])
