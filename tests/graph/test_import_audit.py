"""A CSV import's audit records: one per batch that writes, linked to the nodes its rows touch,
with each node's rows on its link, as `auditLog` shows them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from neo4j import Driver
from neo4j.time import DateTime

from graph import csv_import
from graph.audit_log import for_node, get_audit_log
from graph.csv_import import import_csv
from graph.csv_tables import TABLES_BY_FILE, NodeKind
from graph.db import Db
from graph.import_audit import (
    IMPORT_ACTION,
    ROWS_PER_NODE,
    AuditedRow,
    audit_rows,
    audited_columns,
    audited_rows,
)
from tests.conftest import DATABASE, graph_snapshot
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


def test_a_moved_facility_touches_both_borrowers() -> None:
    table = TABLES_BY_FILE["facilities.csv"]
    before = {"id": "f-1", "borrowerId": "c-1", "limitCents": 100, "status": "CLOSED"}
    after = {"id": "f-1", "borrowerId": "c-2", "limitCents": 200, "status": "CLOSED"}
    [row] = audited_rows(table, [(before, after)])
    assert row.ends == {(NodeKind.FACILITY, "f-1"), (NodeKind.CLIENT, "c-1"),
                        (NodeKind.CLIENT, "c-2")}  # fmt: skip
    rows = audit_rows(table.file, 1, [row])
    assert [n["id"] for n in rows["Client"]] == ["c-1", "c-2"]
    [facility] = rows["Facility"]
    # Shown with the file's columns, those the graph lacks as null.
    assert json.loads(facility["before"])[0]["limitCents"] == 100
    assert json.loads(facility["after"])[0]["closedOn"] is None
    assert rows["Manager"] == rows["Department"] == rows["Product"] == []


def test_a_row_the_batch_leaves_as_it_was_is_not_shown() -> None:
    """A manager whose only change is its boss: written (and audited) with the reporting lines."""
    table = TABLES_BY_FILE["managers.csv"]
    before = {"id": "m-1", "name": "李军", "reportsToId": None}
    assert audited_rows(table, [(before, before | {"reportsToId": "m-2"})]) == []
    [renamed] = audited_rows(table, [(before, before | {"name": "李俊", "reportsToId": "m-2"})])
    assert "reportsToId" not in renamed.after and renamed.after["name"] == "李俊"


def _holding(client: str, product: str, cents: int) -> AuditedRow:
    row = {"clientId": client, "productId": product, "balanceCents": cents}
    return audited_rows(TABLES_BY_FILE["holdings.csv"], [(None, row)])[0]


def test_rows_touching_one_node_are_listed_on_its_one_link() -> None:
    rows = audit_rows("holdings.csv", 1, [_holding("c-1", "p-1", 5), _holding("c-1", "p-2", 7)])
    [client] = rows["Client"]
    assert json.loads(client["before"]) == [None, None]
    assert [h["productId"] for h in json.loads(client["after"])] == ["p-1", "p-2"]
    assert [n["id"] for n in rows["Product"]] == ["p-1", "p-2"]


def test_a_node_touched_by_many_rows_keeps_the_first_of_them() -> None:
    holdings = [_holding(f"c-{n:03d}", "p-popular", n) for n in range(ROWS_PER_NODE + 5)]
    rows = audit_rows("holdings.csv", 3, holdings)
    [product] = rows["Product"]
    assert json.loads(product["input"]) == {
        "file": "holdings.csv", "batch": 3, "rows": ROWS_PER_NODE + 5, "shown": ROWS_PER_NODE,
    }  # fmt: skip
    assert [h["balanceCents"] for h in json.loads(product["after"])] == list(range(ROWS_PER_NODE))
    assert len(json.loads(product["before"])) == ROWS_PER_NODE
    # Each client has its one row.
    assert len(rows["Client"]) == ROWS_PER_NODE + 5
    assert all(json.loads(c["input"])["rows"] == 1 for c in rows["Client"])


def test_a_row_whose_nodes_are_all_full_is_still_shown() -> None:
    """A client with many holdings, a product with many holders: their last row is past the
    cap on both, and goes on its first node (the client) all the same."""
    rows = [_holding("c-big", f"p-{n:03d}", n) for n in range(ROWS_PER_NODE + 20)]
    rows += [_holding(f"c-{n:03d}", "p-big", n) for n in range(ROWS_PER_NODE + 20)]
    last = _holding("c-big", "p-big", 999)
    by_label = audit_rows("holdings.csv", 1, [*rows, last])
    client = next(c for c in by_label["Client"] if c["id"] == "c-big")
    assert json.loads(client["after"])[-1] == last.after
    assert json.loads(client["input"])["shown"] == ROWS_PER_NODE + 1
    product = next(p for p in by_label["Product"] if p["id"] == "p-big")
    assert last.after not in json.loads(product["after"])


async def test_an_import_is_audited_per_node_and_a_rerun_or_dry_run_adds_nothing(
    empty_graph: Driver, db: Db, tmp_path: Path
) -> None:
    folder = write_set(tmp_path / "bank", dict(SMALL_BANK))
    imported(empty_graph, folder, dry_run=True)
    assert count_records(empty_graph) == 0
    imported(empty_graph, folder)
    # One record per file (each file is one batch here), and m-2's reporting line to m-1.
    assert count_records(empty_graph) == len(SMALL_BANK) + 1

    records = await get_audit_log(db, "c-1", 0, 20)
    assert {r.actor for r in records} == {"ops:alice"}
    assert {r.action for r in records} == {IMPORT_ACTION}
    files = {json.loads(r.input)["file"] for r in records}
    assert files == {
        "clients.csv", "client_managers.csv", "holdings.csv", "controls.csv",
        "client_relations.csv", "facilities.csv", "guarantees.csv",  # c-1 borrows f-1
    }  # fmt: skip
    client = next(r for r in records if json.loads(r.input)["file"] == "clients.csv")
    assert json.loads(client.before) == [None]
    [row] = json.loads(client.after)
    assert row["name"] == "华东钢铁" and row["riskRating"] == 3
    assert json.loads(client.input) == {"file": "clients.csv", "batch": 1, "rows": 1, "shown": 1}
    # The record itself counts the batch.
    records_of_file, _, _ = empty_graph.execute_query(
        "MATCH (a:AuditRecord {id: $id}) RETURN a.input AS input",
        {"id": client.id},
        database_=DATABASE,
    )
    assert json.loads(records_of_file[0]["input"]) == {
        "file": "clients.csv", "batch": 1, "created": 2, "updated": 0,
    }  # fmt: skip

    imported(empty_graph, folder)
    assert count_records(empty_graph) == len(SMALL_BANK) + 1


def test_smaller_batches_are_more_transactions_with_the_same_outcome(
    empty_graph: Driver, tmp_path: Path
) -> None:
    """Two rows a batch: departments.csv's five rows are three records (2, 2 and 1 created),
    and the graph is the one a single batch per file makes."""
    folder = write_set(tmp_path / "bank", dict(SMALL_BANK))
    report = import_csv(empty_graph, DATABASE, folder, actor="ops:alice", batch_size=2)
    assert report.accepted
    records, _, _ = empty_graph.execute_query(
        "MATCH (a:AuditRecord) RETURN a.input AS input", database_=DATABASE
    )
    inputs = [json.loads(r["input"]) for r in records]
    departments = sorted(
        (i["batch"], i["created"]) for i in inputs if i["file"] == "departments.csv"
    )
    assert departments == [(1, 2), (2, 2), (3, 1)]
    lines = (len(content.splitlines()) - 1 for content in SMALL_BANK.values())
    assert len(inputs) == sum((rows + 1) // 2 for rows in lines) + 1  # and m-2's reporting line
    small = _bank_data(empty_graph)

    empty_graph.execute_query(
        "MATCH (n) WHERE n:AuditRecord OR n:Department OR n:Manager OR n:Client OR n:Product "
        "OR n:Facility DETACH DELETE n",
        database_=DATABASE,
    )
    assert import_csv(empty_graph, DATABASE, folder, actor="ops:alice").accepted
    assert _bank_data(empty_graph) == small


def _bank_data(driver: Driver) -> dict[str, Any]:
    """The snapshot without the audit records and the times of writing (differ between runs)."""
    snapshot = graph_snapshot(driver)

    def timeless(properties: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in properties.items() if not isinstance(v, DateTime)}

    return {
        "nodes": [(n[0], timeless(n[1])) for n in snapshot["nodes"] if "AuditRecord" not in n[0]],
        "rels": [(*r[:3], timeless(r[3])) for r in snapshot["rels"] if r[1] != "CHANGED"],
    }


def test_a_batch_size_below_one_is_refused(empty_graph: Driver, tmp_path: Path) -> None:
    folder = write_set(tmp_path / "bank", dict(SMALL_BANK))
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        import_csv(empty_graph, DATABASE, folder, batch_size=0)


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
    assert json.loads(latest.input) == {
        "file": "facilities.csv", "batch": 1, "rows": 1, "shown": 1,
    }  # fmt: skip
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
    # The node's own row, created (m-1's reporting-line record, as m-2's boss, does not count).
    own = [
        r
        for r in await get_audit_log(db, node, 0, 20)
        if json.loads(r.input)["file"] == file and json.loads(r.after)[0].get("id") == node
    ]
    assert [json.loads(r.before) for r in own] == [[None]]


async def test_a_created_facility_shows_the_status_it_got(
    empty_graph: Driver, db: Db, tmp_path: Path
) -> None:
    """SMALL_BANK's facilities.csv has no status column: the facilities are ACTIVE, and their
    records say so (the after is read back from the graph)."""
    imported(empty_graph, write_set(tmp_path / "bank", dict(SMALL_BANK)))
    [*_, created] = await get_audit_log(db, "f-2", 0, 20)
    [after] = json.loads(created.after)
    assert (after["status"], after["limitCents"], after["borrowerId"]) == ("ACTIVE", 10000, "c-2")


async def test_a_reporting_line_is_audited_on_the_manager_and_both_bosses(
    empty_graph: Driver, db: Db, tmp_path: Path
) -> None:
    imported(empty_graph, write_set(tmp_path / "bank", dict(SMALL_BANK)))
    managers = SMALL_BANK["managers.csv"].replace(
        "m-2,王芳,MANAGER,BACHELOR,NONE,2,d-ka-east,m-1,2021-03-01\n",
        "m-2,王芳,MANAGER,BACHELOR,NONE,2,d-ka-east,m-3,2021-03-01\n"
        "m-3,张伟,SENIOR,MASTER,MIDDLE,8,d-ka,,2018-01-01\n",
    )
    versions = "MATCH (m:Manager) RETURN m.id AS id, m.version AS version ORDER BY id"
    assert [(r["id"], r["version"]) for r in empty_graph.execute_query(versions).records] == [
        ("m-1", 0), ("m-2", 0),
    ]  # fmt: skip
    imported(empty_graph, write_set(tmp_path / "moved", {"managers.csv": managers}))
    # m-2's version moves on with its new boss (in that transaction); m-3 is new.
    assert [(r["id"], r["version"]) for r in empty_graph.execute_query(versions).records] == [
        ("m-1", 0), ("m-2", 1), ("m-3", 0),
    ]  # fmt: skip
    [line] = await get_audit_log(db, "m-2", 0, 1)
    assert json.loads(line.before) == [{"id": "m-2", "reportsToId": "m-1"}]
    assert json.loads(line.after) == [{"id": "m-2", "reportsToId": "m-3"}]
    for boss in ("m-1", "m-3"):
        [on_boss, *_] = await get_audit_log(db, boss, 0, 1)
        assert on_boss.id == line.id
    # m-2's row changed nothing else: no batch record shows it (m-3's creation does not touch it).
    assert [json.loads(r.input)["file"] for r in await get_audit_log(db, "m-2", 0, 20)] == [
        "managers.csv", "client_managers.csv", "managers.csv", "managers.csv",
    ]  # fmt: skip


def test_an_identical_rerun_takes_no_locks(
    empty_graph: Driver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Locks are taken (with a write) only for rows that change something: a rerun of the same
    files neither writes nor waits on anyone."""
    folder = write_set(tmp_path / "bank", dict(SMALL_BANK))
    imported(empty_graph, folder)
    locked: list[object] = []
    monkeypatch.setattr(csv_import, "_lock", lambda tx, nodes: locked.append(list(nodes)))
    imported(empty_graph, folder)
    assert locked == []


async def test_a_restated_guarantee_is_audited_on_the_borrower_too(
    empty_graph: Driver, db: Db, tmp_path: Path
) -> None:
    """c-2 guarantees 2,500,000.00 of f-1, c-1's loan; the import amends it to 3,000,000.00."""
    imported(empty_graph, write_set(tmp_path / "bank", dict(SMALL_BANK)))
    amended = "guarantorId,facilityId,amount\nc-2,f-1,3000000.00\n"
    imported(empty_graph, write_set(tmp_path / "amended", {"guarantees.csv": amended}))
    records = {node: (await get_audit_log(db, node, 0, 1))[0] for node in ("c-1", "c-2", "f-1")}
    assert len({r.id for r in records.values()}) == 1  # one record, on all three
    [before] = json.loads(records["c-1"].before)
    [after] = json.loads(records["c-1"].after)
    assert (before["amountCents"], after["amountCents"]) == (250000000, 300000000)


def test_a_node_id_two_labels_share_sees_the_rows_of_both_links() -> None:
    record = {
        "id": "a-1",
        "action": IMPORT_ACTION,
        "input": "{}",
        "before": "null",
        "after": "null",
    }
    both = {"clientId": "x", "productId": "x"}  # client x holds product x: on both links
    as_product = {
        "label": "Product",
        "input": '{"batch": 1, "file": "holdings.csv", "rows": 2, "shown": 2}',
        "before": "[null, null]",
        "after": json.dumps([{"clientId": "c", "productId": "x"}, both]),
    }
    as_client = {
        "label": "Client",
        "input": '{"batch": 1, "file": "holdings.csv", "rows": 2, "shown": 2}',
        "before": "[null, null]",
        "after": json.dumps([both, {"clientId": "x", "productId": "p"}]),
    }
    seen = for_node(record, [as_product, as_client])
    assert json.loads(seen["input"]) == {"batch": 1, "file": "holdings.csv", "rows": 3, "shown": 3}
    # Client's link first, the shared row once.
    assert json.loads(seen["after"]) == [both, {"clientId": "x", "productId": "p"},
                                         {"clientId": "c", "productId": "x"}]  # fmt: skip
    assert json.loads(seen["before"]) == [None, None, None]
    assert for_node(record, [as_client])["after"] == as_client["after"]
    assert "label" not in for_node(record, [as_client])
    assert for_node(record, []) == record  # an API record: its own before and after


def test_a_new_boss_alone_moves_the_version_with_the_line_not_the_batch(
    empty_graph: Driver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Until the reporting line is written, m-2 (whose only change is its boss) keeps its
    version: a reader who sees the version moved sees the new boss too."""
    imported(empty_graph, write_set(tmp_path / "bank", dict(SMALL_BANK)))
    managers = SMALL_BANK["managers.csv"].replace(",m-1,2021-03-01\n", ",,2021-03-01\n")
    monkeypatch.setattr(csv_import, "_write_reporting_lines", lambda *args: None)
    imported(empty_graph, write_set(tmp_path / "moved", {"managers.csv": managers}))
    version = "MATCH (m:Manager {id: 'm-2'}) RETURN m.version AS v"
    assert empty_graph.execute_query(version).records[0]["v"] == 0
    monkeypatch.undo()
    imported(empty_graph, write_set(tmp_path / "moved", {"managers.csv": managers}))
    assert empty_graph.execute_query(version).records[0]["v"] == 1
