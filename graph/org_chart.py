"""The department tree with its linear and check-and-balance links, now or at a past moment.

Links changed through the restructuring operations have `:OrgLinkPeriod` records; links from
before (seeded, imported) count from their `since` until a period record closes them, and a link
an import restates after its last period ended counts again from then.
"""

from __future__ import annotations

import datetime as dt
from typing import Final, LiteralString

from graph.db import Db
from graph.models import GraphModel

LINKS_AT: Final[LiteralString] = """
CALL () {
  MATCH (p:OrgLinkPeriod)
  WHERE p.validFrom <= $asOf AND (p.validTo IS NULL OR p.validTo > $asOf)
  RETURN p.kind AS kind, p.fromId AS fromId, p.toId AS toId, p.note AS note
  UNION
  // A link with no period still open, nor one ending after $asOf: from before history was kept
  // (seeded), or restated by an import after its last period ended (an import keeps no periods).
  MATCH (a:Department)-[r:DIRECT_REPORT|LINEAR|CHECKS]->(b:Department)
  WITH a, b, r, CASE type(r) WHEN 'DIRECT_REPORT' THEN 'DIRECT' WHEN 'LINEAR' THEN 'LINEAR'
                ELSE 'CHECK_AND_BALANCE' END AS kind
  WHERE coalesce(r.since, date('1900-01-01')) <= date($asOf)
    AND NOT EXISTS { MATCH (p:OrgLinkPeriod {fromId: a.id, toId: b.id, kind: kind})
                     WHERE p.validTo IS NULL OR p.validTo > $asOf }
  RETURN kind, a.id AS fromId, b.id AS toId, coalesce(r.purpose, r.scope) AS note
}
RETURN kind, fromId, toId, note ORDER BY kind, fromId, toId
"""

NAMES: Final[LiteralString] = """
UNWIND $ids AS id MATCH (d:Department {id: id}) RETURN d.id AS id, d.name AS name
"""

MAX_NODES: Final = 2000


class ChartLink(GraphModel):
    kind: str
    from_id: str
    to_id: str
    note: str | None = None


class ChartNode(GraphModel):
    id: str
    name: str
    parent_id: str | None
    depth: int


class OrgChart(GraphModel):
    as_of: dt.datetime
    departments: list[ChartNode]  # the tree from the root, breadth-first, ids in order
    links: list[ChartLink]  # linear and check-and-balance links among them


async def get_org_chart(db: Db, root_id: str, as_of: dt.datetime) -> OrgChart | None:
    rows = await db.read(LINKS_AT, {"asOf": as_of})
    links = [
        ChartLink(kind=r["kind"], from_id=r["fromId"], to_id=r["toId"], note=r["note"])
        for r in rows
    ]
    children: dict[str, list[str]] = {}
    for link in links:
        if link.kind == "DIRECT":
            children.setdefault(link.to_id, []).append(link.from_id)
    order: list[tuple[str, str | None, int]] = [(root_id, None, 0)]
    seen = {root_id}
    for dept_id, _, depth in order:  # breadth-first; `order` grows as it is walked
        for child in sorted(children.get(dept_id, [])):
            if child not in seen and len(order) < MAX_NODES:
                seen.add(child)
                order.append((child, dept_id, depth + 1))
    names = {r["id"]: r["name"] for r in await db.read(NAMES, {"ids": [o[0] for o in order]})}
    if root_id not in names:
        return None
    return OrgChart(
        as_of=as_of,
        departments=[
            ChartNode(id=d, name=names.get(d, d), parent_id=p, depth=depth) for d, p, depth in order
        ],
        links=[
            link
            for link in links
            if link.kind != "DIRECT" and link.from_id in seen and link.to_id in seen
        ],
    )
