"""Write the bank as the CSV set `graph.csv_import` reads: one file per table, with its header.

Rows are streamed into the files in a stable order, read a chunk at a time, each chunk a read
transaction of its own (`graph.bank_snapshot`), so an export of a million clients takes little
memory, in Neo4j as here, and two exports of one graph are identical. A graph written to while it
is exported may show a later chunk's changes and not an earlier one's (Neo4j's reads are read
committed, so one long transaction did not give one moment either). The files are written into a
staging folder beside their final place and moved into place only when every table is written
(and on disk), so an export that fails or is interrupted leaves the folder's earlier set as it
was. One export at a time writes into a folder: it holds a lock on the folder's `.export.lock`,
which the system releases however the process ends, and removes the staging folders that exports
killed outright (`kill -9`, a lost terminal) left behind.
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Final, LiteralString

from neo4j import Driver

from graph.bank_snapshot import stream_section
from graph.csv_tables import TABLES, Table, render_cell
from graph.errors import ExportInProgress

EXPORT_LOCK: Final = ".export.lock"
STAGING_PREFIX: Final = ".export-"


def write_table(folder: Path, table: Table, rows: Iterable[dict[str, Any]]) -> int:
    """Write one file (UTF-8, no BOM, `\\n` line ends); the number of rows written."""
    count = 0
    with (folder / table.file).open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(table.headers)
        for row in rows:
            writer.writerow([render_cell(c, row.get(c.row_key)) for c in table.columns])
            count += 1
    return count


# Every write through the API leaves an audit record; the count comes from Neo4j's count store.
AUDITED_WRITES: Final[LiteralString] = "MATCH (a:AuditRecord) RETURN count(a) AS n"


def count_audited_writes(driver: Driver, database: str) -> int:
    """How many writes the API has made so far: compared before and after an export, a change
    says the export may not fit together."""
    records, _, _ = driver.execute_query(AUDITED_WRITES, database_=database, routing_="r")
    return int(records[0]["n"])


def export_csv(
    driver: Driver,
    database: str,
    folder: Path,
    on_progress: Callable[[str, int], None] | None = None,
) -> dict[str, int]:
    """Every table of the graph into `folder` (created if needed); rows written per file.

    The staging folder is inside `folder`, on the same file system, so that moving the files in
    is a rename each: the read, which takes minutes on a large bank, can fail or be interrupted
    without touching the earlier set; only the renames at the end, a few milliseconds, cannot be
    undone half-way."""
    folder.mkdir(parents=True, exist_ok=True)
    for table in TABLES:  # found now, not after minutes of reading, half-way through the moves
        target = folder / table.file
        if target.exists() and not target.is_file():
            raise FileExistsError(
                f"{target} is in the way: it is not a file the export can replace"
            )
    written: dict[str, int] = {}
    with _exporting_into(folder):
        staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=folder))
        try:
            with driver.session(database=database, default_access_mode="READ") as session:
                for table in TABLES:
                    rows = stream_section(session, table.section)
                    written[table.file] = write_table(staging, table, rows)
                    if on_progress is not None:
                        on_progress(table.file, written[table.file])
            # On disk before the renames: a crash just after them leaves the new set whole.
            for table in TABLES:
                _sync(staging / table.file)
            for table in TABLES:
                (staging / table.file).replace(folder / table.file)
            _sync(folder)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return written


@contextlib.contextmanager
def _exporting_into(folder: Path) -> Iterator[None]:
    """The folder's export lock, held for the export; refused at once (`ExportInProgress`) while
    another export holds it. Holding it, any staging folder found is a dead export's."""
    with (folder / EXPORT_LOCK).open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ExportInProgress(str(folder)) from None
        for stale in folder.glob(STAGING_PREFIX + "*"):
            if stale.is_dir() and not stale.is_symlink():
                shutil.rmtree(stale, ignore_errors=True)
        yield


def _sync(path: Path) -> None:
    """Flush a file's (or a folder's entries') data to disk."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
