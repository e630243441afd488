"""Cross-sell links, paths and introductions on a hand-built bank with measures worked by hand."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from neo4j import Driver

from api.auth import Principal, Role
from graph.bank_rows import BankRows, HoldingRow
from graph.cross_sell_refresh import compute_measures
from graph.db import Db
from seeds.loader import load
from tests.conftest import DATABASE, graph_snapshot
from tests.gql import execute


def _client(cid: str, kind: str = "INDIVIDUAL", risk: int = 3, status: str = "ACTIVE") -> Any:
    return {
        "id": cid, "name": cid, "kind": kind, "segment": "EXISTING", "status": status,
        "grade": None, "riskRating": risk, "industry": None, "region": None,
    }  # fmt: skip


def _product(pid: str, audience: str = "ALL", risk: int = 1) -> Any:
    return {"id": pid, "name": pid, "category": "WEALTH", "audience": audience,
            "riskLevel": risk, "departmentId": "d"}  # fmt: skip


def build_sell_bank() -> BankRows:
    """Active holdings: k1 A B; k2 A B C; k3 A C; k4 B (and C closed); k5 D; k6 (corporate) A E.
    Six clients hold something: A 4, B 3, C 2, D 1, E 1; A&B 2, A&C 2, B&C 1, A&E 1."""
    bank = BankRows()
    bank.departments = [{"id": "d", "name": "部门", "function": "CLIENT", "model": "CLIENT"}]
    bank.managers = [{
        "id": "mA", "name": "经理", "level": "MANAGER", "education": "BACHELOR", "title": "NONE",
        "creditYears": 2, "departmentId": "d", "reportsToId": None, "since": "2020-01-01",
    }]  # fmt: skip
    bank.clients = [
        _client("k1"), _client("k2", risk=5), _client("k3"), _client("k4"), _client("k5"),
        _client("k6", kind="CORPORATE"), _client("y"), _client("w", kind="CORPORATE"),
        _client("z", kind="CORPORATE", status="PROSPECT"),
    ]  # fmt: skip
    bank.manages = [
        {"managerId": "mA", "clientId": "k1", "role": "PRIMARY", "since": "2020-01-01"},
        {"managerId": "mA", "clientId": "k2", "role": "SECONDARY", "since": "2020-01-01"},
    ]
    bank.products = [
        _product("A"), _product("B"), _product("C"), _product("D", "INDIVIDUAL"),
        _product("E", "CORPORATE"), _product("G"), _product("R", risk=5),
    ]  # fmt: skip
    held = {"k1": "AB", "k2": "ABC", "k3": "AC", "k4": "B", "k5": "D", "k6": "AE"}
    bank.holdings = [
        HoldingRow(clientId=c, productId=p, balanceCents=100, since="2021-01-01", active=True)
        for c, ps in held.items()
        for p in ps
    ]
    bank.holdings.append(
        HoldingRow(clientId="k4", productId="C", balanceCents=1, since="2021-01-01", active=False)
    )
    bank.cross_sells = [
        # stale and unpinned: a refresh removes it
        {"fromId": "D", "toId": "A", "support": 0.5, "confidence": 0.5, "lift": 5.0, "pinned": False},
        # curated: a refresh keeps them
        {"fromId": "B", "toId": "D", "support": 0.1, "confidence": 0.2, "lift": 2.0, "pinned": True},
        {"fromId": "B", "toId": "G", "support": 0.1, "confidence": 0.2, "lift": 2.0, "pinned": True},
        {"fromId": "C", "toId": "R", "support": 0.1, "confidence": 1.0, "lift": 3.0, "pinned": True},
    ]  # fmt: skip
    # Introductions to prospect z: k1 supplies y, y is family of z; k2 controls w, w guarantees z.
    bank.related = [
        {"fromId": "k1", "toId": "y", "kind": "SUPPLY_CHAIN", "role": "SUPPLIER",
         "reciprocalRole": "CUSTOMER"},
        {"fromId": "z", "toId": "y", "kind": "FAMILY", "role": "SPOUSE", "reciprocalRole": "SPOUSE"},
    ]  # fmt: skip
    bank.controls = [{"fromId": "k2", "toId": "w", "share": 80.0, "basis": "EQUITY"}]
    bank.facilities = [{
        "id": "fz", "borrowerId": "z", "type": "LOAN", "limitCents": 100, "drawnCents": 0,
        "currency": "CNY", "grantingDepartmentId": "d", "approvingDepartmentId": None,
        "grantedAt": "2024-01-01",
    }]  # fmt: skip
    bank.guarantees = [{"guarantorId": "w", "facilityId": "fz", "amountCents": 50}]
    return bank


@pytest.fixture
def sell_bank(empty_graph: Driver) -> Iterator[Driver]:
    load(empty_graph, DATABASE, build_sell_bank(), quiet=True)
    yield empty_graph


def _links(driver: Driver) -> dict[tuple[str, str], tuple[float, float, float, bool]]:
    records, _, _ = driver.execute_query(
        "MATCH (a)-[r:CROSS_SELLS_TO]->(b) RETURN a.id AS a, b.id AS b, r.support AS s, "
        "r.confidence AS c, r.lift AS l, r.pinned AS p",
        database_=DATABASE,
    )
    return {(r["a"], r["b"]): (r["s"], r["c"], r["l"], r["p"]) for r in records}


def test_measures_by_hand() -> None:
    m = compute_measures(6, {"A": 4, "B": 3, "C": 2}, {("A", "C"): 2, ("C", "A"): 2, ("A", "B"): 2})
    assert m[("A", "C")] == pytest.approx((2 / 6, 0.5, 1.5))
    assert m[("C", "A")] == pytest.approx((2 / 6, 1.0, 1.5))
    assert m[("A", "B")] == pytest.approx((2 / 6, 0.5, 1.0))


def test_measures_from_counts_that_disagree_stay_in_range() -> None:
    # One client, holding A and B when the clients and holders were counted; a second took both
    # before the pairs were: 2 co-holders of products held by 1.
    m = compute_measures(1, {"A": 1, "B": 1}, {("A", "B"): 2})
    assert m[("A", "B")] == pytest.approx((1.0, 1.0, 1.0))
    m = compute_measures(2, {"A": 3, "B": 1}, {("A", "B"): 1, ("B", "A"): 1})
    assert m[("A", "B")] == pytest.approx((0.5, 0.5, 1.0))
    assert m[("B", "A")] == pytest.approx((0.5, 1.0, 1.0))


async def _refresh(db: Db) -> dict[str, Any]:
    data, errors, _ = await execute(
        db,
        "mutation { refreshCrossSell(minSupport: 0.1, minConfidence: 0.2) { __typename "
        "... on CrossSellRefresh { clients links removed pinnedKept } } }",
    )
    assert errors == [] and data is not None
    result: dict[str, Any] = data["refreshCrossSell"]
    return result


async def test_refresh_recomputes_and_keeps_pinned(sell_bank: Driver, db: Db) -> None:
    result = await _refresh(db)
    assert result == {"__typename": "CrossSellRefresh", "clients": 6, "links": 7, "removed": 1,
                      "pinnedKept": 3}  # fmt: skip
    links = _links(sell_bank)
    # A→B, B→A, B→C, C→B have lift 1.0 exactly: no association, no link.
    assert set(links) == {("A", "C"), ("C", "A"), ("A", "E"), ("E", "A"), ("B", "D"), ("B", "G"),
                          ("C", "R")}  # fmt: skip
    assert links[("A", "C")] == pytest.approx((1 / 3, 0.5, 1.5, False))
    assert links[("E", "A")] == pytest.approx((1 / 6, 1.0, 1.5, False))
    assert links[("B", "D")] == pytest.approx((0.1, 0.2, 2.0, True))  # curated, no co-holders
    again = await _refresh(db)
    assert again["removed"] == 4 and _links(sell_bank) == links  # a rerun changes nothing


async def test_refresh_leaves_out_archived_clients(sell_bank: Driver, db: Db) -> None:
    # k6, the only holder of E, is archived with its holdings as they were: no longer business.
    sell_bank.execute_query(
        "MATCH (c:Client {id: 'k6'}) SET c.status = 'ARCHIVED'", database_=DATABASE
    )
    result = await _refresh(db)
    assert result["clients"] == 5  # k1-k5
    links = _links(sell_bank)
    # A 3 holders, B 3, C 2 of 5; A&B 2, A&C 2, B&C 1.
    assert set(links) == {("A", "B"), ("B", "A"), ("A", "C"), ("C", "A"), ("B", "D"), ("B", "G"),
                          ("C", "R")}  # fmt: skip
    assert links[("A", "B")] == pytest.approx((0.4, 2 / 3, 10 / 9, False))
    assert links[("C", "A")] == pytest.approx((0.4, 1.0, 5 / 3, False))


async def test_bad_thresholds_write_nothing(sell_bank: Driver, db: Db) -> None:
    before = graph_snapshot(sell_bank)
    data, _, _ = await execute(
        db, "mutation { refreshCrossSell(minSupport: 1.5) { ... on ValidationError { field } } }"
    )
    assert data == {"refreshCrossSell": {"field": "minSupport"}}
    assert graph_snapshot(sell_bank) == before


PATHS = """query ($id: ID!, $hops: Int!) { crossSellPaths(clientId: $id, maxHops: $hops) {
  product { id } productIds score steps { fromProductId toProductId confidence lift } } }"""


async def _paths(db: Db, client_id: str, hops: int = 3) -> list[tuple[str, list[str], float]]:
    data, errors, _ = await execute(db, PATHS, {"id": client_id, "hops": hops})
    assert errors == [] and data is not None
    return [(p["product"]["id"], p["productIds"], round(p["score"], 6))
            for p in data["crossSellPaths"]]  # fmt: skip


async def test_paths_rank_exclude_and_break_ties(sell_bank: Driver, db: Db) -> None:
    await _refresh(db)
    # k1 holds A and B: C via A (confidence 0.5); D and G via B tie at 0.2 with equal lifts, so
    # by id. E is for corporates; R (risk 5) exceeds k1's rating 3; A and B are held.
    assert await _paths(db, "k1") == [
        ("C", ["A", "C"], 0.5), ("D", ["B", "D"], 0.2), ("G", ["B", "G"], 0.2),
    ]  # fmt: skip
    # k2 (rating 5) may have R: via C directly (1.0) beats A→C→R (0.5 × 1.0).
    assert await _paths(db, "k2") == [
        ("R", ["C", "R"], 1.0), ("D", ["B", "D"], 0.2), ("G", ["B", "G"], 0.2),
    ]  # fmt: skip
    # k3 holds A and C: R is too risky, E is corporate, nothing else is reachable.
    assert await _paths(db, "k3") == []


async def test_paths_come_with_their_products_in_one_round_trip(sell_bank: Driver, db: Db) -> None:
    await _refresh(db)
    db.round_trips = 0
    data, errors, ctx = await execute(
        db,
        '{ crossSellPaths(clientId: "k1") { product { id name category audience riskLevel } } }',
    )
    assert errors == [] and data is not None
    assert [p["product"] for p in data["crossSellPaths"]] == [
        {"id": "C", "name": "C", "category": "WEALTH", "audience": "ALL", "riskLevel": 1},
        {"id": "D", "name": "D", "category": "WEALTH", "audience": "INDIVIDUAL", "riskLevel": 1},
        {"id": "G", "name": "G", "category": "WEALTH", "audience": "ALL", "riskLevel": 1},
    ]
    assert ctx.db.round_trips == 1  # the paths, their offered products with them


async def test_paths_hop_limit(sell_bank: Driver, db: Db) -> None:
    await _refresh(db)
    # k6 (corporate) holds A and E: C one hop away, R two (A→C→R) but k6's rating is 3.
    assert await _paths(db, "k6", hops=1) == [("C", ["A", "C"], 0.5)]
    data, errors, _ = await execute(
        db,
        '{ crossSellPaths(clientId: "k6", maxHops: 2) { productIds steps { fromProductId '
        "toProductId } } }",
    )
    assert errors == [] and data is not None
    assert data["crossSellPaths"] == [
        {"productIds": ["A", "C"], "steps": [{"fromProductId": "A", "toProductId": "C"}]}
    ]


async def test_opportunities_across_the_portfolio(sell_bank: Driver, db: Db) -> None:
    await _refresh(db)
    query = '{ crossSellOpportunities(managerId: "mA", first: 3) { client { id } product { id } score } }'
    data, errors, _ = await execute(db, query)
    assert errors == [] and data is not None
    assert [(o["client"]["id"], o["product"]["id"], round(o["score"], 6))
            for o in data["crossSellOpportunities"]] == [
        ("k2", "R", 1.0), ("k1", "C", 0.5), ("k1", "D", 0.2),
    ]  # fmt: skip


# k1 supplies y, y is family of z; k2 controls w, w guarantees z.
TO_Z = {
        "chains": [
            [{"fromId": "k1", "toId": "y", "kinds": ["SUPPLY_CHAIN"]},
             {"fromId": "y", "toId": "z", "kinds": ["FAMILY"]}],
            [{"fromId": "k2", "toId": "w", "kinds": ["CONTROL"]},
             {"fromId": "w", "toId": "z", "kinds": ["GUARANTEE"]}],
        ],
        "reason": None,
        "truncated": False,
    }  # fmt: skip
# The chain through active clients only (k2 controls w, w guarantees z's facility).
THROUGH_W = {
    "chains": [
        [{"fromId": "k2", "toId": "w", "kinds": ["CONTROL"]},
         {"fromId": "w", "toId": "z", "kinds": ["GUARANTEE"]}],
    ],
    "reason": None,
    "truncated": False,
}  # fmt: skip
INTRO = """query ($m: ID!, $p: ID!, $hops: Int!) {
  introductionPaths(managerId: $m, prospectId: $p, maxHops: $hops) {
    chains { fromId toId kinds } reason truncated } }"""


async def test_introductions(sell_bank: Driver, db: Db) -> None:
    data, errors, _ = await execute(db, INTRO, {"m": "mA", "p": "z", "hops": 4})
    assert errors == [] and data is not None
    assert data["introductionPaths"] == TO_Z
    data, _, _ = await execute(db, INTRO, {"m": "mA", "p": "z", "hops": 1})
    assert data is not None
    assert data["introductionPaths"]["reason"] == "NO_PATH_WITHIN_MAX_HOPS"
    data, _, _ = await execute(db, INTRO, {"m": "mA", "p": "k2", "hops": 4})
    assert data is not None
    assert data["introductionPaths"] == {"chains": [], "reason": "ALREADY_CLIENT",
                                         "truncated": False}  # fmt: skip
    data, _, _ = await execute(db, INTRO, {"m": "nobody", "p": "z", "hops": 2})
    assert data == {"introductionPaths": None}


async def test_introductions_to_the_managers_own_prospect(sell_bank: Driver, db: Db) -> None:
    """The manager developing a prospect (its primary manager) is who asks; chains start only
    from the manager's active clients, not from their other prospects or archived clients, and
    pass only through active clients: y, archived (though in the manager's book), introduces
    nobody, nor does a prospect."""
    sell_bank.execute_query(
        "MATCH (m:Manager {id: 'mA'}), (z:Client {id: 'z'}), (y:Client {id: 'y'}) "
        "CREATE (m)-[:MANAGES {role: 'PRIMARY', since: date('2024-01-01')}]->(z) "
        "SET y.status = 'ARCHIVED' CREATE (m)-[:MANAGES {role: 'PRIMARY', since: date()}]->(y)",
        database_=DATABASE,
    )
    data, errors, _ = await execute(db, INTRO, {"m": "mA", "p": "z", "hops": 4})
    assert errors == [] and data is not None
    assert data["introductionPaths"] == THROUGH_W
    sell_bank.execute_query(
        "MATCH (y:Client {id: 'y'}) SET y.status = 'PROSPECT'", database_=DATABASE
    )
    data, errors, _ = await execute(db, INTRO, {"m": "mA", "p": "z", "hops": 4})
    assert errors == [] and data is not None
    assert data["introductionPaths"] == THROUGH_W


async def test_a_manager_no_longer_active_has_no_one_to_sell_to_or_introduce_from(
    sell_bank: Driver, db: Db
) -> None:
    """mA's token may outlive mA's deactivation; mA's clients (k1 primary, k2 secondary) do not
    stay theirs to read through cross-sell or introductions."""
    sell_bank.execute_query("MATCH (m:Manager {id: 'mA'}) SET m.active = false", database_=DATABASE)
    me = Principal("mA", Role.MANAGER, "mA")
    data, errors, _ = await execute(
        db, '{ crossSellOpportunities(managerId: "mA") { score } }', principal=me
    )
    assert errors == [] and data == {"crossSellOpportunities": []}
    data, errors, _ = await execute(db, INTRO, {"m": "mA", "p": "k2", "hops": 4}, principal=me)
    assert errors == [] and data is not None
    assert data["introductionPaths"]["chains"] == []
    assert data["introductionPaths"]["reason"] != "ALREADY_CLIENT"


async def test_products_per_client(sell_bank: Driver, db: Db) -> None:
    query = """{ bank: productsPerClient { activeClients clientsWithProducts holdings
                                          productsPerClient most }
                mine: productsPerClient(managerId: "mA") { clientsWithProducts productsPerClient }
                dept: productsPerClient(departmentId: "d") { clientsWithProducts }
                none: productsPerClient(departmentId: "nope") { holdings } }"""
    data, errors, _ = await execute(db, query)
    assert errors == [] and data is not None
    # 11 active distinct holdings over 8 active clients (6 holding something): 1.375.
    assert data["bank"] == {"activeClients": 8, "clientsWithProducts": 6, "holdings": 11,
                            "productsPerClient": "1.38", "most": 3}  # fmt: skip
    assert data["mine"] == {"clientsWithProducts": 1, "productsPerClient": "2.00"}  # k1, primary
    assert data["dept"] == {"clientsWithProducts": 1}
    assert data["none"] is None
    # A client holding nothing counts: k1 and a second, empty-handed, primary client of mA.
    sell_bank.execute_query(
        "MATCH (m:Manager {id: 'mA'}), (c:Client {id: 'y'}) "
        "CREATE (m)-[:MANAGES {role: 'PRIMARY', since: date('2024-01-01')}]->(c)",
        database_=DATABASE,
    )
    data, errors, _ = await execute(
        db, '{ productsPerClient(managerId: "mA") { activeClients holdings productsPerClient } }'
    )
    assert errors == [] and data is not None
    assert data["productsPerClient"] == {"activeClients": 2, "holdings": 2,
                                         "productsPerClient": "1.00"}  # fmt: skip


@pytest.mark.parametrize(
    ("query", "argument"),
    [
        ('{ crossSellPaths(clientId: "k1", maxHops: 0) { score } }', "maxHops"),
        ('{ crossSellPaths(clientId: "k1", maxHops: 5) { score } }', "maxHops"),
        ('{ crossSellPaths(clientId: "k1", first: 101) { score } }', "first"),
        ('{ crossSellOpportunities(managerId: "mA", first: 0) { score } }', "first"),
        ('{ introductionPaths(managerId: "mA", prospectId: "z", maxHops: 5) { reason } }',
         "maxHops"),
    ],
)  # fmt: skip
async def test_bad_arguments(sell_bank: Driver, db: Db, query: str, argument: str) -> None:
    _, errors, _ = await execute(db, query)
    [error] = errors
    assert error.extensions == {"code": "BAD_USER_INPUT", "argument": argument}


async def test_unknown_client_is_null_and_managers_ask_for_themselves(
    sell_bank: Driver, db: Db
) -> None:
    data, errors, _ = await execute(db, '{ crossSellPaths(clientId: "nobody") { score } }')
    assert errors == [] and data == {"crossSellPaths": None}
    other = Principal("m", Role.MANAGER, "mB")
    _, errors, _ = await execute(
        db, '{ crossSellOpportunities(managerId: "mA") { score } }', principal=other
    )
    assert errors[0].extensions == {"code": "FORBIDDEN"}
    _, errors, _ = await execute(
        db, '{ introductionPaths(managerId: "mA", prospectId: "k1") { reason } }', principal=other
    )
    assert errors[0].extensions == {"code": "FORBIDDEN"}
    data, errors, _ = await execute(
        db, '{ crossSellPaths(clientId: "k1") { score } }', principal=other
    )
    assert errors == [] and data == {"crossSellPaths": None}  # not in mB's book
