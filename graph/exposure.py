"""Credit exposure to a client's group, the way the large-exposure rules count it.

The group is every client joined to the client by control (more than 50% or control stated on
another basis, directly or added up through subsidiaries as `graph.client_group` says), economic
dependence, profit transfer (assets or profits moving at unfair prices), or family between two
individuals who each control a
client, in either direction, within `max_depth` links: so a common controller and its other
companies are in, and so are the companies a controller's close family controls (key persons
or their family controlling both). A family link between people who control nothing joins
nobody. One Cypher round trip fetches the members, the
shortest path that joined each, their facilities and the guarantees they gave; the sums are
done here in exact decimals:

- direct: the client's own facilities;
- affiliated: the other members' facilities;
- indirect: what members guarantee for borrowers outside the group (a guarantee moves exposure
  to the guarantor; each outside facility counts at most up to its limit, however many members
  guarantee it).

A facility counts at its limit (the committed credit); drawn amounts are reported beside it. A
closed facility (repaid and closed) counts nowhere, nor do the guarantees of it.
Sums are in the reporting currency of the capital base, each facility converted at its rate.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any, Final, LiteralString

from graph.client_group import controlled_from, root_of
from graph.client_links import (
    FACILITY_FIELDS,
    INDEPENDENTLY_APPROVED,
    OPEN_FACILITY,
    facility_from_map,
)
from graph.clients import CLIENT_FIELDS
from graph.control import CONTROL
from graph.db import Db
from graph.limits import CapitalBase, LimitUsage, assess_limits, interdependence_to_assess
from graph.models import Client, ClientKind, Facility, GraphModel, cents_to_decimal
from graph.risk_settings import SETTINGS_COLUMNS, SETTINGS_ID, capital_base_from

MAX_DEPTH: Final = 6

# A link that joins a group, bound to `r`. CASE (OR and AND need not stop early) reads the costly
# conditions only for the links they are about: most links in reach are supply chains.
_JOINS: Final[LiteralString] = (
    "(CASE WHEN type(r) = 'CONTROLS' THEN all(u IN [r] WHERE " + CONTROL + ")"
    " WHEN r.kind IN ['ECONOMIC_DEPENDENCE', 'PROFIT_TRANSFER'] THEN true"
    " WHEN r.kind = 'FAMILY' THEN all(e IN [startNode(r), endNode(r)] WHERE e.kind = 'INDIVIDUAL'"
    " AND EXISTS { MATCH (e)-[u:CONTROLS]->(:Client) WHERE " + CONTROL + " })"
    " ELSE false END)"
)


def _members(depth: LiteralString) -> LiteralString:
    """The members within `depth` links of `c`, each with one shortest path that joined it.
    Asked only for the distinct members, Neo4j walks breadth-first; a shortest path per member
    follows: the work grows with the links in reach, not with the number of paths (a densely
    linked group has millions)."""
    return (
        "OPTIONAL MATCH (c)-[rs:CONTROLS|RELATED_TO*1.." + depth + "]-(m:Client)\n"
        "WHERE m <> c AND all(r IN rs WHERE " + _JOINS + ")\n"
        "WITH DISTINCT c, m\n"
        "OPTIONAL MATCH path = shortestPath((c)-[:CONTROLS|RELATED_TO*1.." + depth + "]-(m))\n"
        "WHERE all(r IN relationships(path) WHERE " + _JOINS + ")\n"
    )


# The capital base the limits are measured against is read in the same statement (one round
# trip); no client, no rows.
_HEAD: Final[LiteralString] = (
    SETTINGS_COLUMNS
    # The group's unified limit (统一授信) is the one its top controller holds.
    + """CALL () {
  MATCH (c:Client {id: $clientId})
  CALL (c) {
"""
    + root_of("c", "top")
    + """  }
  // What the limit covers: the open facilities of its holder and of every client it controls,
  // whatever maxDepth and the other links reach (read only where there is a limit).
  CALL (top) {
    OPTIONAL MATCH """
    + controlled_from("top", "m")
    + """ AND top.unifiedLimitCents IS NOT NULL
    WITH DISTINCT m
    MATCH (m)-[:BORROWS]->(f:Facility) WHERE """
    + OPEN_FACILITY
    + """
    WITH f.currency AS currency, sum(f.limitCents) AS cents
    RETURN collect({currency: currency, cents: cents}) AS unifiedUsed
  }
  RETURN top.id AS unifiedHolderId, top.unifiedLimitCents AS unifiedCents,
         top.unifiedLimitCurrency AS unifiedCurrency, unifiedUsed
}
CALL () {
MATCH (c:Client {id: $clientId})
"""
)

_TAIL: Final[LiteralString] = (
    """WITH c, collect(CASE WHEN m IS NULL THEN null ELSE {member: m, path: path} END) AS joined
WITH [{member: c, path: null}] + joined AS entries
WITH entries, [e IN entries | e.member] AS members
UNWIND entries AS entry
WITH members, entry.member AS m, entry.path AS path
CALL (m) {
  OPTIONAL MATCH (m)-[:BORROWS]->(f:Facility) WHERE """
    + OPEN_FACILITY
    + """
  WITH f ORDER BY f.id
  RETURN collect(f """
    + FACILITY_FIELDS.replace(
        "approvingDepartmentId:",
        "independentApproval: " + INDEPENDENTLY_APPROVED + ",\n  approvingDepartmentId:",
    )
    + """) AS facilities
}
CALL (m, members) {
  OPTIONAL MATCH (m)-[g:GUARANTEES]->(f:Facility)<-[:BORROWS]-(b:Client)
  WHERE NOT b IN members AND """
    + OPEN_FACILITY
    + """
  WITH f, g, b ORDER BY f.id
  RETURN collect(CASE WHEN f IS NULL THEN null ELSE
    {facilityId: f.id, borrowerId: b.id, amountCents: g.amountCents, limitCents: f.limitCents,
     currency: f.currency}
  END) AS guarantees
}
// Every guarantee the member gave, inside the group or out, each facility up to its limit:
// the member's own single-client figure, whatever the depth of the group search.
CALL (m) {
  OPTIONAL MATCH (m)-[g:GUARANTEES]->(f:Facility)
  WHERE NOT EXISTS { (m)-[:BORROWS]->(f) } AND """
    + OPEN_FACILITY
    + """
  WITH f, sum(g.amountCents) AS amount WHERE f IS NOT NULL
  RETURN collect({currency: f.currency,
                  cents: CASE WHEN amount > f.limitCents THEN f.limitCents ELSE amount END})
         AS given
}
RETURN m """
    + CLIENT_FIELDS
    + """ AS member,
  CASE WHEN path IS NULL THEN [] ELSE [r IN relationships(path) | {
    fromId: startNode(r).id, toId: endNode(r).id,
    kind: CASE type(r) WHEN 'CONTROLS' THEN 'CONTROL' ELSE r.kind END, share: r.share
  }] END AS links,
  facilities, guarantees, given
}
RETURN profile, tier1, net, currency, fxCurrencies, fxRates, unifiedHolderId, unifiedCents,
       unifiedCurrency, unifiedUsed, member, links, facilities, guarantees, given
"""
)

# Variable-length bounds cannot be parameters: one prewritten statement per depth.
EXPOSURE_BY_DEPTH: Final[dict[int, LiteralString]] = {
    1: _HEAD + _members("1") + _TAIL,
    2: _HEAD + _members("2") + _TAIL,
    3: _HEAD + _members("3") + _TAIL,
    4: _HEAD + _members("4") + _TAIL,
    5: _HEAD + _members("5") + _TAIL,
    6: _HEAD + _members("6") + _TAIL,
}


class JoinLink(GraphModel):
    from_id: str
    to_id: str
    kind: str  # CONTROL, ECONOMIC_DEPENDENCE, PROFIT_TRANSFER or FAMILY
    share: float | None = None


class GuaranteeOut(GraphModel):
    facility_id: str
    borrower_id: str
    amount: Decimal  # in the facility's currency
    facility_limit: Decimal
    currency: str


class MemberExposure(GraphModel):
    client: Client
    path: list[JoinLink]
    facilities: list[Facility]
    guarantees: list[GuaranteeOut]
    # In the reporting currency (the capital base's), converted facility by facility:
    own: Decimal
    drawn: Decimal
    guaranteed: Decimal  # for borrowers outside the group
    given: Decimal  # every guarantee the member gave, each facility up to its limit


class GrantingDepartment(GraphModel):
    department_id: str
    amount: Decimal
    facility_count: int


class UnapprovedFacility(GraphModel):
    facility: Facility
    reason: str  # NO_APPROVAL or NOT_INDEPENDENT


class CreditExposure(GraphModel):
    client_id: str
    max_depth: int
    members: list[MemberExposure]
    direct: Decimal
    affiliated: Decimal
    indirect: Decimal
    total: Decimal
    drawn: Decimal
    limit_usage: list[LimitUsage]
    granting_departments: list[GrantingDepartment]
    multiple_grantors: bool
    unified_limit: Decimal | None  # in the reporting currency
    unified_limit_holder_id: str | None  # the top controller holding it
    # The open facility limits of the holder and all it controls (null without a limit), and
    # whether they are above it.
    unified_limit_used: Decimal | None
    unified_limit_exceeded: bool
    unapproved_facilities: list[UnapprovedFacility]
    assess_interdependence: bool
    capital_base: CapitalBase


def _member(row: Any, base: CapitalBase) -> tuple[MemberExposure, list[tuple[Facility, bool]]]:
    facilities = [(facility_from_map(f), bool(f["independentApproval"])) for f in row["facilities"]]
    guarantees = [
        GuaranteeOut(
            facility_id=g["facilityId"],
            borrower_id=g["borrowerId"],
            amount=cents_to_decimal(g["amountCents"]),
            facility_limit=cents_to_decimal(g["limitCents"]),
            currency=g["currency"],
        )
        for g in row["guarantees"]
    ]
    base.require_rates([f.currency for f, _ in facilities] + [g["currency"] for g in row["given"]])
    member = MemberExposure(
        client=Client.model_validate(row["member"]),
        path=[JoinLink.model_validate(link) for link in row["links"]],
        facilities=[f for f, _ in facilities],
        guarantees=guarantees,
        own=base.total((f.limit, f.currency) for f, _ in facilities),
        drawn=base.total((f.drawn, f.currency) for f, _ in facilities),
        guaranteed=base.total((g.amount, g.currency) for g in guarantees),
        given=base.total((cents_to_decimal(g["cents"]), g["currency"]) for g in row["given"]),
    )
    return member, facilities


def summarise(client_id: str, max_depth: int, rows: list[Any], base: CapitalBase) -> CreditExposure:
    members: list[MemberExposure] = []
    checked: list[tuple[Facility, bool]] = []
    for row in rows:
        member, facilities = _member(row, base)
        members.append(member)
        checked.extend(facilities)
    first = rows[0]
    unified: Decimal | None = None
    used: Decimal | None = None
    if first["unifiedCents"] is not None:
        unified = base.to_reporting(
            cents_to_decimal(first["unifiedCents"]), first["unifiedCurrency"] or base.currency
        )
        used = base.total(
            (cents_to_decimal(u["cents"]), u["currency"]) for u in first["unifiedUsed"]
        )
    me = next(m for m in members if m.client.id == client_id)
    direct = me.own
    affiliated = sum((m.own for m in members if m is not me), Decimal("0.00"))
    # Several members may guarantee one outside facility: it counts once, up to its limit.
    per_facility: dict[str, Decimal] = defaultdict(lambda: Decimal("0.00"))
    limits: dict[str, tuple[Decimal, str]] = {}
    for m in members:
        for g in m.guarantees:
            per_facility[g.facility_id] += g.amount
            limits[g.facility_id] = (g.facility_limit, g.currency)
    indirect = base.total(
        ((min(amount, limits[fid][0]), limits[fid][1]) for fid, amount in per_facility.items()),
    )
    total = direct + affiliated + indirect
    grantors: dict[str, list[Facility]] = defaultdict(list)
    for facility, _ in checked:
        if facility.granting_department_id:
            grantors[facility.granting_department_id].append(facility)
    # The client's single limit follows its own kind, the group's limit all its members: which
    # member is asked does not change the group's rule, and a bank among corporates does not
    # lift their group to the interbank limit.
    own_loans = base.total((f.limit, f.currency) for f in me.facilities if f.type.value == "LOAN")
    return CreditExposure(
        client_id=client_id,
        max_depth=max_depth,
        members=members,
        direct=direct,
        affiliated=affiliated,
        indirect=indirect,
        total=total,
        drawn=sum((m.drawn for m in members), Decimal("0.00")),
        limit_usage=assess_limits(
            base,
            client_amount=direct + me.given,
            client_loans=own_loans,
            group_amount=total,
            group_size=len(members),
            client_interbank=me.client.kind == ClientKind.INTERBANK,
            group_interbank=all(m.client.kind == ClientKind.INTERBANK for m in members),
        ),
        granting_departments=[
            GrantingDepartment(
                department_id=dept,
                amount=base.total((f.limit, f.currency) for f in facs),
                facility_count=len(facs),
            )
            for dept, facs in sorted(grantors.items())
        ],
        multiple_grantors=len(grantors) > 1 and unified is None,
        unified_limit=unified,
        unified_limit_holder_id=first["unifiedHolderId"] if unified is not None else None,
        unified_limit_used=used,
        unified_limit_exceeded=unified is not None and used is not None and used > unified,
        unapproved_facilities=[
            UnapprovedFacility(
                facility=f,
                reason="NO_APPROVAL" if f.approving_department_id is None else "NOT_INDEPENDENT",
            )
            for f, independent in checked
            if not independent
        ],
        assess_interdependence=interdependence_to_assess(base, direct + me.given),
        capital_base=base,
    )


async def get_credit_exposure(db: Db, client_id: str, max_depth: int) -> CreditExposure | None:
    """None for an unknown client; limits measured against the stored capital base."""
    records = await db.read(
        EXPOSURE_BY_DEPTH[max_depth], {"clientId": client_id, "settingsId": SETTINGS_ID}
    )
    if not records:
        return None
    return summarise(client_id, max_depth, list(records), capital_base_from(records[0]))
