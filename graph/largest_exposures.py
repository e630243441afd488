"""The largest exposures across the bank: control groups (or ungrouped clients) by total.

A group here is a top controller and what it controls (more than 50% or stated control, directly
or added up through direct subsidiaries, up to 6 links): the grouping of a client's `group`,
except that a client under joint control (two controllers, neither controlling the other) counts
in the group of each, where `group` names one (the smallest id, which holds the unified limit):
no controller's group is reported without what it controls. A group is held to the interbank limit
when all its members are banks (as `creditExposure` holds it). Top controllers who are close family
(individuals joined by family links, each controlling a client, as `creditExposure` joins them)
are one group with everything they control: key persons or their close family controlling both
(DOMAIN §6); the group is named after the smallest id among them. Its exposure is its members'
facility limits plus what members guarantee for borrowers outside it (each outside facility up
to its limit); closed facilities count nowhere. Economic dependence, which `creditExposure` also
follows, is left to that per-client question: it joins two clients, not a tree of them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Final, LiteralString

from graph.client_group import controlled_from, tops_of
from graph.client_links import OPEN_FACILITY
from graph.control import CONTROL
from graph.db import Db
from graph.limits import CapitalBase, LimitUsage, assess_total
from graph.models import ClientKind, GraphModel, cents_to_decimal
from graph.risk_settings import (
    DEFAULT_FX_RATES,
    SETTINGS_COLUMNS,
    SETTINGS_ID,
    capital_base_from,
    rate_columns,
)

# The capital base comes in the same statement: one round trip, and the limits are measured
# against the settings of the same moment as the sums. Each group's sums come per currency,
# converted exactly here; the ranking inside the statement uses the same rates as floats (close
# enough to order groups, never reported).
LARGEST: Final[LiteralString] = (
    SETTINGS_COLUMNS
    + """WITH *, coalesce(currency, 'CNY') AS reporting,
     coalesce(fxCurrencies, $defaultCurrencies) AS rated,
     coalesce(fxRates, $defaultRates) AS rates
CALL (reporting, rated) {
  MATCH (f:Facility) WHERE f.currency <> reporting AND NOT f.currency IN rated AND """
    + OPEN_FACILITY
    + """
  RETURN collect(DISTINCT f.currency) AS unrated
}
CALL (reporting, rated, rates) {
MATCH (c:Client) WHERE EXISTS { (c)-[:BORROWS|GUARANTEES]->(f:Facility) WHERE """
    + OPEN_FACILITY
    + """ }
CALL (c) {"""
    + tops_of("c", "root")
    + """}
WITH reporting, rated, rates, root, collect(c) AS members
CALL (root) {
  // A controlling individual's close family who control clients too: the heads of one group.
  OPTIONAL MATCH (root)-[fs:RELATED_TO*1..6]-(kin:Client)
  WHERE root.kind = 'INDIVIDUAL'
    AND all(r IN fs WHERE r.kind = 'FAMILY')
    AND all(r IN fs WHERE all(e IN [startNode(r), endNode(r)]
            WHERE e.kind = 'INDIVIDUAL' AND EXISTS { MATCH (e)-[u:CONTROLS]->(:Client) WHERE """
    + CONTROL
    + """ }))
  WITH root, [k IN collect(DISTINCT kin) WHERE k <> root] AS kin
  RETURN reduce(key = root, k IN kin | CASE WHEN k.id < key.id THEN k ELSE key END) AS key,
         [root] + kin AS heads
}
WITH reporting, rated, rates, key, collect(heads)[0] AS heads, collect(members) AS lists
// A client two of the family control is one member of their group.
CALL (lists) {
  UNWIND lists AS ms
  UNWIND ms AS m
  RETURN collect(DISTINCT m) AS members
}
WITH reporting, rated, rates, key AS root, heads, members
CALL (members) {
  UNWIND members AS m
  MATCH (m)-[:BORROWS]->(f:Facility) WHERE """
    + OPEN_FACILITY
    + """
  WITH f.currency AS currency, sum(f.limitCents) AS cents
  RETURN collect({currency: currency, cents: cents}) AS direct
}
CALL (members) {
  UNWIND members AS m
  MATCH (m)-[g:GUARANTEES]->(f:Facility)<-[:BORROWS]-(b:Client)
  WHERE NOT b IN members AND """
    + OPEN_FACILITY
    + """
  WITH f, sum(g.amountCents) AS guaranteed
  // several members guaranteeing one outside facility count up to its limit, as in exposure.py
  WITH f.currency AS currency,
       sum(CASE WHEN guaranteed > f.limitCents THEN f.limitCents ELSE guaranteed END) AS cents
  RETURN collect({currency: currency, cents: cents}) AS indirect
}
WITH root, heads, members, direct, indirect,
     reduce(total = 0.0, s IN direct + indirect | total + s.cents * CASE
       WHEN s.currency = reporting THEN 1.0
       ELSE coalesce(toFloat([i IN range(0, size(rated) - 1) WHERE rated[i] = s.currency
                              | rates[i]][0]), 0.0) END) AS rank
ORDER BY rank DESC, root.id
LIMIT $first
// The whole group, members without credit (often the top controller itself) included.
RETURN root.id AS rootId, root.name AS rootName,
       COLLECT {
         UNWIND heads AS head
         MATCH """
    + controlled_from("head", "x")
    + """
         // a member with credit where its credit is counted (a controller it is reached through
         // need not be its top: under joint control, only its tops count it)
         WITH DISTINCT x, members
         WHERE x IN members
            OR NOT EXISTS { (x)-[:BORROWS|GUARANTEES]->(f:Facility) WHERE """
    + OPEN_FACILITY
    + """ }
         RETURN {id: x.id, kind: x.kind}
       } AS groupMembers,
       direct, indirect
}
RETURN profile, tier1, net, currency, fxCurrencies, fxRates, unrated, rootId, rootName,
       groupMembers, direct, indirect
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
    """FxRateMissing while any facility's currency has no rate: the ranking would be wrong."""
    defaults = rate_columns(DEFAULT_FX_RATES)  # where none were ever stored
    records = await db.read(
        LARGEST,
        {
            "first": first,
            "settingsId": SETTINGS_ID,
            "defaultCurrencies": defaults["fxCurrencies"],
            "defaultRates": defaults["fxRates"],
        },
    )
    if not records:
        return []
    base = capital_base_from(records[0])
    base.require_rates(records[0]["unrated"])
    out = []
    for r in records:
        direct = _in_reporting(base, r["direct"])
        indirect = _in_reporting(base, r["indirect"])
        total = direct + indirect
        members = sorted(m["id"] for m in r["groupMembers"])
        banks = all(m["kind"] == ClientKind.INTERBANK.value for m in r["groupMembers"])
        out.append(
            LargeExposure(
                root_id=r["rootId"],
                root_name=r["rootName"],
                member_ids=members,
                direct=direct,
                indirect=indirect,
                total=total,
                limit_usage=assess_total(base, total, len(members), banks),
            )
        )
    # Exact totals may order two groups the float ranking saw as equal otherwise.
    return sorted(out, key=lambda e: (-e.total, e.root_id))


def _in_reporting(base: CapitalBase, per_currency: list[dict[str, Any]]) -> Decimal:
    return base.total((cents_to_decimal(s["cents"]), s["currency"]) for s in per_currency)
