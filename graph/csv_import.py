"""Import a folder of the bank's CSV files: check everything, then upsert in batches.

Nothing is written unless every row of every file passes (`graph.csv_validation`). Then each
file is streamed again in batches; each batch is one transaction that reads the current rows it
names, writes only those that are new or differ (with the loader's own statements, so imported
and generated banks have one shape), counts created, updated and unchanged rows, and leaves an
audit record of the rows it changed (`graph.import_audit`). A rerun of the same files therefore
writes nothing, and `dry_run` reports the same counts without writing.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, LiteralString

from neo4j import Driver, ManagedTransaction, Session

from graph import bulk_load as load
from graph.bank_snapshot import read_keyed
from graph.csv_reader import Problems, read_rows
from graph.csv_tables import TABLES, TABLES_BY_FILE, Table
from graph.csv_validation import BATCH, ScratchIndex, Validator, chunks
from graph.data_writes import LOCK_CLIENTS, LOCK_FACILITIES
from graph.import_audit import write_import_audit

# section -> the loader statements that write its rows (managers' reporting lines come after
# every manager of the file exists: see `_write_reporting_lines`).
WRITES: Final[dict[str, tuple[LiteralString, ...]]] = {
    "departments": (load.LOAD_DEPARTMENTS,),
    "direct_links": (load.LOAD_DIRECT_LINKS,),
    "linear_links": (load.LOAD_LINEAR_LINKS,),
    "check_links": (load.LOAD_CHECK_LINKS,),
    "managers": (load.LOAD_MANAGERS,),
    "clients": (load.LOAD_CLIENTS,),
    "manages": (load.LOAD_MANAGES,),
    "products": (load.LOAD_PRODUCTS,),
    "holdings": (load.LOAD_HOLDINGS,),
    "cross_sells": (load.LOAD_CROSS_SELLS,),
    "controls": (load.LOAD_CONTROLS,),
    "related": (load.LOAD_RELATED,),
    "facilities": (load.LOAD_FACILITIES,),
    "guarantees": (load.LOAD_GUARANTEES,),
}
# Nodes that carry an optimistic-concurrency version: an imported change moves it on, as an
# API change would, so a client holding the old version sees the conflict.
BUMP_VERSIONS: Final[dict[str, LiteralString]] = {
    "departments": "UNWIND $ids AS id MATCH (n:Department {id: id}) SET n.version = n.version + 1",
    "managers": "UNWIND $ids AS id MATCH (n:Manager {id: id}) "
    "SET n.version = coalesce(n.version, 0) + 1",
    "clients": "UNWIND $ids AS id MATCH (n:Client {id: id}) SET n.version = n.version + 1",
}


@dataclass
class FileSummary:
    file: str
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0


@dataclass
class ImportReport:
    folder: Path
    dry_run: bool
    problems: Problems
    files: list[FileSummary] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return not self.problems

    @property
    def written(self) -> bool:
        return self.accepted and not self.dry_run


@dataclass(frozen=True)
class BatchCounts:
    created: int
    updated: int
    unchanged: int
    changed_rows: list[dict[str, Any]]


def _apply_batch(
    tx: ManagedTransaction, table: Table, rows: list[dict[str, Any]], actor: str | None
) -> BatchCounts:
    """`actor` None: count only (a dry run)."""
    keys = [
        {table.column(h).row_key: row[table.column(h).row_key] for h in table.identity}
        for row in rows
    ]
    current = {table.identity_of(r): r for r in read_keyed(tx, table.section, keys)}
    created: list[dict[str, Any]] = []
    updated: list[dict[str, Any]] = []
    kept = table.kept_when_empty
    for row in rows:
        before = current.get(table.identity_of(row))
        if before is None:
            created.append(row)
        elif any(before.get(k) != v for k, v in row.items() if v is not None or k not in kept):
            updated.append(row)
    changed = created + updated
    if actor is not None and changed:
        if table.section == "facilities":
            _lock_credit(tx, [current.get(table.identity_of(r)) for r in updated], changed)
        for statement in WRITES[table.section]:
            tx.run(statement, rows=changed).consume()
        bump = BUMP_VERSIONS.get(table.section)
        if bump is not None and updated:
            tx.run(bump, ids=[r["id"] for r in updated]).consume()
        changes = [(current.get(table.identity_of(r)), r) for r in changed]
        write_import_audit(tx, actor, table, changes)
    return BatchCounts(len(created), len(updated), len(rows) - len(changed), changed)


def _lock_credit(
    tx: ManagedTransaction, before: list[dict[str, Any] | None], rows: list[dict[str, Any]]
) -> None:
    """The borrowers the rows lend from and to, then the facilities, each sorted: the order the
    credit mutations take them in, so an import and a repayment take turns instead of
    deadlocking (the write would otherwise lock a facility before its borrower)."""
    borrowers = {r["borrowerId"] for r in rows} | {b["borrowerId"] for b in before if b}
    tx.run(LOCK_CLIENTS, ids=sorted(b for b in borrowers if b is not None)).consume()
    tx.run(LOCK_FACILITIES, ids=sorted(r["id"] for r in rows)).consume()


def _write_reporting_lines(tx: ManagedTransaction, rows: list[dict[str, Any]]) -> None:
    tx.run(load.LOAD_REPORTING_LINES, rows=rows).consume()


def find_files(folder: Path, problems: Problems) -> list[tuple[Table, Path]]:
    """The known files present, in dependency order; an unknown .csv is a problem (a typo
    such as client.csv would otherwise be skipped without a word)."""
    if not folder.is_dir():
        problems.add(str(folder), 0, None, "is not a folder")
        return []
    for path in sorted(folder.glob("*.csv")):
        if path.name not in TABLES_BY_FILE:
            problems.add(
                path.name,
                1,
                None,
                "is not a file of the import format; expected some of "
                + ", ".join(t.file for t in TABLES),
            )
    return [(t, folder / t.file) for t in TABLES if (folder / t.file).is_file()]


def count_lines(path: Path) -> int:
    """Physical lines, a cheap estimate of the rows to come for the progress line."""
    lines = 0
    with path.open("rb") as raw:
        while block := raw.read(1 << 20):
            lines += block.count(b"\n")
    return max(lines - 1, 0)


def import_csv(
    driver: Driver,
    database: str,
    folder: Path,
    dry_run: bool = False,
    on_progress: Callable[[str, int], None] | None = None,
    on_phase: Callable[[str, int], None] | None = None,
    actor: str = "rmgraph import",
) -> ImportReport:
    """Check every file, then (unless rejected or `dry_run`) upsert them; see the module doc.

    `on_phase(name, total_rows)` announces the check and the write phases; `on_progress(file,
    rows)` reports rows as they are done. Each batch that writes leaves an audit record in
    `actor`'s name (`graph.import_audit`)."""
    problems = Problems()
    report = ImportReport(folder, dry_run, problems)
    files = find_files(folder, problems)
    summaries = {t.file: FileSummary(t.file) for t, _ in files}
    report.files = list(summaries.values())
    if on_phase is not None:
        on_phase("checking", sum(count_lines(p) for _, p in files))
    # Warnings about labels not yet in the database are expected on a first import.
    with (
        driver.session(database=database, notifications_min_severity="OFF") as session,
        tempfile.TemporaryDirectory(prefix="rmgraph-import-") as scratch,
    ):
        index = ScratchIndex(Path(scratch))
        try:
            validator = Validator(session, index, problems)
            for table, path in files:
                validator.check_file(table, path, on_progress)
            validator.finish()
        finally:
            index.close()
        for file, summary in summaries.items():
            summary.read = validator.rows_read.get(file, 0)
            summary.rejected = problems.rejected_counts.get(file, 0)
        if problems:
            return report
        if on_phase is not None:
            on_phase("dry run" if dry_run else "writing", sum(s.read for s in summaries.values()))
        for table, path in files:
            _write_file(
                session, table, path, summaries[table.file], None if dry_run else actor,
                on_progress,
            )  # fmt: skip
    return report


def _write_file(
    session: Session,
    table: Table,
    path: Path,
    summary: FileSummary,
    actor: str | None,
    on_progress: Callable[[str, int], None] | None,
) -> None:
    """`actor` None: a dry run."""
    dry_run = actor is None
    ignored = Problems()  # the file passed its check; nothing new can come up
    rows = (row.values for row in read_rows(path, table, ignored))
    reporting: list[dict[str, Any]] = []
    run = session.execute_read if dry_run else session.execute_write
    for batch in chunks(rows, BATCH):
        counts: BatchCounts = run(_apply_batch, table, batch, actor)
        summary.created += counts.created
        summary.updated += counts.updated
        summary.unchanged += counts.unchanged
        if table.section == "managers":
            reporting.extend(counts.changed_rows)
        if on_progress is not None:
            on_progress(table.file, len(batch))
    if reporting and not dry_run:
        for batch in chunks(reporting, BATCH):
            session.execute_write(_write_reporting_lines, batch)
