"""`rmgraph import` and `rmgraph export` as a user runs them (against the session's Neo4j,
which `NEO4J_URI` names once the `neo4j_conn` fixture is up)."""

from __future__ import annotations

import fcntl
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from neo4j import Driver, ManagedTransaction, Session

from api.cli import default_actor, main
from graph import bank_snapshot, csv_export, csv_import
from graph.csv_import import import_csv
from graph.local_server import Connection
from tests.conftest import DATABASE, graph_snapshot
from tests.graph.test_csv_import import SMALL_BANK, write_set
from tests.graph.test_db import HUNGRY

REFERENCE_DATA = {"RiskSettings", "GradingScheme", "Grade", "GradeRequirement",
                  "KeyAccountSettings", "ManagementPlan"}  # fmt: skip


def data_nodes(driver: Driver) -> list[object]:
    """Nodes other than the settings and reference data the migration writes on start."""
    return [n for n in graph_snapshot(driver)["nodes"] if not set(n[0]) & REFERENCE_DATA]


def row(out: str, file: str) -> list[str]:
    """The counts printed for one file: read, created, updated, unchanged, rejected."""
    return next(line.split()[1:] for line in out.splitlines() if line.startswith(file + " "))


def test_import_dry_run_then_import_then_export(
    empty_graph: Driver,
    neo4j_conn: Connection,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = write_set(tmp_path / "bank", SMALL_BANK)
    data_nodes_before = data_nodes(empty_graph)
    main(["import", str(folder), "--dry-run", "--quiet"])
    out = capsys.readouterr().out
    assert "nothing written (dry run)" in out
    assert row(out, "clients.csv") == ["2", "2", "0", "0", "0"]
    assert data_nodes(empty_graph) == data_nodes_before

    main(["import", str(folder), "--quiet"])
    assert "imported" in capsys.readouterr().out
    main(["export", str(tmp_path / "out")])
    out = capsys.readouterr().out
    assert row(out, "holdings.csv") == ["2"]
    assert (
        (tmp_path / "out" / "clients.csv")
        .read_text(encoding="utf-8")
        .startswith(
            "id,name,kind,segment,status,grade,riskRating,industry,region,unifiedLimit,"
            "unifiedLimitCurrency\nc-1,华东钢铁,"
        )
    )


def test_an_export_warns_of_writes_made_while_it_ran(
    empty_graph: Driver,
    neo4j_conn: Connection,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    main(["import", str(write_set(tmp_path / "bank", SMALL_BANK)), "--quiet"])
    main(["export", str(tmp_path / "quiet")])
    assert "warning" not in capsys.readouterr().err

    export_csv = csv_export.export_csv

    renamed = {"clients.csv": SMALL_BANK["clients.csv"].replace("华东钢铁", "华东钢铁集团")}
    changed = write_set(tmp_path / "changed", renamed)

    def written_meanwhile(driver: Driver, database: str, folder: Path) -> dict[str, int]:
        # An import (audited, as the API's writes are) while the tables are read.
        assert import_csv(driver, database, changed).written
        return export_csv(driver, database, folder)

    monkeypatch.setattr(csv_export, "export_csv", written_meanwhile)
    main(["export", str(tmp_path / "busy")])
    err = capsys.readouterr().err
    assert "warning: 1 write(s) through the API or an import during the export" in err
    assert (tmp_path / "busy" / "clients.csv").exists()  # the files are still written


def test_an_import_names_its_actor_in_the_audit_records(
    empty_graph: Driver,
    neo4j_conn: Connection,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = write_set(tmp_path / "bank", {"departments.csv": SMALL_BANK["departments.csv"]})
    with pytest.raises(SystemExit) as exit_:
        main(["import", str(folder), "--quiet", "--actor", "ops\nforged log line"])
    assert exit_.value.code == 2
    assert "must not contain control characters" in capsys.readouterr().err
    main(["import", str(folder), "--quiet", "--actor", "ops:张三"])

    monkeypatch.setenv("USER", "batch-runner")
    monkeypatch.setenv("LOGNAME", "batch-runner")
    renamed = SMALL_BANK["departments.csv"].replace("总行", "总行（新）")
    main(["import", str(write_set(tmp_path / "renamed", {"departments.csv": renamed})), "--quiet"])
    # An account name that would forge a log line is not taken from the environment either.
    monkeypatch.setenv("LOGNAME", "ops\nforged log line")
    assert default_actor() == "cli:unknown"
    records, _, _ = empty_graph.execute_query(
        "MATCH (a:AuditRecord)-[:CHANGED]->(:Department {id: 'd-hq'}) "
        "RETURN a.actor AS actor ORDER BY a.at",
        database_=DATABASE,
    )
    assert [r["actor"] for r in records] == ["ops:张三", "cli:batch-runner"]


def test_rejected_import_exits_non_zero_and_lists_problems(
    empty_graph: Driver,
    neo4j_conn: Connection,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    files = dict(SMALL_BANK)
    files["controls.csv"] = "fromId,toId,share,basis\nc-1,c-2,120,EQUITY\n"
    folder = write_set(tmp_path / "bad", files)
    with pytest.raises(SystemExit) as exit_:
        main(["import", str(folder), "--quiet"])
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert "controls.csv:2: column share: 120 is out of range: must be at most 100" in err
    assert "rejected: 1 problem(s); nothing was written." in err
    assert data_nodes(empty_graph) == []


def test_batch_size_is_checked_and_a_batch_too_large_is_named(
    empty_graph: Driver,
    neo4j_conn: Connection,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = write_set(tmp_path / "bank", {"departments.csv": SMALL_BANK["departments.csv"]})
    for wrong in ("0", "-1", "2.5", "50001", "many"):
        with pytest.raises(SystemExit) as exit_:
            main(["import", str(folder), "--quiet", "--batch-size", wrong])
        assert exit_.value.code == 2
        assert "a whole number of rows from 1 to 50,000" in capsys.readouterr().err
    assert data_nodes(empty_graph) == []

    apply_rows = csv_import._apply_rows

    def hungry_second_batch(tx: ManagedTransaction, *args: Any) -> csv_import.BatchCounts:
        if args[-1] == 2:  # the batch number
            tx.run(HUNGRY).consume()
        return apply_rows(tx, *args)

    monkeypatch.setattr(csv_import, "_apply_rows", hungry_second_batch)
    with pytest.raises(SystemExit) as exit_:
        main(["import", str(folder), "--quiet", "--batch-size", "2"])
    assert exit_.value.code == 2
    assert (
        "departments.csv, batch 2 (rows 3-4); the batches before it are written: import again "
        "with a smaller --batch-size (this one was 2)"
    ) in capsys.readouterr().err
    written, _, _ = empty_graph.execute_query(
        "MATCH (d:Department) RETURN d.id AS id ORDER BY id", database_=DATABASE
    )
    assert [r["id"] for r in written] == ["d-hq", "d-ka"]  # the first batch

    monkeypatch.setattr(csv_import, "_apply_rows", apply_rows)
    main(["import", str(folder), "--quiet", "--batch-size", "2"])
    assert row(capsys.readouterr().out, "departments.csv") == ["5", "3", "0", "2", "0"]


def test_an_export_stopped_by_sigterm_or_in_the_way_changes_nothing(
    empty_graph: Driver,
    neo4j_conn: Connection,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    main(["import", str(write_set(tmp_path / "bank", SMALL_BANK)), "--quiet"])
    out = tmp_path / "out"
    main(["export", str(out)])
    earlier = {p.name: p.read_bytes() for p in out.iterdir()}
    real = bank_snapshot.stream_section

    def terminated(session: Session, section: str) -> Iterator[dict[str, Any]]:
        if section == "managers":  # as `kill` would, half-way through the tables
            os.kill(os.getpid(), signal.SIGTERM)
        return real(session, section)

    monkeypatch.setattr(csv_export, "stream_section", terminated)
    ours = signal.getsignal(signal.SIGTERM)
    with pytest.raises(SystemExit) as exit_:
        main(["export", str(out)])
    assert exit_.value.code == 143
    assert signal.getsignal(signal.SIGTERM) is ours  # the process's own handler is back
    assert {p.name: p.read_bytes() for p in out.iterdir()} == earlier  # no staging folder left

    monkeypatch.undo()
    (out / "clients.csv").unlink()
    (out / "clients.csv").mkdir()
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:
        main(["export", str(out)])
    assert exit_.value.code == 2
    assert "clients.csv is in the way" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == sorted(earlier)

    (out / "clients.csv").rmdir()
    with (out / csv_export.EXPORT_LOCK).open("a") as running:
        fcntl.flock(running, fcntl.LOCK_EX | fcntl.LOCK_NB)  # another export, still reading
        with pytest.raises(SystemExit) as exit_:
            main(["export", str(out)])
    assert exit_.value.code == 2
    assert f"another export is writing into {out}" in capsys.readouterr().err
