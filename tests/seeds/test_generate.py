"""The generated bank: deterministic, the same however it is chunked, and consistent."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from neo4j import Driver

from graph.bulk_load import load_bank
from graph.csv_export import export_csv
from graph.csv_import import import_csv
from seeds.generate import chunks
from tests.conftest import DATABASE, WIPE, graph_snapshot


def _flat(clients: int, seed: int, chunk_clients: int) -> dict[str, list[Any]]:
    merged: dict[str, list[Any]] = {}
    for chunk in chunks(clients, seed, chunk_clients):
        for name, rows in vars(chunk).items():
            merged.setdefault(name, []).extend(rows)
    return merged


def test_same_bank_however_chunked_and_seeded() -> None:
    assert _flat(2000, 5, 300) == _flat(2000, 5, 2000)
    assert _flat(1000, 5, 1000) != _flat(1000, 6, 1000)


def test_shape_of_a_generated_bank() -> None:
    bank = _flat(3000, 1, 1000)
    assert len(bank["clients"]) == 3000
    ids = {c["id"] for c in bank["clients"]}
    primaries = Counter(m["clientId"] for m in bank["manages"] if m["role"] == "PRIMARY")
    assert set(primaries) == ids and set(primaries.values()) == {1}
    assert 2.5 <= len(bank["holdings"]) / 3000 <= 4.0
    facilities = {f["id"]: f for f in bank["facilities"]}
    assert all(0 <= f["drawnCents"] <= f["limitCents"] for f in facilities.values())
    assert all(g["facilityId"] in facilities for g in bank["guarantees"])
    assert all(
        g["guarantorId"] != facilities[g["facilityId"]]["borrowerId"] for g in bank["guarantees"]
    )
    referenced = {r["fromId"] for r in bank["related"]} | {r["toId"] for r in bank["related"]}
    assert referenced <= ids
    # A link between two clients is given once per kind, in one direction.
    pairs = Counter((frozenset((r["fromId"], r["toId"])), r["kind"]) for r in bank["related"])
    assert max(pairs.values()) == 1
    assert {f["type"] for f in facilities.values()} >= {"LOAN", "ACCEPTANCE", "GUARANTEE"}
    # About ten relationships per client (a facility has three: borrower, granter, approver).
    links = sum(len(bank[k]) for k in ("manages", "holdings", "controls", "related", "guarantees"))
    links += 3 * len(facilities)
    assert links / 3000 >= 9


def test_a_generated_bank_exports_and_imports_into_an_empty_graph(
    empty_graph: Driver, tmp_path: Path
) -> None:
    """What the loader writes, the importer's checks take: the generator keeps the rules a bank's
    files are held to."""
    for chunk in chunks(1000, 3):
        load_bank(empty_graph, DATABASE, chunk)
    written = export_csv(empty_graph, DATABASE, tmp_path / "bank")
    before = graph_snapshot(empty_graph)
    empty_graph.execute_query(WIPE, database_=DATABASE)
    report = import_csv(empty_graph, DATABASE, tmp_path / "bank")
    assert report.accepted, [str(p) for p in report.problems.kept[:10]]
    assert {f.file: f.created for f in report.files} == written
    assert _bank_of(graph_snapshot(empty_graph)) == _bank_of(before)


def _bank_of(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The snapshot without the import's audit records and locks (the currencies it brought
    money in) and when departments were created."""
    return {
        "nodes": [
            (labels, {k: v for k, v in props.items() if k != "createdAt"})
            for labels, props in snapshot["nodes"]
            if "AuditRecord" not in labels and "OrgLock" not in labels
        ],
        # Links between the same two nodes (client links of several kinds) come in any order.
        "rels": sorted(repr(r) for r in snapshot["rels"] if r[1] != "CHANGED"),
    }
