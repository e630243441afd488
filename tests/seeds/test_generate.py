"""The generated bank: deterministic, the same however it is chunked, and consistent."""

from __future__ import annotations

from collections import Counter
from typing import Any

from seeds.generate import chunks


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
    assert {f["type"] for f in facilities.values()} >= {"LOAN", "ACCEPTANCE", "GUARANTEE"}
    # About ten relationships per client (a facility has three: borrower, granter, approver).
    links = sum(len(bank[k]) for k in ("manages", "holdings", "controls", "related", "guarantees"))
    links += 3 * len(facilities)
    assert links / 3000 >= 9
