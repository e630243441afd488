"""Cross-sell and introductions at their edges: archived clients, ties of length, the cap."""

from __future__ import annotations

from typing import Any

import pytest
from neo4j import Driver

import graph.introductions
from graph.bank_rows import BankRows, HoldingRow
from graph.db import Db
from seeds.loader import load
from tests.conftest import DATABASE
from tests.gql import execute
from tests.schema.test_cross_sell import _client, _product

PATHS = '{ crossSellPaths(clientId: "k") { product { id } productIds score } }'


def _bank(
    clients: list[Any], products: list[Any], held: dict[str, list[str]], links: list[Any]
) -> BankRows:
    """One manager, mA, is primary of every client."""
    bank = BankRows()
    bank.departments = [{"id": "d", "name": "d", "function": "CLIENT", "model": "CLIENT"}]
    bank.managers = [{
        "id": "mA", "name": "m", "level": "MANAGER", "education": "BACHELOR", "title": "NONE",
        "creditYears": 2, "departmentId": "d", "reportsToId": None, "since": "2020-01-01",
    }]  # fmt: skip
    bank.clients = clients
    bank.manages = [
        {"managerId": "mA", "clientId": c["id"], "role": "PRIMARY", "since": "2020-01-01"}
        for c in clients
    ]
    bank.products = products
    bank.holdings = [
        HoldingRow(clientId=c, productId=p, balanceCents=100, since="2021-01-01", active=True)
        for c, ps in held.items()
        for p in ps
    ]
    bank.cross_sells = links
    return bank


def _link(a: str, b: str, confidence: float, lift: float) -> Any:
    return {"fromId": a, "toId": b, "support": 0.1, "confidence": confidence, "lift": lift,
            "pinned": True}  # fmt: skip


async def test_an_archived_client_is_offered_nothing(empty_graph: Driver, db: Db) -> None:
    load(empty_graph, DATABASE, _bank(
        [_client("k", status="ARCHIVED")], [_product("A"), _product("B")], {"k": ["A"]},
        [_link("A", "B", 0.5, 2.0)],
    ), quiet=True)  # fmt: skip
    data, errors, _ = await execute(db, PATHS)
    assert errors == [] and data == {"crossSellPaths": []}


async def test_equal_scores_and_lifts_go_to_the_shorter_path(empty_graph: Driver, db: Db) -> None:
    """Z (A→Z) and Y (A→B→Y, B too risky to offer) both score 0.5 with lift 2: Z first."""
    load(empty_graph, DATABASE, _bank(
        [_client("k", risk=3)],
        [_product("A"), _product("B", risk=5), _product("Y"), _product("Z")], {"k": ["A"]},
        [_link("A", "Z", 0.5, 2.0), _link("A", "B", 1.0, 2.0), _link("B", "Y", 0.5, 2.0)],
    ), quiet=True)  # fmt: skip
    data, errors, _ = await execute(db, PATHS)
    assert errors == [] and data is not None
    assert [(p["product"]["id"], p["productIds"]) for p in data["crossSellPaths"]] == [
        ("Z", ["A", "Z"]),
        ("Y", ["A", "B", "Y"]),
    ]


async def test_a_densely_linked_catalogue_is_searched_hop_by_hop(
    empty_graph: Driver, db: Db
) -> None:
    """30 products each linked to every other: 570,000 paths of four links from one product,
    which the search must not walk one by one (it used to time out)."""
    ids = [f"P{i:02d}" for i in range(30)]
    links = [_link(a, b, 0.3, 1.5) for a in ids for b in ids if a != b]
    load(empty_graph, DATABASE, _bank(
        [_client("k", risk=5)], [_product(p) for p in ids], {"k": ["P00"]}, links,
    ), quiet=True)  # fmt: skip
    query = '{ crossSellPaths(clientId: "k", maxHops: 4, first: 5) { product { id } productIds score } }'
    data, errors, _ = await execute(db, query)
    assert errors == [] and data is not None
    # Every product is one link away: the one-link paths win, in id order.
    assert [(p["product"]["id"], p["productIds"], p["score"]) for p in data["crossSellPaths"]] == [
        (p, ["P00", p], 0.3) for p in ids[1:6]
    ]


async def test_truncated_only_when_the_cap_cut_the_search(
    empty_graph: Driver, db: Db, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Four clients outside mA's book link to the prospect z. With the cap at 2, a one-hop
    search expands no level past it and is complete; a two-hop search cuts the first level."""
    monkeypatch.setattr(graph.introductions, "FRONTIER_CAP", 2)
    bank = _bank([_client("k")], [], {}, [])
    bank.clients += [_client("z", status="PROSPECT")] + [_client(f"n{i}") for i in range(4)]
    bank.related = [
        {"fromId": f"n{i}", "toId": "z", "kind": "FAMILY", "role": "R", "reciprocalRole": "R"}
        for i in range(4)
    ]
    load(empty_graph, DATABASE, bank, quiet=True)
    empty_graph.execute_query(
        "MATCH (:Manager)-[r:MANAGES]->(c:Client) WHERE c.id STARTS WITH 'n' DELETE r",
        database_=DATABASE,
    )
    query = """query ($hops: Int!) { introductionPaths(managerId: "mA", prospectId: "z",
      maxHops: $hops) { chains { fromId } reason truncated } }"""
    for hops, truncated in ((1, False), (2, True)):
        data, errors, _ = await execute(db, query, {"hops": hops})
        assert errors == [] and data is not None
        assert data["introductionPaths"] == {
            "chains": [], "reason": "NO_PATH_WITHIN_MAX_HOPS", "truncated": truncated,
        }, hops  # fmt: skip


async def test_truncated_when_the_chain_cap_left_chains_out(
    empty_graph: Driver, db: Db, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three of mA's clients are each one link from the prospect z: three shortest chains. A
    cap of three returns them all; a cap of two returns the first two and says so."""
    bank = _bank([_client("k"), _client("z", status="PROSPECT")] + [
        _client(f"n{i}") for i in range(3)
    ], [], {}, [])  # fmt: skip
    bank.related = [
        {"fromId": f"n{i}", "toId": "z", "kind": "FAMILY", "role": "R", "reciprocalRole": "R"}
        for i in range(3)
    ]
    load(empty_graph, DATABASE, bank, quiet=True)
    query = """{ introductionPaths(managerId: "mA", prospectId: "z", maxHops: 2) {
      chains { fromId toId } reason truncated } }"""
    for cap, starts, truncated in ((3, ["n0", "n1", "n2"], False), (2, ["n0", "n1"], True)):
        monkeypatch.setattr(graph.introductions, "CHAIN_CAP", cap)
        data, errors, _ = await execute(db, query)
        assert errors == [] and data is not None
        assert data["introductionPaths"] == {
            "chains": [[{"fromId": s, "toId": "z"}] for s in starts],
            "reason": None,
            "truncated": truncated,
        }, cap
