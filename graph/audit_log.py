"""Audit records of applied changes, newest first, for one node."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Final, LiteralString

from graph.db import Db
from graph.models import GraphModel

AUDIT_FOR_NODE: Final[LiteralString] = """
MATCH (a:AuditRecord)-[r:CHANGED]->(n {id: $nodeId})
WHERE n:Department OR n:Manager OR n:Client OR n:Product OR n:Facility
WITH a, collect(r) AS links ORDER BY a.at DESC, a.id DESC
SKIP $offset LIMIT $limit
// An import's record keeps each node's rows on its link to the node (graph.import_audit).
RETURN a {.id, .at, .actor, .action, .input, .before, .after} AS record,
       [l IN links WHERE l.after IS NOT NULL | l {.input, .before, .after}] AS rows
"""


class AuditRecord(GraphModel):
    id: str
    at: dt.datetime
    actor: str
    action: str
    input: str
    before: str
    after: str


def for_node(record: dict[str, Any], rows: list[dict[str, str]]) -> dict[str, Any]:
    """An import's record as one node sees it: the rows on the node's link. A node id that two
    labels share (a client and a product both `x`) has two links: their rows are put together."""
    if not rows:
        return record
    if len(rows) == 1:
        return {**record, **rows[0]}
    inputs = [json.loads(r["input"]) for r in rows]
    together = {
        **inputs[0],
        "rows": sum(i.get("rows", 0) for i in inputs),
        "shown": sum(i.get("shown", 0) for i in inputs),
    }
    return {
        **record,
        "input": json.dumps(together, ensure_ascii=False, sort_keys=True),
        "before": json.dumps(
            [x for r in rows for x in json.loads(r["before"])], ensure_ascii=False
        ),
        "after": json.dumps([x for r in rows for x in json.loads(r["after"])], ensure_ascii=False),
    }


async def get_audit_log(db: Db, node_id: str, offset: int, limit: int) -> list[AuditRecord]:
    records = await db.read(AUDIT_FOR_NODE, {"nodeId": node_id, "offset": offset, "limit": limit})
    return [AuditRecord.model_validate(for_node(r["record"], r["rows"])) for r in records]
