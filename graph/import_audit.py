"""Audit records of a CSV import: one per written batch, in the batch's own transaction.

An import changes what the API would audit (a facility's limit, a client's manager), so each
batch that writes leaves a record (`action` importCsv, the actor who ran it, the file) linked to
every node its changed rows touch. The rows themselves go on the links, not on the record: a
node's audit log then shows the rows that touched it (`before` and `after`, JSON arrays in file
order, `null` in `before` for a row the import created; `input` the file, the batch, how many
rows touched the node and how many are shown) rather than a batch of 5,000 rows.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Final, LiteralString

from neo4j import ManagedTransaction

from graph.csv_tables import NodeKind, Table

IMPORT_ACTION: Final = "importCsv"

IMPORT_AUDIT: Final[LiteralString] = """
CREATE (a:AuditRecord {id: randomUUID(), at: datetime(), actor: $actor, action: $action,
                       input: $input, before: 'null', after: 'null'})
WITH a
CALL (a) {
  CALL () {
    UNWIND $Department AS c MATCH (n:Department {id: c.id}) RETURN n, c
    UNION
    UNWIND $Manager AS c MATCH (n:Manager {id: c.id}) RETURN n, c
    UNION
    UNWIND $Client AS c MATCH (n:Client {id: c.id}) RETURN n, c
    UNION
    UNWIND $Product AS c MATCH (n:Product {id: c.id}) RETURN n, c
    UNION
    UNWIND $Facility AS c MATCH (n:Facility {id: c.id}) RETURN n, c
  }
  CREATE (a)-[:CHANGED {input: c.input, before: c.before, after: c.after}]->(n)
}
RETURN a.id AS id
"""

# A product held by thousands of clients is touched by thousands of rows of a holdings batch: its
# link keeps the first of them (the rest are on their clients' links), so that a node's audit log
# stays a readable size.
ROWS_PER_NODE: Final = 100

# Besides the node a row defines and the nodes its identity links: a facility's borrower, whose
# exposure the facility is (the credit mutations' records are on the borrower too).
ALSO_AUDITED: Final[dict[str, tuple[str, ...]]] = {"facilities": ("borrowerId",)}


@cache
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


# Columns a batch does not write: managers' reporting lines are written once every manager of
# the file exists, in transactions (and audit records) of their own.
WRITTEN_LATER: Final[dict[str, frozenset[str]]] = {"managers": frozenset({"reportsToId"})}

Ends = frozenset[tuple[NodeKind, str]]


@dataclass(frozen=True)
class AuditedRow:
    """One changed row as its audit shows it: before (None when created), after, and the nodes
    it touches."""

    before: Mapping[str, Any] | None
    after: Mapping[str, Any]
    ends: Ends


def row_ends(table: Table, *rows: Mapping[str, Any] | None) -> Ends:
    """The nodes rows of `table` touch (give a row before and after: a facility lent to another
    client touches both borrowers)."""
    return frozenset(
        (kind, str(row[key]))
        for row in rows
        if row is not None
        for kind, key in audited_columns(table)
        if row.get(key) is not None
    )


def audited_rows(
    table: Table,
    changes: Sequence[tuple[Mapping[str, Any] | None, Mapping[str, Any]]],
    also: Mapping[tuple[Any, ...], Ends] | None = None,
) -> list[AuditedRow]:
    """(before, after) as read from the graph, shown with the file's columns; rows whose
    columns this batch writes did not change are left out. `also`: more nodes a row touches,
    by its identity (a guaranteed facility's borrower)."""
    later = WRITTEN_LATER.get(table.section, frozenset())
    keys = [c.row_key for c in table.columns if c.row_key not in later]
    shown: list[AuditedRow] = []
    for before, after in changes:
        old = None if before is None else {k: before.get(k) for k in keys}
        new = {k: after.get(k) for k in keys}
        if old != new:
            ends = row_ends(table, before, after)
            if also:
                ends |= also.get(table.identity_of(after), frozenset())
            shown.append(AuditedRow(old, new, ends))
    return shown


@dataclass
class _Touched:
    rows: int = 0
    before: list[Mapping[str, Any] | None] = field(default_factory=list)
    after: list[Mapping[str, Any]] = field(default_factory=list)


def audit_rows(
    file: str, batch: int, rows: Sequence[AuditedRow]
) -> dict[str, list[dict[str, str]]]:
    """Per label, sorted by id, the nodes the rows touch, each with its rows as JSON and how
    many there were. A node shows at most `ROWS_PER_NODE` of them, except that every row is
    shown somewhere: one whose nodes are all full goes to its first node all the same."""
    touched: dict[tuple[NodeKind, str], _Touched] = {}
    for row in rows:
        ends = sorted(row.ends)
        placed = False
        for end in ends:
            entry = touched.setdefault(end, _Touched())
            entry.rows += 1
            if len(entry.after) < ROWS_PER_NODE:
                entry.before.append(row.before)
                entry.after.append(row.after)
                placed = True
        if not placed and ends:
            entry = touched[ends[0]]
            entry.before.append(row.before)
            entry.after.append(row.after)
    by_label: dict[str, list[dict[str, str]]] = {kind.value: [] for kind in NodeKind}
    for (kind, node_id), entry in sorted(touched.items()):
        shown = {"file": file, "batch": batch, "rows": entry.rows, "shown": len(entry.after)}
        by_label[kind.value].append(
            {
                "id": node_id,
                "input": _json(shown),
                "before": _json(entry.before),
                "after": _json(entry.after),
            }
        )
    return by_label


def write_import_audit(
    tx: ManagedTransaction,
    actor: str,
    file: str,
    summary: Mapping[str, Any],
    rows: Sequence[AuditedRow],
) -> None:
    """The record of one transaction's changes, in it: the change and its record commit
    together. `summary` (the file, the batch, its counts) is the record's own input."""
    if not rows:
        return
    parameters: dict[str, Any] = {
        "actor": actor,
        "action": IMPORT_ACTION,
        "input": _json({"file": file, **summary}),
        **audit_rows(file, int(summary.get("batch", 1)), rows),
    }
    tx.run(IMPORT_AUDIT, parameters).consume()
