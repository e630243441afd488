"""The largest exposures across the bank: control groups (or ungrouped clients) by total.

A group here is a top controller and what it controls (more than 50% or stated control, up to 6
links): the same grouping as a client's `group`; it is interbank when its top controller is a
bank. Its exposure is its members' facility limits
plus what members guarantee for borrowers outside it (each outside facility up to its
limit). Economic dependence, which
`creditExposure` also follows, is left to that per-client question.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final, LiteralString

from graph.db import Db
from graph.limits import LimitUsage, assess_total
from graph.models import GraphModel, cents_to_decimal
from graph.risk_settings import SETTINGS_COLUMNS, SETTINGS_ID, capital_base_from

# The capital base comes in the same statement: one round trip, and the limits are measured
# against the settings of the same moment as the sums.
LARGEST: Final[LiteralString] = (
    SETTINGS_COLUMNS
    + """CALL () {
MATCH (c:Client) WHERE EXISTS { (c)-[:BORROWS|GUARANTEES]->(:Facility) }
CALL (c) {
  OPTIONAL MATCH up = (top:Client)-[:CONTROLS*1..6]->(c)
  WHERE all(r IN relationships(up) WHERE r.share > 50 OR r.basis <> 'EQUITY')
  WITH top, length(up) AS height ORDER BY height DESC, top.id LIMIT 1
  RETURN coalesce(top, c) AS root
}
WITH root, collect(c) AS members
CALL (members) {
  UNWIND members AS m
  OPTIONAL MATCH (m)-[:BORROWS]->(f:Facility)
  RETURN coalesce(sum(f.limitCents), 0) AS directCents
}
CALL (members) {
  UNWIND members AS m
  OPTIONAL MATCH (m)-[g:GUARANTEES]->(f:Facility)<-[:BORROWS]-(b:Client)
  WHERE NOT b IN members
  WITH f, sum(g.amountCents) AS guaranteed
  // several members guaranteeing one outside facility count up to its limit, as in exposure.py
  RETURN coalesce(sum(CASE WHEN guaranteed > f.limitCents THEN f.limitCents ELSE guaranteed END), 0)
         AS indirectCents
}
WITH root, members, directCents, indirectCents, directCents + indirectCents AS totalCents
ORDER BY totalCents DESC, root.id
LIMIT $first
// The whole group, members without credit (often the top controller itself) included.
RETURN root.id AS rootId, root.name AS rootName,
       COLLECT {
         MATCH ANY SHORTEST (root) (()-[r:CONTROLS]->() WHERE r.share > 50 OR r.basis <> 'EQUITY')
               {0,6} (x:Client)
         RETURN x.id
       } AS memberIds,
       root.kind = 'INTERBANK' AS interbank,
       directCents, indirectCents, totalCents
}
RETURN profile, tier1, net, rootId, rootName, memberIds, interbank,
       directCents, indirectCents, totalCents
"""
)


class LargeExposure(GraphModel):
    root_id: str
    root_name: str
    member_ids: list[str]
    direct: Decimal
    indirect: Decimal
    total: Decimal
    limit_usage: LimitUsage


async def get_largest_exposures(db: Db, first: int) -> list[LargeExposure]:
    records = await db.read(LARGEST, {"first": first, "settingsId": SETTINGS_ID})
    if not records:
        return []
    base = capital_base_from(records[0])
    out = []
    for r in records:
        total = cents_to_decimal(r["totalCents"])
        members = sorted(r["memberIds"])
        out.append(
            LargeExposure(
                root_id=r["rootId"],
                root_name=r["rootName"],
                member_ids=members,
                direct=cents_to_decimal(r["directCents"]),
                indirect=cents_to_decimal(r["indirectCents"]),
                total=total,
                limit_usage=assess_total(base, total, len(members), bool(r["interbank"])),
            )
        )
    return out
