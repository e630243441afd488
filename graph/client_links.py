"""What hangs off clients: managers, holdings, facilities and links to other clients.

Each function takes many client ids at once (DataLoaders batch them), so a page of clients costs
one round trip per kind of link, whatever the page size. Per-client lists are capped by `cap`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any, Final, LiteralString

from graph.control import HOLDER_CONTROLS
from graph.db import Db
from graph.departments import dependent
from graph.models import (
    ClientLink,
    ClientLinkKind,
    Facility,
    Holding,
    LinkDirection,
    ManagerAssignment,
    cents_to_decimal,
)

ASSIGNMENTS_BY_CLIENT: Final[LiteralString] = """
UNWIND $ids AS id
MATCH (m:Manager)-[r:MANAGES]->(c:Client {id: id})
RETURN c.id AS clientId, m.id AS managerId, r.role AS role, r.since AS since
ORDER BY clientId, r.role, managerId
"""

HOLDINGS_BY_CLIENT: Final[LiteralString] = """
UNWIND $ids AS id
MATCH (c:Client {id: id})-[r:HOLDS]->(p:Product)
WHERE r.active OR $includeClosed
WITH c, p, r ORDER BY r.balanceCents DESC, p.id
WITH c, collect({productId: p.id, balanceCents: r.balanceCents, since: r.since,
                 active: r.active, consented: coalesce(r.consented, true)})[..$cap] AS rows
UNWIND rows AS row
RETURN c.id AS clientId, row
"""

# The status of the facility bound to `f` (one imported before facilities had a status is ACTIVE).
FACILITY_STATUS: Final[LiteralString] = "coalesce(f.status, 'ACTIVE')"
# A facility that still counts as credit: not closed.
OPEN_FACILITY: Final[LiteralString] = FACILITY_STATUS + " <> 'CLOSED'"
# Whether the facility bound to `f` has an approval independent of its granting department
# (审贷分离): what creditExposure reports and drawing on it requires.
# Its own variables are prefixed so an `a` or `g` of the enclosing query is not captured.
INDEPENDENTLY_APPROVED: Final[LiteralString] = (
    "EXISTS { MATCH (ia_a:Department)-[:APPROVED]->(f)<-[:GRANTED]-(ia_g:Department) WHERE NOT "
    + dependent("ia_a", "ia_g")
    + " }"
)
# A client's facilities as lists show them: open ones first, then by size.
FACILITY_ORDER: Final[LiteralString] = FACILITY_STATUS + " = 'CLOSED', f.limitCents DESC, f.id"

# A facility bound to `f` as a map; its own variables are prefixed, as above.
FACILITY_FIELDS: Final[LiteralString] = (
    """{
  .id, .type, .limitCents, .drawnCents, .currency, status: """
    + FACILITY_STATUS
    + """,
  borrowerId: COLLECT { MATCH (ff_b:Client)-[:BORROWS]->(f) RETURN ff_b.id }[0],
  grantingDepartmentId: COLLECT { MATCH (ff_d:Department)-[:GRANTED]->(f) RETURN ff_d.id }[0],
  grantedAt: COLLECT { MATCH (:Department)-[ff_g:GRANTED]->(f) RETURN ff_g.at }[0],
  closedOn: f.closedOn,
  approvingDepartmentId:
    COLLECT { MATCH (ff_d:Department)-[:APPROVED]->(f) RETURN ff_d.id ORDER BY ff_d.id }[0]
}"""
)

FACILITIES_BY_CLIENT: Final[LiteralString] = (
    """
UNWIND $ids AS id
MATCH (c:Client {id: id})-[:BORROWS]->(f:Facility)
WITH c, f ORDER BY """
    + FACILITY_ORDER
    + """
WITH c, collect(f)[..$cap] AS facilities
UNWIND facilities AS f
RETURN c.id AS clientId, f """
    + FACILITY_FIELDS
    + " AS facility"
)

# Every link between two clients, seen from `c`, in one shape. A guarantee links the guarantor to
# the borrower of the facility it guarantees; a control link is PARENT/SUBSIDIARY when its
# holder controls the other client (more than 50%, another basis, or with the stakes of the
# clients it controls directly).
# Expects `c` in scope; yields `links` (capped at $cap, ordered by kind then client) and `total`.
# The links are collected inside their own subquery so a client with none still yields a row.
# A guarantee of a closed facility is released: no longer a link between the clients.
LINKS_OF_CLIENT: Final[LiteralString] = (
    """
CALL (c) {
CALL (c) {
  // (Filtered here too: whether the holder controls is worth reading only for links asked.)
  MATCH (c)-[u:CONTROLS]->(o:Client)
  WHERE ($kinds IS NULL OR 'CONTROL' IN $kinds) AND $direction <> 'INCOMING'
  WITH o, u, """
    + HOLDER_CONTROLS
    + """ AS controls
  RETURN {otherId: o.id, kind: 'CONTROL', direction: 'OUTGOING',
          role: CASE WHEN controls THEN 'PARENT' ELSE 'SHAREHOLDER' END,
          otherRole: CASE WHEN controls THEN 'SUBSIDIARY' ELSE 'INVESTEE' END,
          share: u.share, basis: u.basis} AS link
  UNION ALL
  MATCH (c)<-[u:CONTROLS]-(o:Client)
  WHERE ($kinds IS NULL OR 'CONTROL' IN $kinds) AND $direction <> 'OUTGOING'
  WITH o, u, """
    + HOLDER_CONTROLS
    + """ AS controls
  RETURN {otherId: o.id, kind: 'CONTROL', direction: 'INCOMING',
          role: CASE WHEN controls THEN 'SUBSIDIARY' ELSE 'INVESTEE' END,
          otherRole: CASE WHEN controls THEN 'PARENT' ELSE 'SHAREHOLDER' END,
          share: u.share, basis: u.basis} AS link
  UNION ALL
  MATCH (c)-[r:GUARANTEES]->(f:Facility)<-[:BORROWS]-(o:Client) WHERE o <> c AND """
    + OPEN_FACILITY
    + """
  RETURN {otherId: o.id, kind: 'GUARANTEE', direction: 'OUTGOING', role: 'GUARANTOR',
          otherRole: 'GUARANTEED', amountCents: r.amountCents, facilityId: f.id} AS link
  UNION ALL
  MATCH (c)-[:BORROWS]->(f:Facility)<-[r:GUARANTEES]-(o:Client) WHERE o <> c AND """
    + OPEN_FACILITY
    + """
  RETURN {otherId: o.id, kind: 'GUARANTEE', direction: 'INCOMING', role: 'GUARANTEED',
          otherRole: 'GUARANTOR', amountCents: r.amountCents, facilityId: f.id} AS link
  UNION ALL
  MATCH (c)-[r:RELATED_TO]->(o:Client)
  RETURN {otherId: o.id, kind: r.kind, direction: 'OUTGOING', role: r.role,
          otherRole: r.reciprocalRole} AS link
  UNION ALL
  MATCH (c)<-[r:RELATED_TO]-(o:Client)
  RETURN {otherId: o.id, kind: r.kind, direction: 'INCOMING', role: r.reciprocalRole,
          otherRole: r.role} AS link
}
WITH link
WHERE ($kinds IS NULL OR link.kind IN $kinds)
  AND ($direction = 'BOTH' OR link.direction = $direction)
WITH link ORDER BY link.kind, link.otherId, link.direction, link.facilityId
RETURN collect(link) AS allLinks
}
WITH c, allLinks[..$cap] AS links, size(allLinks) AS total
"""
)

LINKS_BY_CLIENT: Final[LiteralString] = (
    "UNWIND $ids AS id MATCH (c:Client {id: id}) "
    + LINKS_OF_CLIENT
    + " RETURN c.id AS clientId, links, total"
)


def _grouped(pairs: list[tuple[str, Any]]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = defaultdict(list)
    for key, value in pairs:
        out[key].append(value)
    return out


async def get_assignments(db: Db, client_ids: Sequence[str]) -> dict[str, list[ManagerAssignment]]:
    records = await db.read(ASSIGNMENTS_BY_CLIENT, {"ids": list(client_ids)})
    return _grouped([(r["clientId"], ManagerAssignment.model_validate(dict(r))) for r in records])


async def get_holdings(
    db: Db, client_ids: Sequence[str], cap: int, include_closed: bool = False
) -> dict[str, list[Holding]]:
    records = await db.read(
        HOLDINGS_BY_CLIENT,
        {"ids": list(client_ids), "cap": cap, "includeClosed": include_closed},
    )
    return _grouped(
        [
            (
                r["clientId"],
                Holding(
                    client_id=r["clientId"],
                    product_id=r["row"]["productId"],
                    balance=cents_to_decimal(r["row"]["balanceCents"]),
                    since=r["row"]["since"],
                    active=r["row"]["active"],
                    consented=r["row"]["consented"],
                ),
            )
            for r in records
        ]
    )


def facility_from_map(row: dict[str, Any]) -> Facility:
    return Facility(
        id=row["id"],
        type=row["type"],
        limit=cents_to_decimal(row["limitCents"]),
        drawn=cents_to_decimal(row["drawnCents"]),
        currency=row["currency"],
        status=row["status"],
        borrower_id=row["borrowerId"],
        granting_department_id=row["grantingDepartmentId"],
        approving_department_id=row["approvingDepartmentId"],
        granted_at=row["grantedAt"],
        closed_on=row.get("closedOn"),
    )


async def get_facilities(db: Db, client_ids: Sequence[str], cap: int) -> dict[str, list[Facility]]:
    records = await db.read(FACILITIES_BY_CLIENT, {"ids": list(client_ids), "cap": cap})
    return _grouped([(r["clientId"], facility_from_map(r["facility"])) for r in records])


def link_from_map(client_id: str, row: dict[str, Any]) -> ClientLink:
    amount = row.get("amountCents")
    return ClientLink(
        client_id=client_id,
        other_id=row["otherId"],
        kind=row["kind"],
        direction=row["direction"],
        role=row["role"],
        other_role=row["otherRole"],
        share=row.get("share"),
        basis=row.get("basis"),
        amount=cents_to_decimal(amount) if amount is not None else None,
        facility_id=row.get("facilityId"),
    )


async def get_client_links(
    db: Db,
    client_ids: Sequence[str],
    kinds: Sequence[ClientLinkKind] | None,
    direction: LinkDirection,
    cap: int,
) -> dict[str, tuple[list[ClientLink], int]]:
    """Links per client, capped, with the uncapped total so callers can say what was left out."""
    records = await db.read(
        LINKS_BY_CLIENT,
        {
            "ids": list(client_ids),
            "kinds": [k.value for k in kinds] if kinds else None,
            "direction": direction.value,
            "cap": cap,
        },
    )
    return {
        r["clientId"]: ([link_from_map(r["clientId"], row) for row in r["links"]], r["total"])
        for r in records
    }
