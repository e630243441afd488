"""Write a `BankRows` into Neo4j: batched `UNWIND` upserts keyed by `id`, idempotent on rerun."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Final, LiteralString

from neo4j import Driver, ManagedTransaction

from graph.bank_rows import BankRows

LOAD_DEPARTMENTS: Final[LiteralString] = """
UNWIND $rows AS row
MERGE (d:Department {id: row.id})
ON CREATE SET d.version = 0, d.archived = coalesce(row.archived, false), d.createdAt = datetime()
SET d.name = row.name, d.function = row.function, d.model = row.model
"""

LOAD_DIRECT_LINKS: Final[LiteralString] = """
UNWIND $rows AS row
MATCH (child:Department {id: row.fromId}), (parent:Department {id: row.toId})
MERGE (child)-[r:DIRECT_REPORT]->(parent)
SET r.since = date(row.since)
"""

LOAD_LINEAR_LINKS: Final[LiteralString] = """
UNWIND $rows AS row
MATCH (a:Department {id: row.fromId}), (b:Department {id: row.toId})
MERGE (a)-[r:LINEAR]->(b)
SET r.since = date(row.since), r.purpose = row.note
"""

LOAD_CHECK_LINKS: Final[LiteralString] = """
UNWIND $rows AS row
MATCH (checker:Department {id: row.fromId}), (checked:Department {id: row.toId})
MERGE (checker)-[r:CHECKS]->(checked)
SET r.since = date(row.since), r.scope = row.note
"""

LOAD_MANAGERS: Final[LiteralString] = """
UNWIND $rows AS row
MERGE (m:Manager {id: row.id})
ON CREATE SET m.version = 0, m.active = true
SET m.name = row.name, m.level = row.level, m.education = row.education, m.title = row.title,
    m.creditYears = row.creditYears
WITH m, row
OPTIONAL MATCH (m)-[moved:MEMBER_OF]->(other:Department) WHERE other.id <> row.departmentId
DELETE moved
WITH DISTINCT m, row
MATCH (d:Department {id: row.departmentId})
MERGE (m)-[r:MEMBER_OF]->(d)
SET r.since = date(row.since)
"""

LOAD_REPORTING_LINES: Final[LiteralString] = """
UNWIND $rows AS row
MATCH (m:Manager {id: row.id})
OPTIONAL MATCH (m)-[old:REPORTS_TO]->(b:Manager)
  WHERE row.reportsToId IS NULL OR b.id <> row.reportsToId
DELETE old
WITH DISTINCT m, row WHERE row.reportsToId IS NOT NULL
MATCH (boss:Manager {id: row.reportsToId})
MERGE (m)-[:REPORTS_TO]->(boss)
"""

LOAD_CLIENTS: Final[LiteralString] = """
UNWIND $rows AS row
MERGE (c:Client {id: row.id})
ON CREATE SET c.version = 0
SET c.name = row.name, c.kind = row.kind, c.segment = row.segment, c.status = row.status,
    c.grade = row.grade, c.riskRating = row.riskRating, c.industry = row.industry,
    c.region = row.region,
    c.unifiedLimitCents = coalesce(row.unifiedLimitCents, c.unifiedLimitCents),
    c.unifiedLimitCurrency = coalesce(row.unifiedLimitCurrency, c.unifiedLimitCurrency)
"""

LOAD_MANAGES: Final[LiteralString] = """
UNWIND $rows AS row
MATCH (m:Manager {id: row.managerId}), (c:Client {id: row.clientId})
MERGE (m)-[r:MANAGES]->(c)
SET r.since = date(row.since), r.role = row.role
"""

LOAD_PRODUCTS: Final[LiteralString] = """
UNWIND $rows AS row
MERGE (p:Product {id: row.id})
SET p.name = row.name, p.category = row.category, p.audience = row.audience,
    p.riskLevel = row.riskLevel
WITH p, row
OPTIONAL MATCH (p)<-[moved:OFFERS]-(other:Department) WHERE other.id <> row.departmentId
DELETE moved
WITH DISTINCT p, row
MATCH (d:Department {id: row.departmentId})
MERGE (d)-[:OFFERS]->(p)
"""

LOAD_HOLDINGS: Final[LiteralString] = """
UNWIND $rows AS row
MATCH (c:Client {id: row.clientId}), (p:Product {id: row.productId})
MERGE (c)-[r:HOLDS]->(p)
SET r.balanceCents = row.balanceCents, r.since = date(row.since), r.active = row.active,
    r.consented = coalesce(row.consented, r.consented, true)
"""

LOAD_CROSS_SELLS: Final[LiteralString] = """
UNWIND $rows AS row
MATCH (a:Product {id: row.fromId}), (b:Product {id: row.toId})
MERGE (a)-[r:CROSS_SELLS_TO]->(b)
SET r.support = row.support, r.confidence = row.confidence, r.lift = row.lift,
    r.pinned = row.pinned
"""

LOAD_CONTROLS: Final[LiteralString] = """
UNWIND $rows AS row
MATCH (a:Client {id: row.fromId}), (b:Client {id: row.toId})
MERGE (a)-[r:CONTROLS]->(b)
SET r.share = row.share, r.basis = row.basis
"""

LOAD_RELATED: Final[LiteralString] = """
UNWIND $rows AS row
MATCH (a:Client {id: row.fromId}), (b:Client {id: row.toId})
MERGE (a)-[r:RELATED_TO {kind: row.kind}]->(b)
SET r.role = row.role, r.reciprocalRole = row.reciprocalRole
"""

LOAD_FACILITIES: Final[LiteralString] = """
UNWIND $rows AS row
MATCH (borrower:Client {id: row.borrowerId}), (granter:Department {id: row.grantingDepartmentId})
MERGE (f:Facility {id: row.id})
SET f.type = row.type, f.limitCents = row.limitCents, f.drawnCents = row.drawnCents,
    f.currency = row.currency, f.status = coalesce(row.status, f.status, 'ACTIVE'),
    // reopened: when and why it was closed no longer apply
    f.closedOn = CASE WHEN coalesce(row.status, f.status) = 'CLOSED'
                      THEN coalesce(date(row.closedOn), f.closedOn) END,
    f.closeReason = CASE WHEN coalesce(row.status, f.status) = 'CLOSED'
                         THEN coalesce(row.closeReason, f.closeReason) END
WITH f, row, borrower, granter
// A row describes the whole facility: links to anyone else are replaced.
OPTIONAL MATCH (f)<-[stale:BORROWS|GRANTED|APPROVED]-(n)
  WHERE (type(stale) = 'BORROWS' AND n.id <> row.borrowerId)
     OR (type(stale) = 'GRANTED' AND n.id <> row.grantingDepartmentId)
     OR (type(stale) = 'APPROVED'
         AND (row.approvingDepartmentId IS NULL OR n.id <> row.approvingDepartmentId))
DELETE stale
WITH DISTINCT f, row, borrower, granter
MERGE (borrower)-[:BORROWS]->(f)
MERGE (granter)-[g:GRANTED]->(f)
SET g.at = date(row.grantedAt)
WITH f, row
OPTIONAL MATCH (approver:Department {id: row.approvingDepartmentId})
// The file has no approval date: a new approval is dated as the grant, and one the graph holds
// keeps the date approveFacility gave it.
FOREACH (_ IN CASE WHEN approver IS NULL THEN [] ELSE [1] END |
  MERGE (approver)-[a:APPROVED]->(f)
  ON CREATE SET a.at = date(row.grantedAt))
"""

LOAD_GUARANTEES: Final[LiteralString] = """
UNWIND $rows AS row
MATCH (g:Client {id: row.guarantorId}), (f:Facility {id: row.facilityId})
MERGE (g)-[r:GUARANTEES]->(f)
SET r.amountCents = row.amountCents
"""

# (section name in BankRows, statement), in dependency order.
LOAD_ORDER: Final[tuple[tuple[str, LiteralString], ...]] = (
    ("departments", LOAD_DEPARTMENTS),
    ("direct_links", LOAD_DIRECT_LINKS),
    ("linear_links", LOAD_LINEAR_LINKS),
    ("check_links", LOAD_CHECK_LINKS),
    ("managers", LOAD_MANAGERS),
    ("managers", LOAD_REPORTING_LINES),
    ("clients", LOAD_CLIENTS),
    ("manages", LOAD_MANAGES),
    ("products", LOAD_PRODUCTS),
    ("holdings", LOAD_HOLDINGS),
    ("cross_sells", LOAD_CROSS_SELLS),
    ("controls", LOAD_CONTROLS),
    ("related", LOAD_RELATED),
    ("facilities", LOAD_FACILITIES),
    ("guarantees", LOAD_GUARANTEES),
)


def _batches(rows: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _write_batch(tx: ManagedTransaction, statement: LiteralString, rows: Sequence[Any]) -> None:
    tx.run(statement, rows=list(rows)).consume()


def load_bank(
    driver: Driver,
    database: str,
    bank: BankRows,
    batch_size: int = 5000,
    on_progress: Callable[[str, int], None] | None = None,
) -> None:
    """Upsert every section; each batch is one transaction, and a rerun changes nothing."""
    with driver.session(database=database) as session:
        for section, statement in LOAD_ORDER:
            rows: Sequence[Any] = getattr(bank, section)
            for batch in _batches(rows, batch_size):
                session.execute_write(_write_batch, statement, batch)
                if on_progress is not None:
                    on_progress(section, len(batch))
