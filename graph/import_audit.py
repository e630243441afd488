"""Audit records of a CSV import: one per written batch, in the batch's own transaction.

An import changes what the API would audit (a facility's limit, a client's manager), so each
batch that writes leaves a record (`action` importCsv, the actor who ran it, the file) linked to
every node its changed rows touch. The rows themselves go on the links, not on the record: a
node's audit log then shows the rows that touched it (`before` and `after`, JSON arrays in file
order, `null` in `before` for a row the import created) rather than a batch of 5,000 rows.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, LiteralString

from neo4j import ManagedTransaction

from graph.csv_tables import NodeKind, Table

IMPORT_ACTION: Final = "importCsv"

IMPORT_AUDIT: Final[LiteralString] = """
CREATE (a:AuditRecord {id: randomUUID(), at: datetime(), actor: $actor, action: $action,
                       input: $input, before: 'null', after: 'null'})
WITH a
CALL (a) {
  UNWIND $Department AS c MATCH (n:Department {id: c.id})
  CREATE (a)-[:CHANGED {before: c.before, after: c.after}]->(n)
}
CALL (a) {
  UNWIND $Manager AS c MATCH (n:Manager {id: c.id})
  CREATE (a)-[:CHANGED {before: c.before, after: c.after}]->(n)
}
CALL (a) {
  UNWIND $Client AS c MATCH (n:Client {id: c.id})
  CREATE (a)-[:CHANGED {before: c.before, after: c.after}]->(n)
}
CALL (a) {
  UNWIND $Product AS c MATCH (n:Product {id: c.id})
  CREATE (a)-[:CHANGED {before: c.before, after: c.after}]->(n)
}
CALL (a) {
  UNWIND $Facility AS c MATCH (n:Facility {id: c.id})
  CREATE (a)-[:CHANGED {before: c.before, after: c.after}]->(n)
}
RETURN a.id AS id
"""

# Besides the node a row defines and the nodes its identity links: a facility's borrower, whose
# exposure the facility is (the credit mutations' records are on the borrower too).
ALSO_AUDITED: Final[dict[str, tuple[str, ...]]] = {"facilities": ("borrowerId",)}


def audited_columns(table: Table) -> tuple[tuple[NodeKind, str], ...]:
    """(label, row key) of the nodes a row of `table` touches."""
    own = ((table.defines, "id"),) if table.defines is not None else ()
    linked = tuple(
        (c.refers_to, c.row_key)
        for c in table.columns
        if c.refers_to is not None
        and (c.name in table.identity or c.row_key in ALSO_AUDITED.get(table.section, ()))
    )
    return own + linked


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


@dataclass
class _Touched:
    before: list[dict[str, Any] | None] = field(default_factory=list)
    after: list[dict[str, Any]] = field(default_factory=list)


def audit_rows(
    table: Table,
    changes: Sequence[tuple[Mapping[str, Any] | None, Mapping[str, Any]]],
) -> dict[str, list[dict[str, str]]]:
    """Per label, the nodes that the changed rows (before, or None when created; after) touch,
    each with the rows as JSON. A row that moves a link (a facility to another borrower) touches
    the old end too."""
    touched: dict[tuple[NodeKind, str], _Touched] = {}
    columns = audited_columns(table)
    kept = table.kept_when_empty
    for before, row in changes:
        shown_before = None if before is None else {k: before.get(k) for k in row}
        # An empty cell of a column added later keeps the graph's value: show the value kept.
        after = {
            k: before.get(k) if v is None and k in kept and before is not None else v
            for k, v in row.items()
        }
        ends: set[tuple[NodeKind, str]] = {
            (kind, str(after[key])) for kind, key in columns if after.get(key) is not None
        }
        if before is not None:
            ends |= {(kind, str(before[key])) for kind, key in columns if before.get(key)}
        for end in sorted(ends):
            entry = touched.setdefault(end, _Touched())
            entry.before.append(shown_before)
            entry.after.append(after)
    by_label: dict[str, list[dict[str, str]]] = {kind.value: [] for kind in NodeKind}
    for (kind, node_id), entry in touched.items():
        by_label[kind.value].append(
            {"id": node_id, "before": _json(entry.before), "after": _json(entry.after)}
        )
    return by_label


def write_import_audit(
    tx: ManagedTransaction,
    actor: str,
    table: Table,
    changes: Sequence[tuple[Mapping[str, Any] | None, Mapping[str, Any]]],
) -> None:
    """The batch's record, in its transaction: the change and its record commit together."""
    created = sum(1 for before, _ in changes if before is None)
    summary = {"file": table.file, "created": created, "updated": len(changes) - created}
    parameters: dict[str, Any] = {
        "actor": actor,
        "action": IMPORT_ACTION,
        "input": _json(summary),
        **audit_rows(table, changes),
    }
    tx.run(IMPORT_AUDIT, parameters).consume()
