"""Audit records of applied changes, newest first, for one node."""

from __future__ import annotations

import datetime as dt
from typing import Final, LiteralString

from graph.db import Db
from graph.models import GraphModel

AUDIT_FOR_NODE: Final[LiteralString] = """
MATCH (a:AuditRecord)-[r:CHANGED]->(n {id: $nodeId})
WHERE n:Department OR n:Manager OR n:Client OR n:Product OR n:Facility
WITH a, collect(r) AS links ORDER BY a.at DESC, a.id DESC
SKIP $offset LIMIT $limit
// An import's record keeps each node's rows on its link to the node (graph.import_audit); a
// node id shared by two labels gets the first of its links.
RETURN a {.id, .at, .actor, .action,
          input: coalesce(links[0].input, a.input),
          before: coalesce(links[0].before, a.before),
          after: coalesce(links[0].after, a.after)} AS record
"""


class AuditRecord(GraphModel):
    id: str
    at: dt.datetime
    actor: str
    action: str
    input: str
    before: str
    after: str


async def get_audit_log(db: Db, node_id: str, offset: int, limit: int) -> list[AuditRecord]:
    records = await db.read(AUDIT_FOR_NODE, {"nodeId": node_id, "offset": offset, "limit": limit})
    return [AuditRecord.model_validate(r["record"]) for r in records]
