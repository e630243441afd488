"""Run one import in a fresh process and print its problems count and peak memory (KiB).

The memory test runs this in a subprocess so each import's peak is its own."""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path

from neo4j import GraphDatabase

from graph.csv_import import import_csv


def main() -> None:
    folder = Path(sys.argv[1])
    auth = (os.environ["NEO4J_USER"], os.environ["NEO4J_PASSWORD"])
    database = os.environ.get("NEO4J_DATABASE", "neo4j")
    started = time.monotonic()
    with GraphDatabase.driver(os.environ["NEO4J_URI"], auth=auth) as driver:
        report = import_csv(driver, database, folder)
    print(
        json.dumps(
            {
                "read": sum(f.read for f in report.files),
                "problems": [str(p) for p in report.problems.kept],
                "peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                "seconds": round(time.monotonic() - started, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
