"""Audit records of applied changes, newest first, for one node."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Final, LiteralString

from graph.db import Db
from graph.models import GraphModel

AUDIT_FOR_NODE: Final[LiteralString] = """
MATCH (a:AuditRecord)-[r:CHANGED]->(n {id: $nodeId})
WHERE n:Department OR n:Manager OR n:Client OR n:Product OR n:Facility OR n:RiskSettings
   OR n:KeyAccountSettings
WITH a, collect(CASE WHEN r.after IS NOT NULL THEN r {
       label: head(labels(n)), input: coalesce(r.input, a.input), .before, .after} END) AS rows
ORDER BY a.at DESC, a.id DESC
SKIP $offset LIMIT $limit
// An import's record keeps each node's rows on its link to the node (graph.import_audit).
RETURN a {.id, .at, .actor, .action, .input, .before, .after} AS record, rows
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
    labels share (a client and a product both `x`) has two links: their rows are put together,
    in label order, a row on both (client `x` holding product `x`) once."""
    if not rows:
        return record
    if len(rows) == 1:
        return {**record, **{k: rows[0][k] for k in ("input", "before", "after")}}
    links = sorted(rows, key=lambda r: r.get("label", ""))
    inputs = [json.loads(r["input"]) for r in links]
    pairs: list[tuple[Any, Any]] = []
    for link in links:
        for pair in zip(json.loads(link["before"]), json.loads(link["after"]), strict=True):
            if pair not in pairs:
                pairs.append(pair)
    together = {
        **inputs[0],
        "rows": sum(i.get("rows", 0) for i in inputs)
        - sum(i.get("shown", 0) for i in inputs)
        + len(pairs),
        "shown": len(pairs),
    }
    return {
        **record,
        "input": json.dumps(together, ensure_ascii=False, sort_keys=True),
        "before": json.dumps([b for b, _ in pairs], ensure_ascii=False),
        "after": json.dumps([a for _, a in pairs], ensure_ascii=False),
    }


async def get_audit_log(db: Db, node_id: str, offset: int, limit: int) -> list[AuditRecord]:
    records = await db.read(AUDIT_FOR_NODE, {"nodeId": node_id, "offset": offset, "limit": limit})
    return [AuditRecord.model_validate(for_node(r["record"], r["rows"])) for r in records]
