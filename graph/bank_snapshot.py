"""Read the bank back in the shape it is loaded from (`BankRows` keys), section by section.

The exporter reads whole sections (`SNAPSHOT_ALL`, in a stable order); the importer reads the
rows an import batch names (`SNAPSHOT_KEYS`, by `$keys`) to tell created, updated and unchanged
rows apart. Both share one projection per section, so what is exported is exactly what the
importer compares against.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final, LiteralString

from neo4j import ManagedTransaction, Transaction

from graph.client_links import FACILITY_STATUS

DEPARTMENT: Final[LiteralString] = (
    "RETURN d.id AS id, d.name AS name, d.function AS function, d.model AS model"
)


def _link(rel: LiteralString, note: LiteralString) -> LiteralString:
    return (
        "MATCH (a:Department {id: key.fromId})-[r:" + rel + "]->(b:Department {id: key.toId}) "
        "RETURN a.id AS fromId, b.id AS toId, toString(r.since) AS since" + note
    )


def _all_links(rel: LiteralString, note: LiteralString) -> LiteralString:
    return (
        "MATCH (a:Department)-[r:" + rel + "]->(b:Department) "
        "RETURN a.id AS fromId, b.id AS toId, toString(r.since) AS since" + note + " "
        "ORDER BY fromId, toId"
    )


MANAGER: Final[LiteralString] = """
WITH m,
     COLLECT { MATCH (m)-[r:MEMBER_OF]->(d:Department) RETURN [d.id, toString(r.since)] }[0]
       AS member,
     COLLECT { MATCH (m)-[:REPORTS_TO]->(b:Manager) RETURN b.id }[0] AS boss
RETURN m.id AS id, m.name AS name, m.level AS level, m.education AS education, m.title AS title,
       m.creditYears AS creditYears, member[0] AS departmentId, boss AS reportsToId,
       member[1] AS since
"""
CLIENT: Final[LiteralString] = """
RETURN c.id AS id, c.name AS name, c.kind AS kind, c.segment AS segment, c.status AS status,
       c.grade AS grade, c.riskRating AS riskRating, c.industry AS industry, c.region AS region
"""
MANAGES: Final[LiteralString] = """
RETURN m.id AS managerId, c.id AS clientId, r.role AS role, toString(r.since) AS since
"""
PRODUCT: Final[LiteralString] = """
RETURN p.id AS id, p.name AS name, p.category AS category, p.audience AS audience,
       p.riskLevel AS riskLevel,
       COLLECT { MATCH (p)<-[:OFFERS]-(d:Department) RETURN d.id }[0] AS departmentId
"""
HOLDING: Final[LiteralString] = """
RETURN c.id AS clientId, p.id AS productId, r.balanceCents AS balanceCents,
       toString(r.since) AS since, r.active AS active
"""
CROSS_SELL: Final[LiteralString] = """
RETURN a.id AS fromId, b.id AS toId, r.support AS support, r.confidence AS confidence,
       r.lift AS lift, coalesce(r.pinned, false) AS pinned
"""
CONTROL: Final[LiteralString] = """
RETURN a.id AS fromId, b.id AS toId, r.share AS share, r.basis AS basis
"""
RELATED: Final[LiteralString] = """
RETURN a.id AS fromId, b.id AS toId, r.kind AS kind, r.role AS role,
       r.reciprocalRole AS reciprocalRole
"""
FACILITY: Final[LiteralString] = (
    """
WITH f,
     COLLECT { MATCH (f)<-[:BORROWS]-(c:Client) RETURN c.id }[0] AS borrowerId,
     COLLECT { MATCH (f)<-[g:GRANTED]-(d:Department) RETURN [d.id, toString(g.at)] }[0] AS granted,
     COLLECT { MATCH (f)<-[:APPROVED]-(d:Department) RETURN d.id }[0] AS approverId
RETURN f.id AS id, borrowerId, f.type AS type, f.limitCents AS limitCents,
       f.drawnCents AS drawnCents, f.currency AS currency, granted[0] AS grantingDepartmentId,
       approverId AS approvingDepartmentId, granted[1] AS grantedAt,
       """
    + FACILITY_STATUS
    + """ AS status
"""
)
GUARANTEE: Final[LiteralString] = """
RETURN g.id AS guarantorId, f.id AS facilityId, r.amountCents AS amountCents
"""

# section -> (every row in a stable order, the rows whose identity is in $keys)
SNAPSHOTS: Final[dict[str, tuple[LiteralString, LiteralString]]] = {
    "departments": (
        "MATCH (d:Department) " + DEPARTMENT + " ORDER BY id",
        "UNWIND $keys AS key MATCH (d:Department {id: key.id}) " + DEPARTMENT,
    ),
    "direct_links": (
        _all_links("DIRECT_REPORT", ""),
        "UNWIND $keys AS key " + _link("DIRECT_REPORT", ""),
    ),
    "linear_links": (
        _all_links("LINEAR", ", r.purpose AS note"),
        "UNWIND $keys AS key " + _link("LINEAR", ", r.purpose AS note"),
    ),
    "check_links": (
        _all_links("CHECKS", ", r.scope AS note"),
        "UNWIND $keys AS key " + _link("CHECKS", ", r.scope AS note"),
    ),
    "managers": (
        "MATCH (m:Manager) " + MANAGER + " ORDER BY id",
        "UNWIND $keys AS key MATCH (m:Manager {id: key.id}) " + MANAGER,
    ),
    "clients": (
        "MATCH (c:Client) " + CLIENT + " ORDER BY id",
        "UNWIND $keys AS key MATCH (c:Client {id: key.id}) " + CLIENT,
    ),
    "manages": (
        "MATCH (m:Manager)-[r:MANAGES]->(c:Client) " + MANAGES + " ORDER BY managerId, clientId",
        "UNWIND $keys AS key "
        "MATCH (m:Manager {id: key.managerId})-[r:MANAGES]->(c:Client {id: key.clientId}) "
        + MANAGES,
    ),
    "products": (
        "MATCH (p:Product) " + PRODUCT + " ORDER BY id",
        "UNWIND $keys AS key MATCH (p:Product {id: key.id}) " + PRODUCT,
    ),
    "holdings": (
        "MATCH (c:Client)-[r:HOLDS]->(p:Product) " + HOLDING + " ORDER BY clientId, productId",
        "UNWIND $keys AS key "
        "MATCH (c:Client {id: key.clientId})-[r:HOLDS]->(p:Product {id: key.productId}) " + HOLDING,
    ),
    "cross_sells": (
        "MATCH (a:Product)-[r:CROSS_SELLS_TO]->(b:Product) "
        + CROSS_SELL
        + " ORDER BY fromId, toId",
        "UNWIND $keys AS key "
        "MATCH (a:Product {id: key.fromId})-[r:CROSS_SELLS_TO]->(b:Product {id: key.toId}) "
        + CROSS_SELL,
    ),
    "controls": (
        "MATCH (a:Client)-[r:CONTROLS]->(b:Client) " + CONTROL + " ORDER BY fromId, toId",
        "UNWIND $keys AS key "
        "MATCH (a:Client {id: key.fromId})-[r:CONTROLS]->(b:Client {id: key.toId}) " + CONTROL,
    ),
    "related": (
        "MATCH (a:Client)-[r:RELATED_TO]->(b:Client) " + RELATED + " ORDER BY fromId, toId, kind",
        "UNWIND $keys AS key "
        "MATCH (a:Client {id: key.fromId})-[r:RELATED_TO {kind: key.kind}]->"
        "(b:Client {id: key.toId}) " + RELATED,
    ),
    "facilities": (
        "MATCH (f:Facility) " + FACILITY + " ORDER BY id",
        "UNWIND $keys AS key MATCH (f:Facility {id: key.id}) " + FACILITY,
    ),
    "guarantees": (
        "MATCH (g:Client)-[r:GUARANTEES]->(f:Facility) "
        + GUARANTEE
        + " ORDER BY guarantorId, facilityId",
        "UNWIND $keys AS key "
        "MATCH (g:Client {id: key.guarantorId})-[r:GUARANTEES]->(f:Facility {id: key.facilityId}) "
        + GUARANTEE,
    ),
}


def stream_section(tx: Transaction, section: str) -> Iterator[dict[str, Any]]:
    """Every row of a section, streamed (a million rows never sit in memory at once)."""
    result = tx.run(SNAPSHOTS[section][0])
    for record in result:
        yield record.data()


def read_keyed(
    tx: ManagedTransaction, section: str, keys: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The current rows of a section for these identities (absent ones are simply missing)."""
    return [record.data() for record in tx.run(SNAPSHOTS[section][1], keys=keys)]
