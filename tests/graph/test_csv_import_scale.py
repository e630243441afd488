"""A million-row file is streamed: checking it takes about the memory of checking 100k rows.

Each import runs in its own process (`tests.graph.import_probe`) so its peak resident memory
is its own. The files end with one bad row, so the whole file is read and checked, the problem
is reported with its line, and nothing is written.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from neo4j import Driver

from graph.local_server import Connection
from tests.conftest import graph_snapshot

PRODUCTS = 1000
# The scratch index's SQLite page cache (8 MB) fills as it grows; anything beyond is a leak.
ALLOWED_GROWTH_KIB = 20 * 1024


def write_bank(folder: Path, clients: int) -> int:
    """`clients` x 1000 holdings, then one negative balance; the number of holding rows."""
    folder.mkdir()
    (folder / "departments.csv").write_text(
        "id,name,function,model\nd-hq,总行,MANAGEMENT,COMPREHENSIVE\nd-prod,产品部,PRODUCT,PRODUCT\n",
        encoding="utf-8",
    )
    (folder / "managers.csv").write_text(
        "id,name,level,education,title,creditYears,departmentId,reportsToId,since\n"
        "m-1,李军,SENIOR,MASTER,MIDDLE,6,d-hq,,2019-01-01\n",
        encoding="utf-8",
    )
    with (folder / "clients.csv").open("w", encoding="utf-8") as out:
        out.write("id,name,kind,segment,status,grade,riskRating,industry,region\n")
        out.writelines(f"c-{i},客户{i},CORPORATE,EXISTING,ACTIVE,,3,,\n" for i in range(clients))
    with (folder / "client_managers.csv").open("w", encoding="utf-8") as out:
        out.write("managerId,clientId,role,since\n")
        out.writelines(f"m-1,c-{i},PRIMARY,2020-01-01\n" for i in range(clients))
    with (folder / "products.csv").open("w", encoding="utf-8") as out:
        out.write("id,name,category,audience,riskLevel,departmentId\n")
        out.writelines(f"p-{j},产品{j},DEPOSIT,ALL,1,d-prod\n" for j in range(PRODUCTS))
    with (folder / "holdings.csv").open("w", encoding="utf-8") as out:
        out.write("clientId,productId,balance,since,active\n")
        for i in range(clients):
            out.writelines(
                f"c-{i},p-{j},{i}.{j % 100:02d},2020-01-01,true\n" for j in range(PRODUCTS)
            )
        out.write(f"c-{clients - 1},p-0,-1.00,2020-01-01,false\n")
    return clients * PRODUCTS + 1


def probe(conn: Connection, folder: Path) -> dict[str, Any]:
    env = dict(os.environ, NEO4J_URI=conn.uri, NEO4J_USER=conn.user, NEO4J_PASSWORD=conn.password)
    done = subprocess.run(
        [sys.executable, "-m", "tests.graph.import_probe", str(folder)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_a_million_row_file_is_checked_in_flat_memory(
    empty_graph: Driver, neo4j_conn: Connection, tmp_path: Path
) -> None:
    before = graph_snapshot(empty_graph)
    small_rows = write_bank(tmp_path / "small", 100)
    large_rows = write_bank(tmp_path / "large", 1000)
    small = probe(neo4j_conn, tmp_path / "small")
    large = probe(neo4j_conn, tmp_path / "large")

    for result, rows in ((small, small_rows), (large, large_rows)):
        last_line = rows + 1  # the header is line 1
        assert f"holdings.csv:{last_line}: column balance: -1.00 is negative" in result["problems"]
        assert result["read"] >= rows
    assert large["read"] > 1_000_000
    assert large["peak_kib"] - small["peak_kib"] < ALLOWED_GROWTH_KIB, (small, large)
    assert graph_snapshot(empty_graph) == before
