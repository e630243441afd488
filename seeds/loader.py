"""Load a bank (the demo, or a generated one) with progress on stderr."""

from __future__ import annotations

import sys
from typing import Final

from neo4j import Driver

from graph.bank_rows import BankRows
from graph.bulk_load import load_bank
from graph.migrations import migrate
from graph.progress import Progress


def load(driver: Driver, database: str, bank: BankRows, quiet: bool = False) -> None:
    """Constraints first, then every section in batches; safe to run again."""
    migrate(driver, database)
    counts = bank.counts()
    # Managers are written in two passes (members, then reporting lines).
    progress = Progress(sum(counts.values()) + counts["managers"], quiet)
    load_bank(driver, database, bank, on_progress=progress)
    progress.finish()


class ImportRejected(Exception):
    """The CSV set did not pass its check; the message lists the first problems."""


HAS_CLIENTS: Final = "MATCH (c:Client) RETURN count(c) > 0 AS has LIMIT 1"


def load_demo(
    driver: Driver, database: str, quiet: bool = False, force: bool = False, activity: bool = False
) -> bool:
    """The demo bank as shipped: its CSV set through the importer, like any bank's data.

    Only into a database without clients (unless `force`): changes made through the API since
    the last start are kept, and a restructured demo is not fought over. True when imported.
    `activity` adds the managers' demo records (visits, complaints, pipeline moves)."""
    from graph.csv_import import import_csv
    from seeds.demo import DEMO_CSV

    migrate(driver, database)
    records, _, _ = driver.execute_query(HAS_CLIENTS, database_=database, routing_="r")
    if records[0]["has"] and not force:
        if not quiet:
            print(
                "rmgraph: the database already holds a bank; demo not re-imported "
                "(rmgraph import seeds/demo_bank does it)",
                file=sys.stderr,
            )
        return False
    report = import_csv(driver, database, DEMO_CSV, actor="rmgraph demo seed")
    if not report.accepted:
        shown = "\n".join(str(p) for p in report.problems.kept[:20])
        raise ImportRejected(f"the demo CSV set was rejected:\n{shown}")
    if activity:
        from seeds.demo_activity import load_activity

        load_activity(driver, database)
    if not quiet:
        created = sum(f.created for f in report.files)
        print(f"rmgraph: demo bank loaded ({created} rows created)", file=sys.stderr)
    return True
