"""Read the bank back in the shape it is loaded from (`BankRows` keys), section by section.

The exporter reads whole sections in a stable order; the importer reads the rows an import batch
names (by `$keys`) to tell created, updated and unchanged rows apart. Both share one projection
per section, so what is exported is exactly what the importer compares against.

A whole section is read in chunks, each a transaction of its own: the nodes that anchor a chunk
(a run of ids, found through the id index) and the rows they start. A section of millions of
rows, sorted in one query, outgrew a transaction's memory and time limits; a chunk stays small,
and as every section is ordered by its anchor's id first, the chunks in id order give the same
order as one sorted query.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final, LiteralString

from neo4j import ManagedTransaction, Session

from graph.client_links import FACILITY_STATUS

DEPARTMENT: Final[LiteralString] = (
    "RETURN d.id AS id, d.name AS name, d.function AS function, d.model AS model,"
    " coalesce(d.archived, false) AS archived"
)


def _link(rel: LiteralString, note: LiteralString) -> LiteralString:
    return (
        "MATCH (a:Department {id: key.fromId})-[r:" + rel + "]->(b:Department {id: key.toId}) "
        "RETURN a.id AS fromId, b.id AS toId, toString(r.since) AS since" + note
    )


def _links_from(rel: LiteralString, note: LiteralString) -> LiteralString:
    return (
        "MATCH (a)-[r:" + rel + "]->(b:Department) "
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
       c.grade AS grade, c.riskRating AS riskRating, c.industry AS industry, c.region AS region,
       c.unifiedLimitCents AS unifiedLimitCents, c.unifiedLimitCurrency AS unifiedLimitCurrency
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
       toString(r.since) AS since, r.active AS active,
       coalesce(r.consented, true) AS consented
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
    + """ AS status, toString(f.closedOn) AS closedOn, f.closeReason AS closeReason
"""
)
GUARANTEE: Final[LiteralString] = """
RETURN g.id AS guarantorId, f.id AS facilityId, r.amountCents AS amountCents
"""


@dataclass(frozen=True)
class Snapshot:
    label: LiteralString  # of the anchor nodes, each chunk a run of their ids
    # The rows the anchors in ($after, $upto] start, and those after $after, in order.
    rows: tuple[LiteralString, LiteralString]
    keyed: LiteralString  # the rows whose identity is in $keys
    anchors_per_chunk: int = 10_000

    def __post_init__(self) -> None:
        if self.anchors_per_chunk < 1:
            raise ValueError("anchors_per_chunk must be at least 1")


def _anchored(
    anchor: LiteralString, label: LiteralString, rows: LiteralString
) -> tuple[LiteralString, LiteralString]:
    # Two statements rather than `$upto IS NULL OR ...`, which the index seek could not bound.
    start: LiteralString = "MATCH (" + anchor + ":" + label + ") WHERE " + anchor + ".id > $after"
    return start + " AND " + anchor + ".id <= $upto " + rows, start + " " + rows


def _chunk_end(label: LiteralString) -> LiteralString:
    # The id index gives the anchors in order; null once fewer than a chunk are left.
    return (
        "MATCH (x:" + label + ") WHERE x.id > $after "
        "WITH x ORDER BY x.id SKIP $skip LIMIT 1 RETURN x.id AS upto"
    )


SNAPSHOTS: Final[dict[str, Snapshot]] = {
    "departments": Snapshot(
        "Department",
        _anchored("d", "Department", DEPARTMENT + " ORDER BY id"),
        "UNWIND $keys AS key MATCH (d:Department {id: key.id}) " + DEPARTMENT,
    ),
    "direct_links": Snapshot(
        "Department",
        _anchored("a", "Department", _links_from("DIRECT_REPORT", "")),
        "UNWIND $keys AS key " + _link("DIRECT_REPORT", ""),
    ),
    "linear_links": Snapshot(
        "Department",
        _anchored("a", "Department", _links_from("LINEAR", ", r.purpose AS note")),
        "UNWIND $keys AS key " + _link("LINEAR", ", r.purpose AS note"),
    ),
    "check_links": Snapshot(
        "Department",
        _anchored("a", "Department", _links_from("CHECKS", ", r.scope AS note")),
        "UNWIND $keys AS key " + _link("CHECKS", ", r.scope AS note"),
    ),
    "managers": Snapshot(
        "Manager",
        _anchored("m", "Manager", MANAGER + " ORDER BY id"),
        "UNWIND $keys AS key MATCH (m:Manager {id: key.id}) " + MANAGER,
    ),
    "clients": Snapshot(
        "Client",
        _anchored("c", "Client", CLIENT + " ORDER BY id"),
        "UNWIND $keys AS key MATCH (c:Client {id: key.id}) " + CLIENT,
    ),
    "manages": Snapshot(
        "Manager",
        _anchored(
            "m", "Manager",
            "MATCH (m)-[r:MANAGES]->(c:Client) " + MANAGES + " ORDER BY managerId, clientId",
        ),
        "UNWIND $keys AS key "
        "MATCH (m:Manager {id: key.managerId})-[r:MANAGES]->(c:Client {id: key.clientId}) "
        + MANAGES,
        anchors_per_chunk=100,  # a manager has a book of hundreds of clients
    ),
    "products": Snapshot(
        "Product",
        _anchored("p", "Product", PRODUCT + " ORDER BY id"),
        "UNWIND $keys AS key MATCH (p:Product {id: key.id}) " + PRODUCT,
    ),
    "holdings": Snapshot(
        "Client",
        _anchored(
            "c", "Client",
            "MATCH (c)-[r:HOLDS]->(p:Product) " + HOLDING + " ORDER BY clientId, productId",
        ),
        "UNWIND $keys AS key "
        "MATCH (c:Client {id: key.clientId})-[r:HOLDS]->(p:Product {id: key.productId}) " + HOLDING,
    ),
    "cross_sells": Snapshot(
        "Product",
        _anchored(
            "a", "Product",
            "MATCH (a)-[r:CROSS_SELLS_TO]->(b:Product) " + CROSS_SELL + " ORDER BY fromId, toId",
        ),
        "UNWIND $keys AS key "
        "MATCH (a:Product {id: key.fromId})-[r:CROSS_SELLS_TO]->(b:Product {id: key.toId}) "
        + CROSS_SELL,
    ),
    "controls": Snapshot(
        "Client",
        _anchored(
            "a", "Client",
            "MATCH (a)-[r:CONTROLS]->(b:Client) " + CONTROL + " ORDER BY fromId, toId",
        ),
        "UNWIND $keys AS key "
        "MATCH (a:Client {id: key.fromId})-[r:CONTROLS]->(b:Client {id: key.toId}) " + CONTROL,
    ),
    "related": Snapshot(
        "Client",
        _anchored(
            "a", "Client",
            "MATCH (a)-[r:RELATED_TO]->(b:Client) " + RELATED + " ORDER BY fromId, toId, kind",
        ),
        "UNWIND $keys AS key "
        "MATCH (a:Client {id: key.fromId})-[r:RELATED_TO {kind: key.kind}]->"
        "(b:Client {id: key.toId}) " + RELATED,
    ),
    "facilities": Snapshot(
        "Facility",
        _anchored("f", "Facility", FACILITY + " ORDER BY id"),
        "UNWIND $keys AS key MATCH (f:Facility {id: key.id}) " + FACILITY,
    ),
    "guarantees": Snapshot(
        "Client",
        _anchored(
            "g", "Client",
            "MATCH (g)-[r:GUARANTEES]->(f:Facility) " + GUARANTEE
            + " ORDER BY guarantorId, facilityId",
        ),
        "UNWIND $keys AS key "
        "MATCH (g:Client {id: key.guarantorId})-[r:GUARANTEES]->(f:Facility {id: key.facilityId}) "
        + GUARANTEE,
    ),
}  # fmt: skip


CHUNK_END: Final[dict[str, LiteralString]] = {
    snapshot.label: _chunk_end(snapshot.label) for snapshot in SNAPSHOTS.values()
}


def _chunk_upto(tx: ManagedTransaction, label: str, after: str, skip: int) -> str | None:
    record = tx.run(CHUNK_END[label], after=after, skip=skip).single()
    return None if record is None else str(record["upto"])


def _chunk(
    tx: ManagedTransaction, query: LiteralString, after: str, upto: str | None
) -> list[dict[str, Any]]:
    return [record.data() for record in tx.run(query, after=after, upto=upto)]


def stream_section(session: Session, section: str) -> Iterator[dict[str, Any]]:
    """Every row of a section in its stable order, a chunk of anchors at a time (a million rows
    never sit in memory at once, in Neo4j or here)."""
    snapshot = SNAPSHOTS[section]
    bounded, rest = snapshot.rows
    after = ""  # below every id
    while True:
        upto = session.execute_read(
            _chunk_upto, snapshot.label, after, snapshot.anchors_per_chunk - 1
        )
        yield from session.execute_read(_chunk, rest if upto is None else bounded, after, upto)
        if upto is None:
            return
        after = upto


def read_keyed(
    tx: ManagedTransaction, section: str, keys: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The current rows of a section for these identities (absent ones are simply missing)."""
    return [record.data() for record in tx.run(SNAPSHOTS[section].keyed, keys=keys)]
