"""Import a folder of the bank's CSV files: check everything, then upsert in batches.

Nothing is written unless every row of every file passes (`graph.csv_validation`). Then each
file is streamed again in batches; each batch is one transaction that reads the current rows it
names, writes only those that are new or differ (with the loader's own statements, so imported
and generated banks have one shape), counts created, updated and unchanged rows, and leaves an
audit record of the rows it changed (`graph.import_audit`). A rerun of the same files therefore
writes nothing, and `dry_run` reports the same counts without writing.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, LiteralString

from neo4j import Driver, ManagedTransaction, Session

from graph import bulk_load as load
from graph.bank_snapshot import read_keyed
from graph.client_group import root_of
from graph.client_link_writes import CONTROL_CYCLES, LIMITS_OFF_TOP
from graph.csv_reader import Problems, read_rows
from graph.csv_tables import TABLES, TABLES_BY_FILE, NodeKind, Table
from graph.csv_validation import BATCH, MONEY_CURRENCIES, ScratchIndex, Validator, chunks
from graph.csv_validation import NOT_TO_ARCHIVED as CHECKED_NOT_TO_ARCHIVED
from graph.data_writes import (
    LOCK,
    LOCK_CLIENTS,
    LOCK_DEPARTMENTS,
    LOCK_FACILITIES,
    LOCK_MANAGERS,
    LOCK_PRODUCTS,
)
from graph.db import too_large_is_final
from graph.errors import ImportConflict, QueryTooLarge
from graph.import_audit import (
    WRITTEN_LATER,
    AuditedRow,
    Ends,
    audited_rows,
    row_ends,
    write_import_audit,
)
from graph.manager_writes import REPORTING_LINES
from graph.restructure import LOCK_ORG, VIOLATIONS
from graph.risk_settings import READ_SETTINGS, SETTINGS_ID, capital_base_from, currency_lock

# A level the file changes goes into the grade history (run before the managers are written, so
# that it reads the level they leave): promoteManager and demoteManager record theirs, and the
# history would otherwise go on naming a level the manager no longer has.
RECORD_IMPORTED_LEVELS: Final[LiteralString] = """
UNWIND $rows AS row
MATCH (m:Manager {id: row.id}) WHERE m.level <> row.level
CREATE (:GradeChange {id: randomUUID(), scheme: 'BANK', kind: 'IMPORT', fromGrade: m.level,
                      toGrade: row.level, exceptional: false, reason: 'set by an import',
                      by: $actor, at: datetime()})-[:OF]->(m)
"""

# section -> the loader statements that write its rows (managers' reporting lines come after
# every manager of the file exists: see `_write_reporting_lines`).
WRITES: Final[dict[str, tuple[LiteralString, ...]]] = {
    "departments": (load.LOAD_DEPARTMENTS,),
    "direct_links": (load.LOAD_DIRECT_LINKS,),
    "linear_links": (load.LOAD_LINEAR_LINKS,),
    "check_links": (load.LOAD_CHECK_LINKS,),
    "managers": (RECORD_IMPORTED_LEVELS, load.LOAD_MANAGERS),
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
    "departments": "UNWIND $ids AS id MATCH (n:Department {id: id}) "
    "SET n.version = coalesce(n.version, 0) + 1",
    "managers": "UNWIND $ids AS id MATCH (n:Manager {id: id}) "
    "SET n.version = coalesce(n.version, 0) + 1",
    "clients": "UNWIND $ids AS id MATCH (n:Client {id: id}) "
    "SET n.version = coalesce(n.version, 0) + 1",
}


# Files whose rows restructurings also change: their writing batches take the organisation's
# lock first, as a restructuring does, and check again what a restructuring committed since the
# import was checked may have made them break (`_require_org_intact`).
ORG_SECTIONS: Final = frozenset({
    "departments", "direct_links", "linear_links", "check_links", "managers", "manages",
    "products", "facilities",
})  # fmt: skip
# ... of which these can break what graph.restructure.VIOLATIONS checks.
VIOLATING_SECTIONS: Final = frozenset({"direct_links", "linear_links", "check_links", "products"})
# ... and these may not point at an archived department (as the check has it).
NOT_TO_ARCHIVED: Final = CHECKED_NOT_TO_ARCHIVED | {"products"}
ARCHIVED_AMONG: Final[LiteralString] = (
    "MATCH (d:Department) WHERE d.id IN $ids AND d.archived RETURN collect(d.id) AS ids"
)
# Active clients given a primary manager who is not active (deactivated since the check).
INACTIVE_PRIMARIES: Final[LiteralString] = """
UNWIND $rows AS row
MATCH (m:Manager {id: row.managerId})-[:MANAGES {role: 'PRIMARY'}]->
      (c:Client {id: row.clientId, status: 'ACTIVE'})
WHERE NOT coalesce(m.active, true)
RETURN collect(c.id) AS ids
"""

CYCLIC_MANAGERS: Final[LiteralString] = (
    "MATCH (m:Manager) WHERE m.id IN $ids AND EXISTS { (m)-[:REPORTS_TO*1..64]->(m) } "
    "RETURN collect(m.id) AS ids"
)

# Files whose rows the control links' lock guards in the mutations (relateClients' CONTROL,
# setUnifiedLimit): a unified limit stays on its group's top controller.
CONTROL_SECTIONS: Final = frozenset({"clients", "controls"})
# Of the given clients, those holding a unified limit below another controller.
LIMITS_BELOW_TOP: Final[LiteralString] = (
    """
UNWIND $ids AS id
MATCH (c:Client {id: id}) WHERE c.unifiedLimitCents IS NOT NULL
CALL (c) {
"""
    + root_of("c", "top")
    + """}
WITH c WHERE top <> c
RETURN collect(c.id) AS ids
"""
)
# The batch's guarantees above their facility's limit (each row alone: another guarantee of the
# facility may be lowered by a later batch, as the check allows).
GUARANTEES_ABOVE_LIMIT: Final[LiteralString] = """
UNWIND $rows AS row
MATCH (:Client {id: row.guarantorId})-[r:GUARANTEES]->(f:Facility {id: row.facilityId})
WHERE r.amountCents > f.limitCents
RETURN collect(DISTINCT f.id) AS ids
"""


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
    created_ids: frozenset[str] = frozenset()


def _current(
    tx: ManagedTransaction, table: Table, rows: list[dict[str, Any]]
) -> dict[tuple[Any, ...], dict[str, Any]]:
    """The graph's rows for these rows' identities (absent when new)."""
    keys = [{k: row[k] for k in table.identity_keys} for row in rows]
    return {table.identity_of(r): r for r in read_keyed(tx, table.section, keys)}


def _changed(
    table: Table, rows: list[dict[str, Any]], current: dict[tuple[Any, ...], dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The rows that are new, and those that differ from the graph (an empty cell of a column
    added later keeps the graph's value, and differs from nothing)."""
    created: list[dict[str, Any]] = []
    updated: list[dict[str, Any]] = []
    for row in rows:
        before = current.get(table.identity_of(row))
        if before is None:
            created.append(row)
        elif _differs(table, before, row):
            updated.append(row)
    return created, updated


def _differs(
    table: Table, before: dict[str, Any], row: dict[str, Any], ignored: frozenset[str] = frozenset()
) -> bool:
    """Whether `row` changes what the graph holds (`before`), leaving out `ignored` columns."""
    kept = table.kept_when_empty
    return any(
        before.get(k) != v
        for k, v in row.items()
        if k not in ignored and (v is not None or k not in kept)
    )


LOCKED_WHEN_CREATED: Final = frozenset({"facilities", "guarantees"})

# In one order for every import, labels in this order and ids sorted: a client before its
# managers (as updating a client or recording a visit locks them) and before its facilities (as
# the credit mutations do).
LOCKS: Final[dict[NodeKind, LiteralString]] = {
    NodeKind.DEPARTMENT: LOCK_DEPARTMENTS,
    NodeKind.CLIENT: LOCK_CLIENTS,
    NodeKind.MANAGER: LOCK_MANAGERS,
    NodeKind.PRODUCT: LOCK_PRODUCTS,
    NodeKind.FACILITY: LOCK_FACILITIES,
}


def _lock(tx: ManagedTransaction, nodes: Iterable[tuple[NodeKind, str]]) -> None:
    by_kind: dict[NodeKind, set[str]] = {}
    for kind, node_id in nodes:
        by_kind.setdefault(kind, set()).add(node_id)
    for kind, statement in LOCKS.items():
        if kind in by_kind:
            tx.run(statement, ids=sorted(by_kind[kind])).consume()


def _apply_batch(
    tx: ManagedTransaction, table: Table, rows: list[dict[str, Any]], actor: str | None,
    batch: int = 1,
) -> BatchCounts:  # fmt: skip
    """One batch's transaction; a batch past the database's memory limit for one transaction
    stops the import at once (QueryTooLarge) instead of being retried for half a minute."""
    with too_large_is_final():
        return _apply_rows(tx, table, rows, actor, batch)


def _apply_rows(
    tx: ManagedTransaction, table: Table, rows: list[dict[str, Any]], actor: str | None,
    batch: int,
) -> BatchCounts:  # fmt: skip
    """`actor` None: count only (a dry run). Writing rows that change what the graph holds,
    the nodes they touch (both borrowers of a facility lent to another client, say) are locked
    and the rows read again, so that what the audit record says they replaced is what they
    replaced, even when a mutation committed in between; then they are written and audited."""
    current = _current(tx, table, rows)
    created, updated = _changed(table, rows, current)
    # Rows that only create need no second read (a first import is all of them; a row a
    # mutation creates meanwhile is merged, and recorded as created), unless they lend: credit
    # is locked borrower first, as the mutations lock it.
    borrowers: dict[tuple[Any, ...], Ends] = {}
    if actor is not None and (created or updated) and table.section in ORG_SECTIONS:
        tx.run(LOCK_ORG).consume()  # first, as restructurings take it
    if actor is not None and (created or updated) and table.section in CONTROL_SECTIONS:
        tx.run(LOCK, id=CONTROL_CYCLES).consume()  # first, as relateClients takes it
    if actor is not None and (updated or (created and table.section in LOCKED_WHEN_CREATED)):
        touched = created + updated
        borrowers = _guaranteed_borrowers(tx, table, touched)
        _lock(tx, (
            end
            for row in touched
            for end in row_ends(table, row, current.get(table.identity_of(row)))
            | borrowers.get(table.identity_of(row), frozenset())
        ))  # fmt: skip
        current = _current(tx, table, touched)
        created, updated = _changed(table, touched, current)
    in_changed = {table.identity_of(r) for r in created + updated}
    changed = [r for r in rows if table.identity_of(r) in in_changed]  # in file order
    if actor is not None and changed:
        # Limits already off their group's top (older data) are not this batch's doing.
        off_top = _limits_off_top(tx, table, changed)
        for statement in WRITES[table.section]:
            tx.run(statement, rows=changed, actor=actor).consume()
        _require_org_intact(tx, table, changed, current)
        _require_credit_intact(tx, table, changed, off_top)
        # Last, as the mutations take it last (after the departments a facility's links lock).
        _require_rated(tx, table, changed)
        bump = BUMP_VERSIONS.get(table.section)
        # A change this batch writes moves the version on; a manager's new boss moves it when
        # the reporting line is written (_write_lines).
        later = WRITTEN_LATER.get(table.section, frozenset())
        bumped = [
            r["id"]
            for r in (updated if bump is not None else [])
            if _differs(table, current[table.identity_of(r)], r, later)
        ]
        if bump is not None and bumped:
            tx.run(bump, ids=bumped).consume()
        # Read back where the graph fills what a row leaves empty (a facility's status, kept or
        # ACTIVE); elsewhere a row is written as it is.
        after = _current(tx, table, changed) if table.kept_when_empty else {
            table.identity_of(r): r for r in changed
        }  # fmt: skip
        pairs = [
            (current.get(identity), after[identity])
            for identity in map(table.identity_of, changed)
            if identity in after  # not written only if a reference vanished since the check
        ]
        summary = {"batch": batch, "created": len(created), "updated": len(updated)}
        audited = audited_rows(table, pairs, borrowers)
        write_import_audit(tx, actor, table.file, summary, audited)
    created_ids = frozenset(r["id"] for r in created if "id" in r)
    return BatchCounts(len(created), len(updated), len(rows) - len(changed), changed, created_ids)


def _require_org_intact(
    tx: ManagedTransaction, table: Table, rows: list[dict[str, Any]],
    current: dict[tuple[Any, ...], dict[str, Any]],
) -> None:  # fmt: skip
    """Written, the batch's rows keep what restructurings keep (graph.restructure.VIOLATIONS:
    the department forest, independent check-and-balance links, products offered by active
    product departments) and point at no department archived since the check (nor, for an open
    facility, move it to one: a merge may have moved it on); ImportConflict otherwise, which
    rolls the batch back. `current`: the rows as the graph held them before the batch."""
    if table.section not in ORG_SECTIONS:
        return
    keys = [c.row_key for c in table.columns if c.refers_to is NodeKind.DEPARTMENT]
    departments: set[str] = set()
    if table.section in NOT_TO_ARCHIVED:
        departments = {row[k] for row in rows for k in keys if row.get(k) is not None}
    elif table.section == "facilities":
        # A closed facility, a new one (an export restoring history) or one left where it was
        # may name an archived department; an open one the graph holds is not moved back to one.
        for row in rows:
            before = current.get(table.identity_of(row))
            if before is not None and row.get("status") != "CLOSED":
                departments |= {
                    row[k] for k in keys if row.get(k) is not None and row[k] != before.get(k)
                }
    if departments:
        archived = tx.run(ARCHIVED_AMONG, ids=sorted(departments)).single(strict=True)["ids"]
        if archived:
            raise ImportConflict(table.file, "NOT_ARCHIVED", sorted(archived))
    # Only department links and products can break what VIOLATIONS checks. Not checked per
    # batch, where a later batch of the same file, or a later file, may still set them right as
    # the check allows: a client's one primary manager (a transfer's two rows may fall in two
    # batches), a department's function against its products (products.csv may move them).
    violations: list[Any] = []
    if table.section in VIOLATING_SECTIONS:
        violations = list(
            tx.run(
                VIOLATIONS,
                clientIds=[],
                productIds=[r["id"] for r in rows] if table.section == "products" else [],
                linkedIds=[r["fromId"] for r in rows] if table.section == "direct_links" else [],
            )
        )
    if violations:
        first = violations[0]
        raise ImportConflict(
            table.file, first["invariant"], sorted({i for v in violations for i in v["ids"]})
        )
    if table.section == "manages":
        # Linking the manager took its lock: a deactivation that committed first shows here.
        inactive = tx.run(INACTIVE_PRIMARIES, rows=rows).single(strict=True)["ids"]
        if inactive:
            raise ImportConflict(table.file, "PRIMARY_MANAGER_ACTIVE", sorted(inactive))


def _limits_off_top(
    tx: ManagedTransaction, table: Table, rows: list[dict[str, Any]]
) -> frozenset[str]:
    """For a controls batch, the unified limits at or below its rows' controllers held off their
    group's top (under the control links' lock, which the batch took first)."""
    if table.section != "controls":
        return frozenset()
    controllers = sorted({r["fromId"] for r in rows})
    return frozenset(tx.run(LIMITS_OFF_TOP, ids=controllers).single(strict=True)["ids"])


def _require_credit_intact(
    tx: ManagedTransaction, table: Table, rows: list[dict[str, Any]], off_top: frozenset[str]
) -> None:
    """Written, the batch's rows keep what the credit mutations keep, in case one committed
    since the check: a unified limit on its group's top controller (under the control links'
    lock, which the batch took first) and guarantees within their facility's limit (under the
    facility locks a guarantees batch holds). ImportConflict otherwise."""
    conflict: tuple[str, list[str]] | None = None
    if table.section == "clients":
        given = [r["id"] for r in rows if r.get("unifiedLimitCents") is not None]
        below = tx.run(LIMITS_BELOW_TOP, ids=given).single(strict=True)["ids"] if given else []
        conflict = ("GROUP_TOP", below) if below else None
    elif table.section == "controls":
        # Every holder at or below the links' controllers that the batch moved off its group's
        # top, as relateClients checks: a stake can make another stake add up to control of a
        # holder below the link's own target.
        moved = sorted(_limits_off_top(tx, table, rows) - off_top)
        conflict = ("UNIFIED_LIMIT_ON_TOP", moved) if moved else None
    elif table.section == "guarantees":
        # (A facilities batch may lower a limit below guarantees guarantees.csv, written later,
        # lowers too, as the check allows: the guarantees' batch checks them.)
        above = tx.run(GUARANTEES_ABOVE_LIMIT, rows=rows).single(strict=True)["ids"]
        conflict = ("GUARANTEE_WITHIN_LIMIT", above) if above else None
    if conflict is not None:
        raise ImportConflict(table.file, conflict[0], sorted(conflict[1]))


def _require_rated(tx: ManagedTransaction, table: Table, rows: list[dict[str, Any]]) -> None:
    """As the mutations do (graph.risk_settings.require_rated_currency): once written, the batch
    holds the locks of the currencies it brings money in, and they still have rates, so a
    settings change that was dropping one meanwhile is refused, or this batch is (rolled back)."""
    column = MONEY_CURRENCIES.get(table.section)
    # A closed facility is in no exposure: the rates need not cover it (setRiskSettings's
    # check counts open facilities only).
    codes = (
        sorted({r[column] for r in rows if r.get(column) and r.get("status") != "CLOSED"})
        if column
        else []
    )
    if not codes:
        return
    for code in codes:
        tx.run(LOCK, id=currency_lock(code)).consume()
    base = capital_base_from(tx.run(READ_SETTINGS, settingsId=SETTINGS_ID).single(strict=True))
    base.require_rates(codes)


FACILITY_BORROWERS: Final[LiteralString] = """
UNWIND $ids AS id
MATCH (b:Client)-[:BORROWS]->(:Facility {id: id})
RETURN id, b.id AS borrowerId
"""


def _guaranteed_borrowers(
    tx: ManagedTransaction, table: Table, rows: list[dict[str, Any]]
) -> dict[tuple[Any, ...], Ends]:
    """For guarantee rows, the borrower of each guaranteed facility: locked with the guarantor
    (before the facility, as changeGuaranteeAmount takes them) and shown the guarantee's audit,
    as the guarantee mutations' records are."""
    if table.section != "guarantees":
        return {}
    facilities = sorted({r["facilityId"] for r in rows})
    borrower = {r["id"]: r["borrowerId"] for r in tx.run(FACILITY_BORROWERS, ids=facilities)}
    return {
        table.identity_of(r): frozenset({(NodeKind.CLIENT, borrower[r["facilityId"]])})
        for r in rows
        if r["facilityId"] in borrower
    }


REPORTING_LINES_OF: Final[LiteralString] = """
UNWIND $ids AS id
MATCH (:Manager {id: id})-[:REPORTS_TO]->(boss:Manager)
RETURN id, boss.id AS bossId
"""


def _write_reporting_lines(
    tx: ManagedTransaction, rows: list[dict[str, Any]], actor: str, batch: int,
    created: frozenset[str] = frozenset(),
) -> None:  # fmt: skip
    with too_large_is_final():
        _write_lines(tx, rows, actor, batch, created)


def _write_lines(
    tx: ManagedTransaction, rows: list[dict[str, Any]], actor: str, batch: int,
    created: frozenset[str],
) -> None:  # fmt: skip
    """Managers' reporting lines, audited here, where they change: on the manager and on its old
    and new boss, as updateManager's record is, and its version moved on with it."""
    tx.run(LOCK, id=REPORTING_LINES).consume()  # first, as updateManager takes it
    managers = [r["id"] for r in rows]
    new = {r["id"]: r.get("reportsToId") for r in rows}
    seen = {r["id"]: r["bossId"] for r in tx.run(REPORTING_LINES_OF, ids=managers)}
    # Every manager and boss in one sorted batch (bosses found before the lock, read again after).
    involved = set(managers) | {b for b in (*seen.values(), *new.values()) if b}
    _lock(tx, ((NodeKind.MANAGER, m) for m in involved))
    old = {r["id"]: r["bossId"] for r in tx.run(REPORTING_LINES_OF, ids=managers)}
    moved = [m for m in managers if old.get(m) != new[m]]
    tx.run(load.LOAD_REPORTING_LINES, rows=rows).consume()
    # A line updateManager drew since the check may close a cycle with one of these.
    cyclic = tx.run(CYCLIC_MANAGERS, ids=moved).single(strict=True)["ids"] if moved else []
    if cyclic:
        raise ImportConflict("managers.csv", "REPORTING_FOREST", sorted(cyclic))
    # In the same transaction as the new boss; a manager this import created and nobody has
    # given a boss since starts at 0.
    first_boss = {m for m in moved if m in created and old.get(m) is None}
    tx.run(BUMP_VERSIONS["managers"], ids=[m for m in moved if m not in first_boss]).consume()
    audited = [
        AuditedRow(
            {"id": m, "reportsToId": old.get(m)},
            {"id": m, "reportsToId": new[m]},
            frozenset((NodeKind.MANAGER, n) for n in (m, old.get(m), new[m]) if n),
        )
        for m in moved
    ]
    summary = {"batch": batch, "reportingLines": len(audited)}
    write_import_audit(tx, actor, "managers.csv", summary, audited)


def find_files(folder: Path, problems: Problems) -> list[tuple[Table, Path]]:
    """The known files present, in dependency order; an unknown .csv is a problem (a typo
    such as client.csv would otherwise be skipped without a word)."""
    if not folder.is_dir():
        problems.add(str(folder), 0, None, "is not a folder")
        return []
    # Any case of ".csv": a Clients.CSV is not skipped without a word either.
    for path in sorted(p for p in folder.iterdir() if p.suffix.lower() == ".csv"):
        if path.name in TABLES_BY_FILE:
            if not path.is_file():
                problems.add(path.name, 1, None, "is not a file")
        elif path.name.lower() in TABLES_BY_FILE:
            problems.add(path.name, 1, None, f"is named {path.name.lower()} in the import format")
        else:
            problems.add(
                path.name,
                1,
                None,
                "is not a file of the import format; expected some of "
                + ", ".join(t.file for t in TABLES),
            )
    return [(t, folder / t.file) for t in TABLES if (folder / t.file).is_file()]


def _freeze(files: list[tuple[Table, Path]], scratch: Path) -> list[tuple[Table, Path]]:
    """Copies of the files, which the import checks and then writes: a file replaced in the
    folder meanwhile (a sync job, an export into the same folder) cannot be written unchecked."""
    frozen = scratch / "files"
    frozen.mkdir()
    return [(table, Path(shutil.copyfile(path, frozen / table.file))) for table, path in files]


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
    batch_size: int = BATCH,
) -> ImportReport:
    """Check every file, then (unless rejected or `dry_run`) upsert them; see the module doc.

    `on_phase(name, total_rows)` announces the check and the write phases; `on_progress(file,
    rows)` reports rows as they are done. Each batch of `batch_size` rows that writes is one
    transaction and leaves an audit record in `actor`'s name (`graph.import_audit`). A batch past
    the database's memory limit for one transaction raises `QueryTooLarge` naming the file and
    batch; the batches before it stay written, so a rerun with smaller batches carries on."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, not {batch_size}")
    problems = Problems()
    report = ImportReport(folder, dry_run, problems)
    files = find_files(folder, problems)
    summaries = {t.file: FileSummary(t.file) for t, _ in files}
    report.files = list(summaries.values())
    # Warnings about labels not yet in the database are expected on a first import.
    with (
        driver.session(database=database, notifications_min_severity="OFF") as session,
        tempfile.TemporaryDirectory(prefix="rmgraph-import-") as scratch,
    ):
        files = _freeze(files, Path(scratch))
        if on_phase is not None:
            on_phase("checking", sum(count_lines(p) for _, p in files))
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
                on_progress, batch_size,
            )  # fmt: skip
    return report


def _write_file(
    session: Session,
    table: Table,
    path: Path,
    summary: FileSummary,
    actor: str | None,
    on_progress: Callable[[str, int], None] | None,
    batch_size: int,
) -> None:
    """`actor` None: a dry run."""
    ignored = Problems()  # this copy passed its check; nothing new can come up
    rows = (row.values for row in read_rows(path, table, ignored))
    reporting: list[dict[str, Any]] = []
    created: set[str] = set()
    run = session.execute_read if actor is None else session.execute_write
    for number, batch in enumerate(chunks(rows, batch_size), start=1):
        with _naming_batch(table.file, number, batch_size, len(batch), actor is None):
            counts: BatchCounts = run(_apply_batch, table, batch, actor, number)
        summary.created += counts.created
        summary.updated += counts.updated
        summary.unchanged += counts.unchanged
        if table.section == "managers":
            reporting.extend(counts.changed_rows)
            created |= counts.created_ids
        if on_progress is not None:
            on_progress(table.file, len(batch))
    if reporting and actor is not None:
        # All in one transaction (a line per manager: few), so that the cycle check sees the
        # file's lines as the validator did, not half of a swap split between two batches.
        with _naming_batch(
            f"{table.file} (reporting lines)", 1, len(reporting), len(reporting), False
        ):
            session.execute_write(_write_reporting_lines, reporting, actor, 1, frozenset(created))


@contextlib.contextmanager
def _naming_batch(
    file: str, number: int, batch_size: int, rows: int, dry_run: bool
) -> Iterator[None]:
    """A batch too large for the database says which it is and what to do about it."""
    try:
        yield
    except QueryTooLarge as exc:
        first = (number - 1) * batch_size + 1
        done = "nothing is written (dry run)" if dry_run else "the batches before it are written"
        raise QueryTooLarge(
            f"{file}, batch {number} (rows {first}-{first + rows - 1}); {done}: import again "
            f"with a smaller --batch-size (this one was {batch_size}) or raise the server's "
            "db.memory.transaction.max"
        ) from exc
