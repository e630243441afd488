"""The CSV importer and exporter against a real Neo4j: upserts, round trips, dry runs, and a
rejected import (for each kind of hostile file) leaving the graph exactly as it was."""

from __future__ import annotations

import fcntl
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from neo4j import Driver, ManagedTransaction, Session
from neo4j.exceptions import ServiceUnavailable

from graph import bank_snapshot, csv_export, csv_import
from graph.csv_export import export_csv
from graph.csv_import import ImportReport, import_csv
from graph.errors import ExportInProgress, QueryTooLarge
from seeds.demo import DEMO_CSV
from tests.conftest import DATABASE, graph_snapshot
from tests.graph.test_db import HUNGRY

SMALL_BANK = {
    "departments.csv": "id,name,function,model\n"
    "d-hq,总行,MANAGEMENT,COMPREHENSIVE\n"
    "d-ka,大客户部,CLIENT,CLIENT\n"
    "d-ka-east,华东团队,CLIENT,REGION\n"
    "d-risk,风险管理部,RISK,COMPREHENSIVE\n"
    "d-prod,产品部,PRODUCT,PRODUCT\n",
    "direct_reports.csv": "fromId,toId,since\n"
    "d-ka,d-hq,2020-01-01\n"
    "d-ka-east,d-ka,2020-01-01\n"
    "d-risk,d-hq,2020-01-01\n"
    "d-prod,d-hq,2020-01-01\n",
    "linear_links.csv": 'fromId,toId,since,purpose\nd-ka,d-prod,2020-01-01,"产品需求\n移交"\n',
    "check_links.csv": "fromId,toId,since,scope\nd-risk,d-ka,2020-01-01,风险监控\n",
    "managers.csv": "id,name,level,education,title,creditYears,departmentId,reportsToId,since\n"
    "m-1,李军,SENIOR,MASTER,MIDDLE,6,d-ka,,2019-01-01\n"
    "m-2,王芳,MANAGER,BACHELOR,NONE,2,d-ka-east,m-1,2021-03-01\n",
    "clients.csv": "id,name,kind,segment,status,grade,riskRating,industry,region\n"
    "c-1,华东钢铁,CORPORATE,EXISTING,ACTIVE,A,3,钢铁,华东\n"
    "c-2,华东贸易,CORPORATE,NEW,ACTIVE,,2,,\n",
    "client_managers.csv": "managerId,clientId,role,since\n"
    "m-1,c-1,PRIMARY,2020-01-01\n"
    "m-2,c-2,PRIMARY,2021-01-01\n"
    "m-2,c-1,SECONDARY,2022-01-01\n",
    "products.csv": "id,name,category,audience,riskLevel,departmentId\n"
    "p-dep,单位存款,DEPOSIT,CORPORATE,1,d-prod\n"
    "p-loan,流动资金贷款,LOAN,CORPORATE,3,d-prod\n",
    "holdings.csv": "clientId,productId,balance,since,active\n"
    "c-1,p-dep,1000000.50,2020-02-01,true\n"
    "c-2,p-dep,20.00,2021-02-01,false\n",
    "cross_sells.csv": "fromId,toId,support,confidence,lift,pinned\n"
    "p-dep,p-loan,0.5,0.5,1.25,true\n",
    "controls.csv": "fromId,toId,share,basis\nc-1,c-2,60.5,EQUITY\n",
    "client_relations.csv": "fromId,toId,kind,role,reciprocalRole\n"
    "c-2,c-1,SUPPLY_CHAIN,SUPPLIER,CUSTOMER\n",
    "facilities.csv": "id,borrowerId,type,limit,drawn,currency,grantingDepartmentId,"
    "approvingDepartmentId,grantedAt\n"
    "f-1,c-1,LOAN,5000000.00,1000000.00,CNY,d-ka-east,d-risk,2023-01-01\n"
    "f-2,c-2,ACCEPTANCE,100.00,0,CNY,d-ka,,2023-02-01\n",
    "guarantees.csv": "guarantorId,facilityId,amount\nc-2,f-1,2500000.00\n",
}


def write_set(folder: Path, files: Mapping[str, str | bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        data = content if isinstance(content, bytes) else content.encode("utf-8")
        (folder / name).write_bytes(data)
    return folder


def run(driver: Driver, folder: Path, dry_run: bool = False) -> ImportReport:
    return import_csv(driver, DATABASE, folder, dry_run=dry_run)


def counts(report: ImportReport) -> dict[str, tuple[int, int, int, int, int]]:
    return {f.file: (f.read, f.created, f.updated, f.unchanged, f.rejected) for f in report.files}


def messages(report: ImportReport) -> list[str]:
    return [str(p) for p in report.problems.kept]


def test_small_bank_imports_then_a_rerun_changes_nothing(
    empty_graph: Driver, tmp_path: Path
) -> None:
    folder = write_set(tmp_path / "bank", dict(SMALL_BANK))
    first = run(empty_graph, folder)
    assert first.accepted and first.written, messages(first)
    assert counts(first)["clients.csv"] == (2, 2, 0, 0, 0)
    assert counts(first)["client_managers.csv"] == (3, 3, 0, 0, 0)
    snapshot = graph_snapshot(empty_graph)

    again = run(empty_graph, folder)
    assert again.accepted
    assert all(f.created == f.updated == 0 and f.unchanged == f.read for f in again.files)
    assert graph_snapshot(empty_graph) == snapshot

    records, _, _ = empty_graph.execute_query(
        "MATCH (c:Client {id: 'c-1'})-[h:HOLDS]->(:Product {id: 'p-dep'}) "
        "MATCH (:Department {id: 'd-ka'})-[l:LINEAR]->(:Department {id: 'd-prod'}) "
        "MATCH (:Manager {id: 'm-2'})-[:REPORTS_TO]->(boss:Manager) "
        "MATCH (f:Facility {id: 'f-2'}) "
        "RETURN h.balanceCents AS balance, l.purpose AS purpose, boss.id AS boss, "
        "f.drawnCents AS drawn, EXISTS { (f)<-[:APPROVED]-() } AS approved",
        database_=DATABASE,
    )
    assert records[0].data() == {
        "balance": 100000050,
        "purpose": "产品需求\n移交",
        "boss": "m-1",
        "drawn": 0,
        "approved": False,
    }


def test_changed_rows_are_updated_in_place_and_versions_move_on(
    empty_graph: Driver, tmp_path: Path
) -> None:
    folder = write_set(tmp_path / "bank", dict(SMALL_BANK))
    assert run(empty_graph, folder).accepted
    changed = dict(SMALL_BANK)
    changed["clients.csv"] = SMALL_BANK["clients.csv"].replace("华东贸易", "华东贸易集团")
    changed["departments.csv"] = SMALL_BANK["departments.csv"].replace("华东团队", "华东一队")
    # Written by code that kept no version: the import's change still moves it on, from 0.
    empty_graph.execute_query(
        "MATCH (n) WHERE n:Client AND n.id = 'c-2' OR n:Department AND n.id = 'd-ka-east' "
        "REMOVE n.version",
        database_=DATABASE,
    )
    # The approval moves from d-risk to nobody; the manager m-2 moves to d-ka and loses a boss.
    changed["facilities.csv"] = SMALL_BANK["facilities.csv"].replace(",d-risk,", ",,")
    changed["managers.csv"] = SMALL_BANK["managers.csv"].replace(
        "m-2,王芳,MANAGER,BACHELOR,NONE,2,d-ka-east,m-1", "m-2,王芳,MANAGER,BACHELOR,NONE,2,d-ka,"
    )
    report = run(empty_graph, write_set(tmp_path / "changed", changed))
    assert report.accepted, messages(report)
    assert counts(report)["clients.csv"] == (2, 0, 1, 1, 0)
    assert counts(report)["facilities.csv"] == (2, 0, 1, 1, 0)
    assert counts(report)["managers.csv"] == (2, 0, 1, 1, 0)
    records, _, _ = empty_graph.execute_query(
        "MATCH (c:Client {id: 'c-2'}), (f:Facility {id: 'f-1'}), (m:Manager {id: 'm-2'}), "
        "(e:Department {id: 'd-ka-east'}) "
        "RETURN c.name AS name, c.version AS version, e.version AS departmentVersion, "
        "COUNT { (f)<-[:APPROVED]-() } AS approvals, "
        "[(m)-[:MEMBER_OF]->(d) | d.id] AS departments, COUNT { (m)-[:REPORTS_TO]->() } AS bosses",
        database_=DATABASE,
    )
    assert records[0].data() == {
        "name": "华东贸易集团",
        "version": 1,
        "departmentVersion": 1,
        "approvals": 0,
        "departments": ["d-ka"],
        "bosses": 0,
    }


def test_dry_run_counts_without_writing(empty_graph: Driver, tmp_path: Path) -> None:
    before = graph_snapshot(empty_graph)
    report = run(empty_graph, write_set(tmp_path / "bank", dict(SMALL_BANK)), dry_run=True)
    assert report.accepted and not report.written
    assert counts(report)["holdings.csv"] == (2, 2, 0, 0, 0)
    assert graph_snapshot(empty_graph) == before


def test_demo_export_reproduces_the_shipped_csv_set(demo_bank: Driver, tmp_path: Path) -> None:
    """The demo is loaded by the importer (the fixture); exporting it gives back its files."""
    written = export_csv(demo_bank, DATABASE, tmp_path / "export")
    assert written["clients.csv"] == 328
    for path in sorted(DEMO_CSV.glob("*.csv")):
        assert (tmp_path / "export" / path.name).read_bytes() == path.read_bytes(), path.name


@pytest.mark.parametrize("anchors", [1, 7])
def test_an_export_read_in_small_chunks_is_the_same(
    demo_bank: Driver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, anchors: int
) -> None:
    """The demo fits in one chunk of every section; read a few anchors at a time, as a large
    bank is, the files come out byte for byte the same."""
    small = {
        section: replace(snapshot, anchors_per_chunk=anchors)
        for section, snapshot in bank_snapshot.SNAPSHOTS.items()
    }
    monkeypatch.setattr(bank_snapshot, "SNAPSHOTS", small)
    written = export_csv(demo_bank, DATABASE, tmp_path / "export")
    assert written["clients.csv"] == 328
    for path in sorted(DEMO_CSV.glob("*.csv")):
        assert (tmp_path / "export" / path.name).read_bytes() == path.read_bytes(), path.name


def test_a_failed_export_leaves_the_earlier_set_as_it_was(
    demo_bank: Driver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An export that fails after writing some tables (here: the server goes away at managers,
    after departments and their links) moves none of them into place and leaves no staging
    folder behind."""
    folder = tmp_path / "export"
    export_csv(demo_bank, DATABASE, folder)
    # Mark the earlier set, so that a table rewritten from the same graph would show.
    with (folder / "departments.csv").open("a", encoding="utf-8") as earlier_file:
        earlier_file.write("d-earlier,an earlier export,CLIENT,REGION\n")
    (folder / "notes.txt").write_text("kept")
    earlier = {path.name: path.read_bytes() for path in folder.iterdir()}
    real = bank_snapshot.stream_section

    def failing(session: Session, section: str) -> Iterator[dict[str, Any]]:
        if section == "managers":
            raise ServiceUnavailable("the server went away")
        return real(session, section)

    monkeypatch.setattr(csv_export, "stream_section", failing)
    with pytest.raises(ServiceUnavailable):
        export_csv(demo_bank, DATABASE, folder)
    assert {path.name: path.read_bytes() for path in folder.iterdir()} == earlier


def test_one_export_at_a_time_and_a_dead_exports_staging_folder_is_removed(
    demo_bank: Driver, tmp_path: Path
) -> None:
    """An export killed outright leaves its staging folder; the next export removes it. While
    another export holds the folder's lock, an export is refused and changes nothing."""
    folder = tmp_path / "export"
    export_csv(demo_bank, DATABASE, folder)
    dead = folder / ".export-killed"
    dead.mkdir()
    (dead / "clients.csv").write_text("half a table")
    (folder / ".export-notes").write_text("a file of that name is not a staging folder")
    export_csv(demo_bank, DATABASE, folder)
    assert not dead.exists() and (folder / ".export-notes").exists()

    earlier = {path.name: path.read_bytes() for path in folder.iterdir()}
    with (folder / csv_export.EXPORT_LOCK).open("a") as running:
        fcntl.flock(running, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a running export holds it
        with pytest.raises(ExportInProgress, match="another export is writing into"):
            export_csv(demo_bank, DATABASE, folder)
        assert {path.name: path.read_bytes() for path in folder.iterdir()} == earlier
    assert export_csv(demo_bank, DATABASE, folder)["clients.csv"] > 0  # released with its file


def test_import_of_an_export_leaves_the_graph_unchanged(
    writable_demo_bank: Driver, tmp_path: Path
) -> None:
    # Change the graph away from the shipped files first, so the round trip is not trivial.
    writable_demo_bank.execute_query(
        "MATCH (c:Client {id: 'cli-0001'}) SET c.name = '改名后的客户', c.version = c.version + 1",
        database_=DATABASE,
    )
    before = graph_snapshot(writable_demo_bank)
    export_csv(writable_demo_bank, DATABASE, tmp_path / "export")
    report = run(writable_demo_bank, tmp_path / "export")
    assert report.accepted, messages(report)
    assert all(f.unchanged == f.read for f in report.files)
    assert graph_snapshot(writable_demo_bank) == before


def rejected(driver: Driver, folder: Path) -> list[str]:
    """Import `folder`, which must be rejected without touching the graph; its problems."""
    before = graph_snapshot(driver)
    report = run(driver, folder)
    assert not report.accepted and not report.written
    assert graph_snapshot(driver) == before
    return messages(report)


@pytest.fixture
def seeded(empty_graph: Driver, tmp_path: Path) -> Driver:
    """The small bank already in the graph: hostile files are imported on top of it."""
    assert run(empty_graph, write_set(tmp_path / "seed", dict(SMALL_BANK))).accepted
    return empty_graph


def variant(tmp_path: Path, **files: str | bytes) -> Path:
    """The small bank with some files replaced (keys are file names without .csv)."""
    changed: dict[str, str | bytes] = dict(SMALL_BANK)
    changed.update({f"{name}.csv": content for name, content in files.items()})
    return write_set(tmp_path / "variant", changed)


HOLDINGS_HEADER = "clientId,productId,balance,since,active\n"
CLIENTS_HEADER = "id,name,kind,segment,status,grade,riskRating,industry,region\n"
RELATIONS_HEADER = "fromId,toId,kind,role,reciprocalRole\n"


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {"clients": CLIENTS_HEADER.encode("utf-16") + "c-9,某,CORPORATE".encode("utf-16")},
            "clients.csv:1: is UTF-16; the importer reads UTF-8",
        ),
        (
            {
                "clients": (
                    CLIENTS_HEADER + "c-1,华东钢铁,CORPORATE,EXISTING,ACTIVE,A,3,钢铁,华东\n"
                ).encode("gb18030")
            },
            "clients.csv:2: is not UTF-8",
        ),
        (
            {"holdings": "clientId,productId,balance,since\nc-1,p-dep,1.00,2020-01-01\n"},
            "holdings.csv:1: misses column(s) active",
        ),
        (
            {"holdings": "clientId,productId,balance,since,active,branch\n"},
            "holdings.csv:1: has unexpected column(s) branch",
        ),
        (
            {
                "holdings": HOLDINGS_HEADER + "c-1,p-dep,1.00,2020-01-01,true\n"
                "c-2,p-dep,1.00,2020-01-01,true\nc-1,p-dep,2.00,2020-01-01,true\n"
            },
            "holdings.csv:4: repeats the link of line 2 (clientId, productId)",
        ),
        (
            {"clients": SMALL_BANK["clients.csv"] + "c-1,又一个,CORPORATE,NEW,ACTIVE,,1,,\n"},
            "clients.csv:4: column id: repeats the id of line 2",
        ),
        (
            {"holdings": HOLDINGS_HEADER + "c-404,p-dep,1.00,2020-01-01,true\n"},
            "holdings.csv:2: column clientId: refers to Client 'c-404', which is neither in the "
            "graph nor in this import",
        ),
        (
            {"holdings": HOLDINGS_HEADER + "c-1,p-dep,-5.00,2020-01-01,true\n"},
            "holdings.csv:2: column balance: -5.00 is negative",
        ),
        (
            {
                "client_relations": RELATIONS_HEADER + "c-2,c-1,KEY_PERSON,法人代表,任职企业\n"
                "c-1,c-2,ECONOMIC_DEPENDENCE,DEPENDENT,DEPENDED_ON\n"
                "c-1,c-2,KEY_PERSON,任职企业,法人代表\n"
            },
            "client_relations.csv:4: links the two clients of line 2 the other way, as the same "
            "kind: a link is given once, in one direction",
        ),
        (
            {"controls": "fromId,toId,share,basis\nc-1,c-2,100.5,EQUITY\n"},
            "controls.csv:2: column share: 100.5 is out of range: must be at most 100",
        ),
        (
            {"holdings": HOLDINGS_HEADER + "c-1,p-dep,1.00,2020-01-01\n"},
            "holdings.csv:2: has 4 fields; the header has 5",
        ),
        (
            {
                "clients": CLIENTS_HEADER
                + 'c-1,"华东\n钢铁",CORPORATE,EXISTING,ACTIVE,A,3,钢铁,华东\n'
                "c-2,华东贸易,CORPORATE,NEW,ACTIVE,,x,,\n"
            },
            "clients.csv:4: column riskRating: 'x' is not a whole number",
        ),
        (
            {
                "clients": CLIENTS_HEADER
                + 'c-1,"华东\n钢铁",CORPORATE,EXISTING,ACTIVE,A,3,钢铁,华东\n'
            },
            "clients.csv:2: column name: must be one line without control characters",
        ),
        (
            {"guarantees": "guarantorId,facilityId,amount\nc-1,f-1,10.00\n"},
            "guarantees.csv:2: column guarantorId: guarantees its own facility",
        ),
        (
            {
                "client_managers": SMALL_BANK["client_managers.csv"].replace(
                    "m-2,c-1,SECONDARY", "m-2,c-1,PRIMARY"
                )
            },
            "client 'c-1' would have 2 primary managers (m-1, m-2)",
        ),
        (
            {"clients": SMALL_BANK["clients.csv"] + "c-3,无人管,INDIVIDUAL,NEW,ACTIVE,,1,,\n"},
            "clients.csv:4: column id: client 'c-3' has no primary manager",
        ),
        (
            {"direct_reports": "fromId,toId,since\nd-hq,d-ka-east,2020-01-01\n"},
            "would put department 'd-hq' under itself",
        ),
        (
            {"direct_reports": "fromId,toId,since\nd-ka-east,d-hq,2020-01-01\n"},
            "department 'd-ka-east' would have two direct parents ('d-ka' and 'd-hq')",
        ),
        (
            {"check_links": "fromId,toId,since,scope\nd-ka,d-ka-east,2020-01-01,\n"},
            "'d-ka' is a direct ancestor or descendant of 'd-ka-east'",
        ),
        (
            {"guarantees": "guarantorId,facilityId,amount\nc-2,f-1,5000000.01\n"},
            "guarantees.csv:2: column amount: is above the facility's limit",
        ),
        (
            {
                "clients": SMALL_BANK["clients.csv"].replace(
                    "c-1,华东钢铁,CORPORATE,EXISTING", "c-1,华东钢铁,CORPORATE,NEW"
                )
            },
            "clients.csv:2: column segment: the client is existing (存量) in the graph",
        ),
        (
            {
                "clients": SMALL_BANK["clients.csv"].replace(
                    "c-1,华东钢铁,CORPORATE,EXISTING,ACTIVE,A",
                    "c-1,华东钢铁,CORPORATE,EXISTING,PROSPECT,A",
                )
            },
            "clients.csv:2: column status: the client is active in the graph and does not become a "
            "prospect again",
        ),
        (
            {
                "facilities": SMALL_BANK["facilities.csv"].replace(
                    ",CNY,d-ka-east,", ",XYZ,d-ka-east,"
                )
            },
            "facilities.csv:2: column currency: XYZ has no exchange rate to the reporting currency",
        ),
        (
            {"client": CLIENTS_HEADER},
            "client.csv:1: is not a file of the import format",
        ),
        # On a case-sensitive disk these were skipped without a word.
        (
            {"Holdings": HOLDINGS_HEADER},
            "Holdings.csv:1: is named holdings.csv in the import format",
        ),
    ],
    ids=lambda v: next(iter(v)) if isinstance(v, dict) else None,
)
def test_hostile_files_are_reported_and_change_nothing(
    seeded: Driver, tmp_path: Path, files: dict[str, str | bytes], expected: str
) -> None:
    problems = rejected(seeded, variant(tmp_path, **files))
    assert any(expected in p for p in problems), problems


def test_a_bom_is_fine_and_columns_may_come_in_any_order(
    empty_graph: Driver, tmp_path: Path
) -> None:
    reordered = "region,id,name,kind,segment,status,grade,riskRating,industry\n"
    reordered += "华东,c-1,华东钢铁,CORPORATE,EXISTING,ACTIVE,A,3,钢铁\n,c-2,华东贸易,CORPORATE,NEW,ACTIVE,,2,\n"
    folder = variant(tmp_path, clients=b"\xef\xbb\xbf" + reordered.encode("utf-8"))
    report = run(empty_graph, folder)
    assert report.accepted, messages(report)
    records, _, _ = empty_graph.execute_query(
        "MATCH (c:Client {id: 'c-1'}) RETURN c.region AS region, c.name AS name",
        database_=DATABASE,
    )
    assert records[0].data() == {"region": "华东", "name": "华东钢铁"}


def test_one_bad_row_among_many_rejects_the_whole_import(
    empty_graph: Driver, tmp_path: Path
) -> None:
    rows = HOLDINGS_HEADER + "c-1,p-dep,1.00,2020-01-01,true\nc-2,p-loan,1.00,2020-13-01,true\n"
    problems = rejected(empty_graph, variant(tmp_path, holdings=rows))
    assert problems == ["holdings.csv:3: column since: '2020-13-01' is not a date (YYYY-MM-DD)"]


def test_a_missing_folder_is_reported(empty_graph: Driver, tmp_path: Path) -> None:
    problems = rejected(empty_graph, tmp_path / "nowhere")
    assert problems and "is not a folder" in problems[0]


def test_references_may_point_into_the_graph(seeded: Driver, tmp_path: Path) -> None:
    """A delta import names only what changed; the rest is already in the graph."""
    folder = write_set(
        tmp_path / "delta",
        {"holdings.csv": HOLDINGS_HEADER + "c-2,p-loan,300.00,2024-05-01,true\n"},
    )
    report = run(seeded, folder)
    assert report.accepted, messages(report)
    assert counts(report) == {"holdings.csv": (1, 1, 0, 0, 0)}


def test_partial_copy_of_the_demo_is_refused_for_orphans(
    empty_graph: Driver, tmp_path: Path
) -> None:
    folder = tmp_path / "demo-without-clients"
    shutil.copytree(DEMO_CSV, folder)
    (folder / "clients.csv").unlink()
    problems = rejected(empty_graph, folder)
    assert any("refers to Client 'cli-hdsteel'" in p for p in problems)


def test_a_client_link_the_graph_holds_the_other_way_is_refused(
    seeded: Driver, tmp_path: Path
) -> None:
    """The graph links c-2 to c-1 (SUPPLY_CHAIN, c-2 the supplier)."""
    reverse = RELATIONS_HEADER + "c-1,c-2,SUPPLY_CHAIN,CUSTOMER,SUPPLIER\n"
    assert rejected(seeded, write_set(tmp_path / "reverse", {"client_relations.csv": reverse})) == [
        "client_relations.csv:2: the graph links 'c-2' to 'c-1' as SUPPLY_CHAIN already (the "
        "other way): give that link, not a second one"
    ]
    # Another kind the other way, and the link restated as the graph holds it, are taken.
    fine = (
        RELATIONS_HEADER + "c-1,c-2,ECONOMIC_DEPENDENCE,DEPENDENT,DEPENDED_ON\n"
        "c-2,c-1,SUPPLY_CHAIN,主要供应商,CUSTOMER\n"
    )
    report = run(seeded, write_set(tmp_path / "fine", {"client_relations.csv": fine}))
    assert report.accepted, messages(report)
    assert counts(report)["client_relations.csv"] == (2, 1, 1, 0, 0)


def test_a_graph_linked_both_ways_still_imports_its_own_export(
    seeded: Driver, tmp_path: Path
) -> None:
    """Both directions, as an import before the check could leave them: the export restates
    them, and restating is not refused."""
    seeded.execute_query(
        "MATCH (a:Client {id: 'c-1'}), (b:Client {id: 'c-2'}) CREATE (a)-[:RELATED_TO "
        "{kind: 'SUPPLY_CHAIN', role: 'CUSTOMER', reciprocalRole: 'SUPPLIER'}]->(b)",
        database_=DATABASE,
    )
    before = graph_snapshot(seeded)
    export_csv(seeded, DATABASE, tmp_path / "export")
    report = run(seeded, tmp_path / "export")
    assert report.accepted, messages(report)
    assert counts(report)["client_relations.csv"] == (2, 0, 0, 2, 0)
    assert graph_snapshot(seeded) == before


def test_a_batch_past_the_memory_limit_stops_the_import_at_once(
    empty_graph: Driver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database stops a transaction past its own memory limit; retrying it would only take
    the memory again (for up to 30 s), so the import stops at the first try, its batch unwritten."""
    tries = 0
    apply_rows = csv_import._apply_rows

    def hungry(tx: ManagedTransaction, *args: Any) -> csv_import.BatchCounts:
        nonlocal tries
        tries += 1
        tx.run(HUNGRY).consume()
        return apply_rows(tx, *args)

    monkeypatch.setattr(csv_import, "_apply_rows", hungry)
    before = graph_snapshot(empty_graph)
    folder = write_set(tmp_path / "bank", {"departments.csv": SMALL_BANK["departments.csv"]})
    with pytest.raises(QueryTooLarge) as stopped:
        run(empty_graph, folder)
    assert tries == 1
    assert stopped.value.where == (
        "departments.csv, batch 1 (rows 1-5); the batches before it are written: import again "
        "with a smaller --batch-size (this one was 5000) or raise the server's "
        "db.memory.transaction.max"
    )
    assert graph_snapshot(empty_graph) == before


def test_a_file_named_in_another_case_or_a_folder_named_as_a_file_is_refused(
    seeded: Driver, tmp_path: Path
) -> None:
    folder = variant(tmp_path)
    (folder / "clients.csv").rename(folder / "clients.CSV")
    (folder / "holdings.csv").unlink()
    (folder / "holdings.csv").mkdir()
    assert rejected(seeded, folder) == [
        "clients.CSV:1: is named clients.csv in the import format",
        "holdings.csv:1: is not a file",
    ]


def test_what_is_written_is_what_was_checked(seeded: Driver, tmp_path: Path) -> None:
    """clients.csv is replaced in the folder once the check has passed (a sync job, an export
    into the same folder): the import writes the copy it checked, not the new file, whose
    nameless row would have been written unchecked."""
    folder = variant(
        tmp_path, clients=SMALL_BANK["clients.csv"].replace("华东贸易", "华东贸易集团")
    )

    def replace_after_check(phase: str, _rows: int) -> None:
        if phase == "writing":
            (folder / "clients.csv").write_text(CLIENTS_HEADER + "c-2,,CORPORATE,NEW,ACTIVE,,2,,\n")

    report = import_csv(seeded, DATABASE, folder, on_phase=replace_after_check)
    assert report.accepted, messages(report)
    records, _, _ = seeded.execute_query(
        "MATCH (c:Client) RETURN c.id AS id, c.name AS name ORDER BY id", database_=DATABASE
    )
    assert [r.data() for r in records] == [
        {"id": "c-1", "name": "华东钢铁"}, {"id": "c-2", "name": "华东贸易集团"},
    ]  # fmt: skip


def test_an_approval_keeps_its_date_when_its_facility_row_changes(
    seeded: Driver, tmp_path: Path
) -> None:
    """facilities.csv has no approval date: approveFacility's stays when a row restating the
    approver changes something else (here what is drawn)."""
    seeded.execute_query(
        "MATCH (:Department {id: 'd-risk'})-[a:APPROVED]->(:Facility {id: 'f-1'}) "
        "SET a.at = date('2023-01-05')",
        database_=DATABASE,
    )
    folder = variant(tmp_path, facilities=SMALL_BANK["facilities.csv"].replace(
        "5000000.00,1000000.00", "5000000.00,1500000.00"
    ))  # fmt: skip
    report = run(seeded, folder)
    assert report.accepted, messages(report)
    assert counts(report)["facilities.csv"] == (2, 0, 1, 1, 0)
    records, _, _ = seeded.execute_query(
        "MATCH (d:Department)-[a:APPROVED]->(f:Facility {id: 'f-1'}) "
        "RETURN d.id AS approver, toString(a.at) AS at, f.drawnCents AS drawn",
        database_=DATABASE,
    )
    assert [r.data() for r in records] == [
        {"approver": "d-risk", "at": "2023-01-05", "drawn": 150000000}
    ]


def test_a_level_the_file_changes_goes_into_the_grade_history(
    seeded: Driver, tmp_path: Path
) -> None:
    """m-2 was promoted to SENIOR through the API; last week's export, re-imported, has
    MANAGER: the level goes back, and the history says so rather than still naming SENIOR."""
    seeded.execute_query(
        "MATCH (m:Manager {id: 'm-2'}) SET m.level = 'SENIOR' "
        "CREATE (:GradeChange {id: 'g-1', scheme: 'BANK', kind: 'PROMOTION', fromGrade: "
        "'MANAGER', toGrade: 'SENIOR', exceptional: false, by: 'admin', "
        "at: datetime() - duration('P1D')})-[:OF]->(m)",
        database_=DATABASE,
    )
    report = run(seeded, variant(tmp_path))
    assert report.accepted, messages(report)
    assert counts(report)["managers.csv"] == (2, 0, 1, 1, 0)
    records, _, _ = seeded.execute_query(
        "MATCH (g:GradeChange)-[:OF]->(m:Manager {id: 'm-2'}) "
        "RETURN m.level AS level, g.kind AS kind, g.fromGrade AS fromGrade, "
        "g.toGrade AS toGrade, g.by AS by ORDER BY g.at DESC",
        database_=DATABASE,
    )
    assert [r.data() for r in records] == [
        {"level": "MANAGER", "kind": "IMPORT", "fromGrade": "SENIOR", "toGrade": "MANAGER",
         "by": "rmgraph import"},
        {"level": "MANAGER", "kind": "PROMOTION", "fromGrade": "MANAGER", "toGrade": "SENIOR",
         "by": "admin"},
    ]  # fmt: skip
    # Imported again, nothing changes and nothing more is recorded.
    again = run(seeded, variant(tmp_path / "again"))
    assert counts(again)["managers.csv"] == (2, 0, 0, 2, 0)
    records, _, _ = seeded.execute_query(
        "MATCH (g:GradeChange)-[:OF]->(:Manager {id: 'm-2'}) RETURN count(g) AS n",
        database_=DATABASE,
    )
    assert records[0]["n"] == 2
