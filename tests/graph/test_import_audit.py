"""A CSV import's audit records: one per batch that writes, linked to the nodes its rows touch,
with each node's rows on its link, as `auditLog` shows them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from neo4j import Driver

from graph.audit_log import get_audit_log
from graph.csv_import import import_csv
from graph.csv_tables import TABLES_BY_FILE
from graph.db import Db
from graph.import_audit import IMPORT_ACTION, audit_rows, audited_columns
from tests.conftest import DATABASE
from tests.graph.test_csv_import import SMALL_BANK, write_set

FACILITY_HEADER = (
    "id,borrowerId,type,limit,drawn,currency,grantingDepartmentId,approvingDepartmentId,grantedAt\n"
)
COUNT_RECORDS = "MATCH (a:AuditRecord) RETURN count(a) AS n"


def count_records(driver: Driver) -> int:
    records, _, _ = driver.execute_query(COUNT_RECORDS, database_=DATABASE)
    return int(records[0]["n"])


def imported(driver: Driver, folder: Path, actor: str = "ops:alice", dry_run: bool = False) -> None:
    report = import_csv(driver, DATABASE, folder, dry_run=dry_run, actor=actor)
    assert report.accepted, [str(p) for p in report.problems.kept]


def test_audited_nodes_follow_the_tables() -> None:
    def labels(file: str) -> list[tuple[str, str]]:
        return [(kind.value, key) for kind, key in audited_columns(TABLES_BY_FILE[file])]

    assert labels("clients.csv") == [("Client", "id")]
    assert labels("holdings.csv") == [("Client", "clientId"), ("Product", "productId")]
    assert labels("direct_reports.csv") == [("Department", "fromId"), ("Department", "toId")]
    assert labels("facilities.csv") == [("Facility", "id"), ("Client", "borrowerId")]
    assert labels("guarantees.csv") == [("Client", "guarantorId"), ("Facility", "facilityId")]


def test_a_moved_facility_touches_both_borrowers_and_an_empty_status_shows_the_kept_one() -> None:
    table = TABLES_BY_FILE["facilities.csv"]
    before = {"id": "f-1", "borrowerId": "c-1", "limitCents": 100, "status": "CLOSED"}
    after = {"id": "f-1", "borrowerId": "c-2", "limitCents": 200, "status": None}
    rows = audit_rows(table, [(before, after)])
    assert sorted(n["id"] for n in rows["Client"]) == ["c-1", "c-2"]
    [facility] = rows["Facility"]
    assert json.loads(facility["before"]) == [before]
    assert json.loads(facility["after"]) == [{**after, "status": "CLOSED"}]
    assert rows["Manager"] == rows["Department"] == rows["Product"] == []


def test_rows_touching_one_node_are_listed_on_its_one_link() -> None:
    table = TABLES_BY_FILE["holdings.csv"]
    first = {"clientId": "c-1", "productId": "p-1", "balanceCents": 5}
    second = {"clientId": "c-1", "productId": "p-2", "balanceCents": 7}
    rows = audit_rows(table, [(None, first), (second | {"balanceCents": 1}, second)])
    [client] = rows["Client"]
    assert json.loads(client["before"]) == [None, second | {"balanceCents": 1}]
    assert json.loads(client["after"]) == [first, second]
    assert sorted(n["id"] for n in rows["Product"]) == ["p-1", "p-2"]


async def test_an_import_is_audited_per_node_and_a_rerun_or_dry_run_adds_nothing(
    empty_graph: Driver, db: Db, tmp_path: Path
) -> None:
    folder = write_set(tmp_path / "bank", dict(SMALL_BANK))
    imported(empty_graph, folder, dry_run=True)
    assert count_records(empty_graph) == 0
    imported(empty_graph, folder)
    # One record per file (each file is one batch here).
    assert count_records(empty_graph) == len(SMALL_BANK)

    records = await get_audit_log(db, "c-1", 0, 20)
    assert {r.actor for r in records} == {"ops:alice"}
    assert {r.action for r in records} == {IMPORT_ACTION}
    files = {json.loads(r.input)["file"] for r in records}
    assert files == {
        "clients.csv", "client_managers.csv", "holdings.csv", "controls.csv",
        "client_relations.csv", "facilities.csv",
    }  # fmt: skip
    client = next(r for r in records if json.loads(r.input)["file"] == "clients.csv")
    assert json.loads(client.before) == [None]
    [row] = json.loads(client.after)
    assert row["name"] == "华东钢铁" and row["riskRating"] == 3
    assert json.loads(client.input) == {"file": "clients.csv", "created": 2, "updated": 0}

    imported(empty_graph, folder)
    assert count_records(empty_graph) == len(SMALL_BANK)


async def test_a_restated_limit_is_audited_on_the_facility_and_its_borrowers(
    empty_graph: Driver, db: Db, tmp_path: Path
) -> None:
    imported(empty_graph, write_set(tmp_path / "bank", dict(SMALL_BANK)))
    # f-2 moves from c-2 to c-1 with a higher limit; f-1 is restated unchanged.
    changed = write_set(
        tmp_path / "change",
        {
            "facilities.csv": FACILITY_HEADER
            + "f-1,c-1,LOAN,5000000.00,1000000.00,CNY,d-ka-east,d-risk,2023-01-01\n"
            + "f-2,c-1,ACCEPTANCE,300.00,0,CNY,d-ka,,2023-02-01\n"
        },
    )
    imported(empty_graph, changed, actor="credit-sync")

    [latest, *_] = await get_audit_log(db, "f-2", 0, 20)
    assert (latest.actor, latest.action) == ("credit-sync", IMPORT_ACTION)
    assert json.loads(latest.input) == {"file": "facilities.csv", "created": 0, "updated": 1}
    [before] = json.loads(latest.before)
    [after] = json.loads(latest.after)
    assert (before["limitCents"], before["borrowerId"]) == (10000, "c-2")
    assert (after["limitCents"], after["borrowerId"]) == (30000, "c-1")
    for borrower in ("c-1", "c-2"):
        [on_borrower, *_] = await get_audit_log(db, borrower, 0, 1)
        assert on_borrower.id == latest.id
        assert json.loads(on_borrower.after) == [after]
    # The unchanged f-1 has only its creation.
    assert [json.loads(r.input)["file"] for r in await get_audit_log(db, "f-1", 0, 20)] == [
        "guarantees.csv",
        "facilities.csv",
    ]


def test_a_rejected_import_leaves_no_record(empty_graph: Driver, tmp_path: Path) -> None:
    bad: dict[str, Any] = dict(SMALL_BANK)
    bad["clients.csv"] = SMALL_BANK["clients.csv"] + "c-3,坏客户,CORPORATE,NEW,ACTIVE,,9,,\n"
    report = import_csv(empty_graph, DATABASE, write_set(tmp_path / "bad", bad), actor="ops")
    assert not report.accepted
    assert count_records(empty_graph) == 0


@pytest.mark.parametrize("file", ["departments.csv", "managers.csv", "products.csv"])
async def test_every_kind_of_node_gets_its_record(
    empty_graph: Driver, db: Db, tmp_path: Path, file: str
) -> None:
    imported(empty_graph, write_set(tmp_path / "bank", dict(SMALL_BANK)))
    node = {"departments.csv": "d-ka", "managers.csv": "m-1", "products.csv": "p-dep"}[file]
    files = [json.loads(r.input)["file"] for r in await get_audit_log(db, node, 0, 20)]
    assert file in files
