"""The demo bank's promises, checked on the rows (no database)."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import pytest
from neo4j import Driver

from graph.bank_rows import BankRows
from seeds import demo
from seeds.demo import build_demo_bank, compute_cross_sells
from seeds.loader import load_demo
from tests.conftest import DATABASE


@pytest.fixture(scope="module")
def bank() -> BankRows:
    return build_demo_bank()


def test_sizes(bank: BankRows) -> None:
    assert len(bank.managers) >= 40
    assert len(bank.clients) >= 300
    assert len(bank.products) >= 15
    assert len(bank.facilities) >= 60
    assert {f["type"] for f in bank.facilities} == set(demo.FACILITY_TYPES)
    assert {m["level"] for m in bank.managers} == {"ASSISTANT", "MANAGER", "SENIOR", "PRINCIPAL"}
    assert {c["kind"] for c in bank.clients} == {"CORPORATE", "INDIVIDUAL", "INTERBANK"}
    assert {c["segment"] for c in bank.clients} == {"EXISTING", "NEW"}
    assert {"A", "B", "C"} <= {c["grade"] for c in bank.clients}


def test_ids_are_unique(bank: BankRows) -> None:
    for rows in (bank.departments, bank.managers, bank.clients, bank.products, bank.facilities):
        ids = [r["id"] for r in rows]
        assert len(ids) == len(set(ids))


def test_every_active_client_has_exactly_one_primary(bank: BankRows) -> None:
    primaries = Counter(m["clientId"] for m in bank.manages if m["role"] == "PRIMARY")
    for client in bank.clients:
        if client["status"] == "ACTIVE":
            assert primaries[client["id"]] == 1, client["id"]
    pairs = [(m["managerId"], m["clientId"]) for m in bank.manages]
    assert len(pairs) == len(set(pairs))


def _parents(bank: BankRows) -> dict[str, str]:
    return {link["fromId"]: link["toId"] for link in bank.direct_links}


def _ancestors(parents: dict[str, str], node: str) -> set[str]:
    seen: set[str] = set()
    while node in parents:
        node = parents[node]
        assert node not in seen, "cycle in the direct tree"
        seen.add(node)
    return seen


def test_direct_links_form_one_tree(bank: BankRows) -> None:
    parents = _parents(bank)
    assert len(parents) == len(bank.direct_links)  # at most one parent each
    roots = [d["id"] for d in bank.departments if d["id"] not in parents]
    assert roots == [demo.ROOT_DEPARTMENT_ID]
    for dept in bank.departments:
        assert dept["id"] == demo.ROOT_DEPARTMENT_ID or demo.ROOT_DEPARTMENT_ID in _ancestors(
            parents, dept["id"]
        )


def test_links_have_no_self_links_or_duplicates(bank: BankRows) -> None:
    for links in (bank.direct_links, bank.linear_links, bank.check_links):
        pairs = [(link["fromId"], link["toId"]) for link in links]
        assert all(a != b for a, b in pairs)
        assert len(pairs) == len(set(pairs))


def test_checkers_are_independent(bank: BankRows) -> None:
    parents = _parents(bank)
    assert bank.check_links
    for link in bank.check_links:
        checker, checked = link["fromId"], link["toId"]
        assert checker not in _ancestors(parents, checked)
        assert checked not in _ancestors(parents, checker)


def test_holdings_fit_the_client_kind(bank: BankRows) -> None:
    kinds = {c["id"]: c["kind"] for c in bank.clients}
    audience = {p["id"]: p["audience"] for p in bank.products}
    for h in bank.holdings:
        a = audience[h["productId"]]
        kind = kinds[h["clientId"]]
        assert a == "ALL" or a == ("INDIVIDUAL" if kind == "INDIVIDUAL" else "CORPORATE")
        assert h["balanceCents"] > 0


def test_cross_sells_are_the_measures_of_the_holdings(bank: BankRows) -> None:
    holders: dict[str, set[str]] = defaultdict(set)
    for h in bank.holdings:
        if h["active"]:
            holders[h["productId"]].add(h["clientId"])
    total = len(set().union(*holders.values()))
    assert bank.cross_sells == compute_cross_sells(bank)
    for link in bank.cross_sells:
        a, b = holders[link["fromId"]], holders[link["toId"]]
        assert link["support"] == pytest.approx(len(a & b) / total, abs=1e-12)
        assert link["confidence"] == pytest.approx(len(a & b) / len(a), abs=1e-12)
        assert link["lift"] == pytest.approx(len(a & b) / len(a) / (len(b) / total), abs=1e-12)
    assert sum(link["pinned"] for link in bank.cross_sells) == 1


def test_facilities_are_consistent(bank: BankRows) -> None:
    for f in bank.facilities:
        assert 0 <= f["drawnCents"] <= f["limitCents"]
    unapproved = {f["id"] for f in bank.facilities if f["approvingDepartmentId"] is None}
    assert unapproved == set(demo.UNAPPROVED_FACILITY_IDS)
    grantors = {
        f["grantingDepartmentId"] for f in bank.facilities if f["borrowerId"] in demo.HD_STEEL_GROUP
    }
    assert len(grantors) >= 2  # 多头授信


def _guarantee_edges(bank: BankRows) -> set[tuple[str, str]]:
    borrower = {f["id"]: f["borrowerId"] for f in bank.facilities}
    limits = {f["id"]: f["limitCents"] for f in bank.facilities}
    edges = set()
    for g in bank.guarantees:
        assert g["guarantorId"] != borrower[g["facilityId"]]
        assert 0 < g["amountCents"] <= limits[g["facilityId"]]
        edges.add((g["guarantorId"], borrower[g["facilityId"]]))
    return edges


def test_guarantee_circles_close(bank: BankRows) -> None:
    edges = _guarantee_edges(bank)
    for circle in (demo.GUARANTEE_CIRCLE_3, demo.GUARANTEE_CIRCLE_4, demo.MUTUAL_PAIR):
        for i, member in enumerate(circle):
            assert (member, circle[(i + 1) % len(circle)]) in edges


def test_control_has_no_cycles_and_shares_are_percentages(bank: BankRows) -> None:
    controllers: dict[str, list[str]] = defaultdict(list)
    for c in bank.controls:
        assert 0 < c["share"] <= 100
        controllers[c["toId"]].append(c["fromId"])

    def reaches_itself(start: str) -> bool:
        stack, seen = list(controllers[start]), set()
        while stack:
            node = stack.pop()
            if node == start:
                return True
            if node not in seen:
                seen.add(node)
                stack.extend(controllers[node])
        return False

    assert not any(reaches_itself(c["id"]) for c in bank.clients)
    subsidiaries = {
        c["toId"] for c in bank.controls if c["fromId"] == demo.HD_STEEL_ID and c["share"] > 50
    }
    assert len(subsidiaries) >= 4


def test_related_links(bank: BankRows) -> None:
    assert len(bank.related) >= 30
    assert {r["kind"] for r in bank.related} == {
        "SUPPLY_CHAIN", "FAMILY", "ECONOMIC_DEPENDENCE", "KEY_PERSON",
    }  # fmt: skip
    keys = [(r["fromId"], r["toId"], r["kind"]) for r in bank.related]
    assert len(keys) == len(set(keys))
    assert all(r["fromId"] != r["toId"] for r in bank.related)


def test_is_deterministic() -> None:
    assert build_demo_bank() == build_demo_bank()


def test_shipped_csv_set_is_what_the_demo_builder_writes(tmp_path: Path) -> None:
    """seeds/demo_bank/ is generated by `python -m seeds.demo`; they must not drift apart."""
    from seeds.demo import DEMO_CSV, write_demo_csv

    write_demo_csv(tmp_path)
    shipped = sorted(p.name for p in DEMO_CSV.glob("*.csv"))
    assert shipped == sorted(p.name for p in tmp_path.glob("*.csv"))
    for name in shipped:
        assert (tmp_path / name).read_bytes() == (DEMO_CSV / name).read_bytes(), name


def test_the_demo_is_not_loaded_over_a_bank(empty_graph: Driver) -> None:
    """`make run` loads the demo only into a database without clients: what the API changed
    since the last start stays (a client renamed here is not renamed back)."""
    assert load_demo(empty_graph, DATABASE, quiet=True) is True
    empty_graph.execute_query(
        "MATCH (c:Client {id: 'cli-0001'}) SET c.name = '改名'", database_=DATABASE
    )
    assert load_demo(empty_graph, DATABASE, quiet=True) is False
    records, _, _ = empty_graph.execute_query(
        "MATCH (c:Client {id: 'cli-0001'}) RETURN c.name AS name", database_=DATABASE
    )
    assert records[0]["name"] == "改名"
