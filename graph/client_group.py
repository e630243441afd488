"""A client's corporate group through control links, with its figures rolled up.

Control means more than 50% of the shares, or control stated on another basis (voting agreement,
board), directly or indirectly: a minority stake is control when its holder, or a client
controlling the holder directly, holds more than 50% together with the clients it controls
directly (25% held by P and 30% by P's subsidiary S: P controls). Deeper chains of minority
stakes are not added up. The group is everything the top controller controls, directly or
through others, at most `MAX_CONTROL_DEPTH` links down; the top controller is, among those no
other controller in reach controls, the one with the smallest id (the same for every member two
controllers share), or, where control runs in a cycle at the top, the smallest id on the cycle.

Asked for a relationship manager (`$visibleTo`), the totals sum only the members in that
manager's book: the balances and credit of other managers' clients are theirs to see. The member
count and ids stay whole (other members appear as opaque clients).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Final, LiteralString

from graph.client_links import OPEN_FACILITY
from graph.control import CONTROL, control
from graph.db import Db
from graph.limits import FxTable
from graph.models import GraphModel, cents_to_decimal
from graph.risk_settings import SETTINGS_ID, fx_table_from
from graph.visibility import visible_to_manager

MAX_CONTROL_DEPTH: Final = 6


MEMBER_CAP: Final = 100

# Whether `top` is controlled by another of `tops` (the controllers in reach). The top controller
# is one that is not, where there is one: a parent whose own minority stake adds up to control
# is as near the client as its subsidiary, and must still come first. Among several (joint
# control) the smallest id: the same for every member that several controllers share, where the
# nearest or farthest differ from member to member and split one group's credit between two.
CONTROLLED_AMONG: Final[LiteralString] = (
    "EXISTS { MATCH (ctl_up:Client)-[u:CONTROLS]->(top) "
    "WHERE ctl_up IN tops AND ctl_up <> top AND " + CONTROL + " }"
)
# Where every one of `tops` is controlled, control runs in a cycle at the top: the top is the
# smallest id on that cycle (of `every`, in id order), one that reaches each of `tops` controlling
# it, and not a client below the cycle whose id happens to be smaller. (A cycle longer than the
# 6 links searched: the smallest id of all.) Read only for clients under such a cycle.
_TOP_OF_CYCLE: Final[LiteralString] = (
    "coalesce(head([ctl_top IN every WHERE NOT EXISTS {\n"
    "  MATCH (ctl_up:Client)-[u:CONTROLS]->(ctl_top)\n"
    "  WHERE ctl_up IN tops AND ctl_up <> ctl_top AND " + CONTROL + "\n"
    "    AND NOT EXISTS { MATCH (ctl_top)-[ctl_vs:CONTROLS*1..6]->(ctl_up)\n"
    "                     WHERE all(ctl_v IN ctl_vs WHERE " + control("ctl_v") + ") } }]),\n"
    "  every[0])"
)


def _controllers_in_reach(client: LiteralString, alias: LiteralString) -> LiteralString:
    """`client` itself when nothing controls it; else every controller in reach of it (itself
    included), each as `top` with whether another of them `controlled` it. The callers pick."""
    controlled: LiteralString = "EXISTS { (" + client + ")<-[u:CONTROLS]-() WHERE " + CONTROL + " }"
    # Most clients have no controller: they skip the search.
    return (
        "WITH " + client + " WHERE NOT " + controlled + "\n"
        "RETURN " + client + " AS " + alias + "\n"
        "UNION\n"
        "WITH " + client + " WHERE " + controlled + "\n"
        # The client itself is a candidate: in a cycle of control it may be the smallest id,
        # and every member must name the same top.
        "MATCH (top:Client)-[us:CONTROLS*0..6]->(" + client + ")\n"
        "WHERE all(u IN us WHERE " + CONTROL + ")\n"
        "WITH DISTINCT " + client + ", top\n"
        "WITH " + client + ", collect(top) AS tops\n"
        "UNWIND tops AS top\n"
        "WITH tops, top, " + CONTROLLED_AMONG + " AS controlled\n"
    )


def controlled_from(top: LiteralString, member: LiteralString) -> LiteralString:
    """A MATCH pattern: `top` and each client it controls, at most MAX_CONTROL_DEPTH links down,
    as `member` (asked for the distinct members, Neo4j walks breadth-first). Ends in its WHERE,
    which a caller may extend with AND."""
    return (
        "(" + top + ")-[ctl_down:CONTROLS*0..6]->(" + member + ":Client) "
        "WHERE all(u IN ctl_down WHERE " + CONTROL + ")"
    )


def root_of(client: LiteralString, alias: LiteralString) -> LiteralString:
    """The top controller of `client` (one no other controller in reach controls, the smallest
    id among several; in a cycle of control at the top, the smallest id on it), or itself: what a
    client's `group` and the unified limit's holder start from (`largestExposures` counts a
    client under each of its tops: `tops_of`)."""
    return (
        _controllers_in_reach(client, alias)
        + "ORDER BY controlled, top.id\n"
        + "WITH tops, collect(top) AS every, collect(controlled)[0] AS cyclic\n"
        + "RETURN CASE WHEN cyclic THEN "
        + _TOP_OF_CYCLE
        + " ELSE every[0] END AS "
        + alias
        + "\n"
    )


def tops_of(client: LiteralString, alias: LiteralString) -> LiteralString:
    """Every top controller of `client` (each controller in reach no other one controls; in a
    cycle of control at the top, as `root_of` picks it), or itself: the groups a client's credit
    counts in for `largestExposures`. Under joint control that is more than one: each group is
    whole, rather than one controller's counted without what it controls."""
    return (
        _controllers_in_reach(client, alias)
        + "ORDER BY top.id\n"
        + "WITH tops, collect(CASE WHEN controlled THEN null ELSE top END) AS free, "
        + "collect(top) AS every\n"
        + "UNWIND CASE WHEN size(free) > 0 THEN free ELSE ["
        + _TOP_OF_CYCLE
        + "] END AS top\n"
        + "RETURN top AS "
        + alias
        + "\n"
    )


# Expects `c` in scope; yields `group` (null when `c` is in no group). Path bounds cannot be
# parameters in Cypher: the 6 here and in root_of is MAX_CONTROL_DEPTH. Both walks (up to the top
# controller, down to the members) ask only for the distinct clients in reach, which Neo4j finds
# breadth-first: control links that form a dense web or a cycle (imported as recorded) cost what
# the links in reach cost, not the paths through them.
GROUP_SUBQUERY: Final[LiteralString] = (
    """
CALL (c) {
  CALL (c) {
"""
    + root_of("c", "top")
    + """  }
  MATCH """
    + controlled_from("top", "m")
    + """
  WITH DISTINCT top, m ORDER BY m.id
  WITH top, collect(m) AS members
  WITH top, members,
       CASE WHEN $visibleTo IS NULL THEN members
            ELSE [m IN members WHERE """
    + visible_to_manager("m")
    + """] END AS counted
  CALL (counted) {
    UNWIND counted AS m
    // An archived member keeps its holdings as they were: no longer business of the group's.
    OPTIONAL MATCH (m)-[h:HOLDS]->() WHERE h.active AND m.status <> 'ARCHIVED'
    RETURN coalesce(sum(h.balanceCents), 0) AS balanceCents
  }
  CALL (counted) {
    UNWIND counted AS m
    MATCH (m)-[:BORROWS]->(f:Facility) WHERE """
    + OPEN_FACILITY
    + """
    WITH f.currency AS currency, sum(f.limitCents) AS limitCents, sum(f.drawnCents) AS drawnCents
    RETURN collect({currency: currency, limitCents: limitCents, drawnCents: drawnCents}) AS credit
  }
  // Credit comes per currency, added up in Python at the risk settings' rates.
  RETURN CASE WHEN size(members) < 2 THEN null ELSE {
    rootId: top.id, memberCount: size(members),
    memberIds: [m IN members | m.id][..$memberCap],
    balanceCents: balanceCents, credit: credit,
    fx: COLLECT { MATCH (s:RiskSettings {id: $settingsId})
                  RETURN [s.currency, s.fxCurrencies, s.fxRates] }[0]
  } END AS group
}
"""
)

GROUPS_OF_CLIENTS: Final[LiteralString] = (
    "UNWIND $ids AS id MATCH (c:Client {id: id}) "
    + GROUP_SUBQUERY
    + " RETURN c.id AS clientId, group"
)


class CreditInCurrency(GraphModel):
    currency: str
    limit: Decimal
    drawn: Decimal


class ClientGroup(GraphModel):
    root_id: str
    member_count: int
    member_ids: list[str]
    total_balance: Decimal
    credit: list[CreditInCurrency]  # members' facilities, summed per currency
    fx: FxTable  # the risk settings' rates, read with them

    def total_limit(self) -> Decimal:
        """In the reporting currency; FxRateMissing without a rate (only this figure fails)."""
        return self.fx.total((c.limit, c.currency) for c in self.credit)

    def total_drawn(self) -> Decimal:
        return self.fx.total((c.drawn, c.currency) for c in self.credit)


def group_from_map(row: dict[str, Any] | None) -> ClientGroup | None:
    if row is None:
        return None
    return ClientGroup(
        root_id=row["rootId"],
        member_count=row["memberCount"],
        member_ids=row["memberIds"],
        total_balance=cents_to_decimal(row["balanceCents"]),
        credit=[
            CreditInCurrency(
                currency=c["currency"],
                limit=cents_to_decimal(c["limitCents"]),
                drawn=cents_to_decimal(c["drawnCents"]),
            )
            for c in row["credit"]
        ],
        fx=fx_table_from(*(row["fx"] or (None, None, None))),
    )


async def get_client_groups(
    db: Db, client_ids: Sequence[str], visible_to: str | None = None
) -> dict[str, ClientGroup | None]:
    """Totals over every member, or only those in manager `visible_to`'s book."""
    records = await db.read(
        GROUPS_OF_CLIENTS,
        {
            "ids": list(client_ids),
            "memberCap": MEMBER_CAP,
            "visibleTo": visible_to,
            "settingsId": SETTINGS_ID,
        },
    )
    return {r["clientId"]: group_from_map(r["group"]) for r in records}
