"""Risk queries on a hand-built graph whose figures are worked out by hand below."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from neo4j import Driver

from graph.bank_rows import BankRows
from graph.db import Db
from seeds import demo
from seeds.loader import load
from tests.conftest import DATABASE, graph_snapshot
from tests.gql import execute
from tests.schema.test_data_in import CLIENT, mutate


def _client(cid: str, kind: str = "CORPORATE") -> Any:
    return {
        "id": cid, "name": f"客户{cid}", "kind": kind, "segment": "EXISTING", "status": "ACTIVE",
        "grade": None, "riskRating": 3, "industry": None, "region": None,
    }  # fmt: skip


def _facility(fid: str, borrower: str, ftype: str, limit: int, drawn: int, granting: str,
              approving: str | None) -> Any:  # fmt: skip
    return {"id": fid, "borrowerId": borrower, "type": ftype, "limitCents": limit * 100,
            "drawnCents": drawn * 100, "currency": "CNY", "grantingDepartmentId": granting,
            "approvingDepartmentId": approving, "grantedAt": "2024-01-01"}  # fmt: skip


def build_risk_bank() -> BankRows:
    """P controls S1 (60%), S1 controls S3 by board (30%), S3 depends economically on E;
    P holds only 40% of S2 (no control); O borrows outside the group. A-B-C and A-B-D are
    overlapping guarantee circles, X and Y guarantee each other."""
    bank = BankRows()
    bank.departments = [
        {"id": d, "name": d, "function": f, "model": "COMPREHENSIVE"}
        for d, f in (("d-root", "MANAGEMENT"), ("d-ka", "CLIENT"), ("d-ka-east", "CLIENT"),
                     ("d-appr", "APPROVAL"))
    ]  # fmt: skip
    bank.direct_links = [
        {"fromId": "d-ka", "toId": "d-root", "since": "2020-01-01"},
        {"fromId": "d-ka-east", "toId": "d-ka", "since": "2020-01-01"},
        {"fromId": "d-appr", "toId": "d-root", "since": "2020-01-01"},
    ]
    bank.clients = [_client(c) for c in ("P", "S1", "S2", "S3", "E", "O", "A", "B", "C", "D",
                                         "X", "Y")]  # fmt: skip
    bank.controls = [
        {"fromId": "P", "toId": "S1", "share": 60.0, "basis": "EQUITY"},
        {"fromId": "P", "toId": "S2", "share": 40.0, "basis": "EQUITY"},
        {"fromId": "S1", "toId": "S3", "share": 30.0, "basis": "BOARD"},
    ]
    bank.related = [
        {"fromId": "S3", "toId": "E", "kind": "ECONOMIC_DEPENDENCE", "role": "DEPENDENT",
         "reciprocalRole": "SUSTAINER"},
        {"fromId": "S1", "toId": "X", "kind": "SUPPLY_CHAIN", "role": "SUPPLIER",
         "reciprocalRole": "CUSTOMER"},
    ]  # fmt: skip
    bank.facilities = [
        _facility("fP1", "P", "LOAN", 1000, 500, "d-ka", "d-appr"),
        _facility("fS1", "S1", "ACCEPTANCE", 300, 300, "d-ka-east", "d-ka"),  # approver: parent
        _facility("fS3", "S3", "LOAN", 200, 0, "d-ka-east", None),
        _facility("fE", "E", "LOAN", 100, 0, "d-ka", "d-appr"),
        _facility("fO", "O", "LOAN", 500, 0, "d-ka", "d-appr"),
        _facility("fS2", "S2", "LOAN", 700, 0, "d-ka", "d-appr"),
        *(
            _facility(f"f{c}", c, "LOAN", limit, 0, "d-ka", "d-appr")
            for c, limit in (("A", 10), ("B", 20), ("C", 30), ("D", 40), ("X", 50), ("Y", 60))
        ),
    ]
    bank.guarantees = [
        {"guarantorId": g, "facilityId": f, "amountCents": amount * 100}
        for g, f, amount in (
            ("P", "fO", 300), ("S1", "fO", 400), ("S1", "fP1", 200), ("S2", "fS1", 100),
            ("A", "fB", 5), ("B", "fC", 5), ("C", "fA", 5), ("B", "fD", 5), ("D", "fA", 5),
            ("X", "fY", 5), ("Y", "fX", 5),
        )
    ]  # fmt: skip
    return bank


SETTINGS = """mutation ($p: LimitProfile!) {
  setRiskSettings(input: {profile: $p, tier1Capital: "10000.00", netCapital: "12000.00"}) {
    __typename ... on CapitalBase { profile tier1Capital netCapital }
    ... on ValidationError { field message }
  }
}"""

EXPOSURE = """query ($id: ID!, $depth: Int!) {
  creditExposure(clientId: $id, maxDepth: $depth) {
    total direct affiliated indirect drawn multipleGrantors
    members { client { id } path { fromId toId kind share } own guaranteedOutside }
    limitUsage { rule amount limitPercent limitAmount usagePercent breached reportable }
    grantingDepartments { department { id } amount facilityCount }
    unapprovedFacilities { facility { id } reason }
    assessInterdependence
  }
}"""


@pytest.fixture
def risk_bank(empty_graph: Driver) -> Iterator[Driver]:
    load(empty_graph, DATABASE, build_risk_bank(), quiet=True)
    yield empty_graph


async def _exposure(db: Db, client_id: str, depth: int) -> dict[str, Any]:
    data, errors, _ = await execute(db, EXPOSURE, {"id": client_id, "depth": depth})
    assert errors == [] and data is not None
    result: dict[str, Any] = data["creditExposure"]
    return result


async def test_related_clients_name_control_as_groups_count_it(risk_bank: Driver, db: Db) -> None:
    """S1 controls S3 by board with 30%: parent and subsidiary, as in S1's group; P's 40% of S2
    is a stake, shareholder and investee. Adding 25% held by S1 to P's 40% makes it control."""
    query = """query ($id: ID!) { client(id: $id) {
      relatedClients(kinds: [CONTROL]) { role otherRole share client { id } } } }"""

    async def roles(client_id: str) -> dict[str, tuple[str, str]]:
        data, errors, _ = await execute(db, query, {"id": client_id})
        assert errors == [] and data is not None
        links = data["client"]["relatedClients"]
        return {x["client"]["id"]: (x["role"], x["otherRole"]) for x in links}

    assert await roles("S1") == {"P": ("SUBSIDIARY", "PARENT"), "S3": ("PARENT", "SUBSIDIARY")}
    assert await roles("S2") == {"P": ("INVESTEE", "SHAREHOLDER")}
    risk_bank.execute_query(
        "MATCH (s1:Client {id: 'S1'}), (s2:Client {id: 'S2'}) "
        "CREATE (s1)-[:CONTROLS {share: 25.0, basis: 'EQUITY'}]->(s2)",
        database_=DATABASE,
    )
    assert await roles("S2") == {"P": ("SUBSIDIARY", "PARENT"), "S1": ("INVESTEE", "SHAREHOLDER")}


async def test_exposure_splits_and_paths(risk_bank: Driver, db: Db) -> None:
    data, errors, _ = await execute(db, SETTINGS, {"p": "CN_2018"})
    assert errors == [] and data is not None
    assert data["setRiskSettings"]["tier1Capital"] == "10000.00"
    db.round_trips = 0
    _, errors, _ = await execute(
        db, '{ creditExposure(clientId: "S1") { total limitUsage { rule breached } } }'
    )
    assert errors == []
    assert db.round_trips == 1  # the capital base is read in the exposure's own statement
    e = await _exposure(db, "S1", 4)
    # direct: S1's 300; affiliated: P 1000 + S3 200 + E 100; indirect: P 300 + S1 400 on fO,
    # capped at fO's limit 500; S1's guarantee of P's facility stays inside the group.
    assert (e["direct"], e["affiliated"], e["indirect"], e["total"]) == (
        "300.00", "1300.00", "500.00", "2100.00",
    )  # fmt: skip
    assert e["drawn"] == "800.00"
    paths = {m["client"]["id"]: m["path"] for m in e["members"]}
    assert paths == {
        "S1": [],
        "P": [{"fromId": "P", "toId": "S1", "kind": "CONTROL", "share": 60.0}],
        "S3": [{"fromId": "S1", "toId": "S3", "kind": "CONTROL", "share": 30.0}],
        "E": [
            {"fromId": "S1", "toId": "S3", "kind": "CONTROL", "share": 30.0},
            {"fromId": "S3", "toId": "E", "kind": "ECONOMIC_DEPENDENCE", "share": None},
        ],
    }
    own = {m["client"]["id"]: (m["own"], m["guaranteedOutside"]) for m in e["members"]}
    assert own["S1"] == ("300.00", "400.00")
    assert e["grantingDepartments"] == [
        {"department": {"id": "d-ka"}, "amount": "1100.00", "facilityCount": 2},
        {"department": {"id": "d-ka-east"}, "amount": "500.00", "facilityCount": 2},
    ]
    assert e["multipleGrantors"] is True
    assert sorted((u["facility"]["id"], u["reason"]) for u in e["unapprovedFacilities"]) == [
        ("fS1", "NOT_INDEPENDENT"),
        ("fS3", "NO_APPROVAL"),
    ]
    usage = {u["rule"]: u for u in e["limitUsage"]}
    # Own 300 + every guarantee S1 gave: 400 on fO and 200 on P's fP1 (inside the group).
    assert usage["SINGLE_CLIENT"]["amount"] == "900.00"
    assert e["assessInterdependence"] is True  # 9% of tier-1 > 5%
    assert usage["SINGLE_CLIENT"]["breached"] is False
    assert usage["SINGLE_CLIENT"]["reportable"] is True  # 9% > 2.5%
    assert usage["SINGLE_CLIENT_LOANS"]["amount"] == "0.00"  # an acceptance is not a loan
    assert usage["GROUP"]["limitAmount"] == "2000.00"
    assert usage["GROUP"]["breached"] is True  # 21% > 20%


async def test_depth_limits_the_group(risk_bank: Driver, db: Db) -> None:
    # E: 100 of 10,000 tier-1 is 1%, below the 5% that calls for an interdependence assessment.
    await execute(db, SETTINGS, {"p": "CN_2018"})
    assert (await _exposure(db, "E", 1))["assessInterdependence"] is False
    e = await _exposure(db, "S1", 1)
    assert sorted(m["client"]["id"] for m in e["members"]) == ["P", "S1", "S3"]
    assert (e["affiliated"], e["total"]) == ("1200.00", "2000.00")
    # The client's own figure does not depend on how far the group reaches.
    for depth in (1, 4):
        usage = {u["rule"]: u for u in (await _exposure(db, "S1", depth))["limitUsage"]}
        assert usage["SINGLE_CLIENT"]["amount"] == "900.00"


def _dependence(a: str, b: str) -> dict[str, Any]:
    return {"fromId": a, "toId": b, "kind": "ECONOMIC_DEPENDENCE", "role": "DEPENDENT",
            "reciprocalRole": "SUSTAINER"}  # fmt: skip


def _small_bank(clients: list[Any], facilities: list[Any], related: list[Any]) -> BankRows:
    bank = build_risk_bank()
    bank.clients, bank.facilities, bank.related = clients, facilities, related
    bank.controls, bank.guarantees = [], []
    return bank


async def test_a_densely_linked_group_is_found_at_any_depth(empty_graph: Driver, db: Db) -> None:
    """Twenty firms each dependent on every other: billions of paths of up to 6 links, which
    the search must not walk one by one (eleven ran out of memory at depth 6; `ANY SHORTEST`
    did not finish on twenty)."""
    ids = [f"K{i:02}" for i in range(20)]
    load(empty_graph, DATABASE, _small_bank(
        [_client(c) for c in ids],
        [_facility("fK", ids[0], "LOAN", 10, 0, "d-ka", "d-appr")],
        [_dependence(a, b) for n, a in enumerate(ids) for b in ids[n + 1:]],
    ), quiet=True)  # fmt: skip
    for depth in (1, 6):
        e = await _exposure(db, ids[0], depth)
        assert sorted(m["client"]["id"] for m in e["members"]) == ids
        assert all(len(m["path"]) == 1 for m in e["members"] if m["client"]["id"] != ids[0])


async def test_a_dense_web_of_control_is_grouped_breadth_first(empty_graph: Driver, db: Db) -> None:
    """Twenty firms each controlling every other by board (imported as recorded, cycles and
    all): billions of control paths, which the group walks must not follow one by one (14 timed
    out before, and `ANY SHORTEST` took seconds a walk)."""
    ids = [f"K{i:02}" for i in range(20)]
    bank = _small_bank(
        [_client(c) for c in ids], [_facility("fK", ids[0], "LOAN", 10, 0, "d-ka", "d-appr")], []
    )
    bank.controls = [
        {"fromId": a, "toId": b, "share": 10.0, "basis": "BOARD"}
        for a in ids for b in ids if a != b
    ]  # fmt: skip
    load(empty_graph, DATABASE, bank, quiet=True)
    data, errors, _ = await execute(
        db,
        '{ client(id: "K05") { group { root { id } memberCount } } '
        "largestExposures { root { id } memberIds } }",
    )
    assert errors == [] and data is not None
    # Every firm is one link from every other: in a cycle no firm is above them all, and the
    # top is the smallest id, the same for the group and for largestExposures.
    assert data["client"]["group"] == {"root": {"id": "K00"}, "memberCount": 20}
    assert data["largestExposures"] == [{"root": {"id": "K00"}, "memberIds": ids}]


async def test_control_adds_up_through_direct_subsidiaries(empty_graph: Driver, db: Db) -> None:
    """Z controls S1 (60%) and S2 (70%). Z holds 25% of T and S1 30%: Z controls T (55%), and is
    its top controller although as near T as S1 (and after it by id). S1 and S2 hold 30% of U
    each: Z controls U. W gets 20% from Z and 20% from S1 (40%), V 30% each from two firms
    nobody controls together: neither is controlled."""
    firms = ["Z", "S1", "S2", "T", "U", "W", "V", "A", "B"]
    bank = _small_bank(
        [_client(c) for c in firms],
        [_facility(f"f{c}", c, "LOAN", 10, 0, "d-ka", "d-appr") for c in firms],
        [],
    )
    bank.controls = [
        {"fromId": a, "toId": b, "share": share, "basis": "EQUITY"}
        for a, b, share in (
            ("Z", "S1", 60.0), ("Z", "S2", 70.0), ("Z", "T", 25.0), ("S1", "T", 30.0),
            ("S1", "U", 30.0), ("S2", "U", 30.0), ("Z", "W", 20.0), ("S1", "W", 20.0),
            ("A", "V", 30.0), ("B", "V", 30.0),
        )
    ]  # fmt: skip
    load(empty_graph, DATABASE, bank, quiet=True)
    group = ["S1", "S2", "T", "U", "Z"]
    data, errors, _ = await execute(
        db,
        '{ t: client(id: "T") { group { root { id } members { id } } } '
        'u: client(id: "U") { group { root { id } } } '
        's1: client(id: "S1") { group { root { id } } } '
        'w: client(id: "W") { group { root { id } } } '
        'v: client(id: "V") { group { root { id } } } '
        "largestExposures { root { id } memberIds } }",
    )
    assert errors == [] and data is not None
    assert data["t"]["group"] == {"root": {"id": "Z"}, "members": [{"id": c} for c in group]}
    assert data["u"]["group"] == data["s1"]["group"] == {"root": {"id": "Z"}}
    assert data["w"]["group"] == data["v"]["group"] is None
    # One group, not split at S1.
    assert [e for e in data["largestExposures"] if set(e["memberIds"]) & set(group)] == [
        {"root": {"id": "Z"}, "memberIds": group}
    ]
    e = await _exposure(db, "T", 2)
    assert sorted(m["client"]["id"] for m in e["members"]) == group
    assert sorted(m["client"]["id"] for m in (await _exposure(db, "V", 6))["members"]) == ["V"]


async def test_stakes_adding_up_to_exactly_half_are_not_control(
    empty_graph: Driver, db: Db
) -> None:
    """P holds 17.6% of T, its subsidiaries S1-S3 0.2%, 16.1% and 16.1%: 50% exactly, not more,
    so T is in no group (added as floats, in any order, the four came to more than 50)."""
    firms = ["P", "S1", "S2", "S3", "T"]
    bank = _small_bank([_client(c) for c in firms], [], [])
    bank.controls = [
        {"fromId": a, "toId": b, "share": share, "basis": "EQUITY"}
        for a, b, share in (
            ("P", "S1", 60.0), ("P", "S2", 60.0), ("P", "S3", 60.0),
            ("P", "T", 17.6), ("S1", "T", 0.2), ("S2", "T", 16.1), ("S3", "T", 16.1),
        )
    ]  # fmt: skip
    load(empty_graph, DATABASE, bank, quiet=True)
    query = '{ t: client(id: "T") { group { root { id } } } p: client(id: "P") { group { members { id } } } }'
    data, errors, _ = await execute(db, query)
    assert errors == [] and data is not None
    assert data["t"]["group"] is None
    assert data["p"]["group"] == {"members": [{"id": c} for c in ["P", "S1", "S2", "S3"]]}

    # A millionth of a percent more is control.
    empty_graph.execute_query(
        "MATCH (:Client {id: 'P'})-[r:CONTROLS]->(:Client {id: 'T'}) SET r.share = 17.600001",
        database_=DATABASE,
    )
    data, errors, _ = await execute(db, query)
    assert errors == [] and data is not None
    assert data["t"]["group"] == {"root": {"id": "P"}}


async def _tops_and_largest(db: Db, a: str, b: str) -> tuple[str, str, list[Any]]:
    """The top controller each of two clients' groups names, and the largest exposures."""
    data, errors, _ = await execute(
        db,
        "query ($a: ID!, $b: ID!) { a: client(id: $a) { group { root { id } } } "
        "b: client(id: $b) { group { root { id } } } "
        "largestExposures { root { id } memberIds total } }",
        {"a": a, "b": b},
    )
    assert errors == [] and data is not None
    return (
        data["a"]["group"]["root"]["id"],
        data["b"]["group"]["root"]["id"],
        data["largestExposures"],
    )


async def test_members_two_controllers_share_count_whole_in_each(
    empty_graph: Driver, db: Db
) -> None:
    """T1 holds 60% of X, X 60% of C, C 60% of D, and T1 controls D by board; T2 controls C by
    board. C and D are both under T1 and T2: nearest or farthest, they named different tops and
    their credit was split between two groups. Both count in each group; their own `group`
    names T1 (the smaller id) for both."""
    firms = ["T1", "T2", "X", "C", "D"]
    bank = _small_bank(
        [_client(c) for c in firms],
        [_facility(f"f{c}", c, "LOAN", 10, 0, "d-ka", "d-appr") for c in ("C", "D")],
        [],
    )
    bank.controls = [
        {"fromId": a, "toId": b, "share": share, "basis": basis}
        for a, b, share, basis in (
            ("T1", "X", 60.0, "EQUITY"), ("X", "C", 60.0, "EQUITY"), ("C", "D", 60.0, "EQUITY"),
            ("T1", "D", 10.0, "BOARD"), ("T2", "C", 10.0, "BOARD"),
        )
    ]  # fmt: skip
    load(empty_graph, DATABASE, bank, quiet=True)
    assert await _tops_and_largest(db, "C", "D") == (
        "T1", "T1", [
            {"root": {"id": "T1"}, "memberIds": ["C", "D", "T1", "X"], "total": "20.00"},
            {"root": {"id": "T2"}, "memberIds": ["C", "D", "T2"], "total": "20.00"},
        ],
    )  # fmt: skip


async def test_a_unified_limit_held_by_the_top_controller(risk_bank: Driver, db: Db) -> None:
    """S1's group (P, S1, S3, E) borrows 2,100.00 from d-ka and d-ka-east: 多头授信 until P, its
    top controller, holds a unified limit. The limit covers P and what P controls (P, S1, S3:
    1,500.00), not E, joined by economic dependence, nor guarantees for O; exceeded below
    that, whatever maxDepth."""
    unified = (
        '{ creditExposure(clientId: "S1") { total multipleGrantors unifiedLimit '
        "unifiedLimitHolderId unifiedLimitUsed unifiedLimitExceeded } }"
    )

    async def exposure() -> dict[str, Any]:
        data, errors, _ = await execute(db, unified)
        assert errors == [] and data is not None
        found: dict[str, Any] = data["creditExposure"]
        return found

    assert await exposure() == {
        "total": "2100.00", "multipleGrantors": True, "unifiedLimit": None,
        "unifiedLimitHolderId": None, "unifiedLimitUsed": None, "unifiedLimitExceeded": False,
    }  # fmt: skip
    before = graph_snapshot(risk_bank)
    on_member = await mutate(
        db, "setUnifiedLimit", {"clientId": "S1", "limit": "3000", "currency": "CNY"}, CLIENT
    )
    assert (on_member["invariant"], on_member["nodeIds"]) == ("GROUP_TOP", ["S1", "P"])
    no_currency = await mutate(db, "setUnifiedLimit", {"clientId": "P", "limit": "3000"}, CLIENT)
    assert no_currency["field"] == "currency"
    assert graph_snapshot(risk_bank) == before

    set_ = {"clientId": "P", "limit": "2000.00", "currency": "CNY", "reason": "集团统一授信"}
    done = await mutate(db, "setUnifiedLimit", set_, CLIENT)
    assert done["client"]["version"] == 1
    assert await exposure() == {
        "total": "2100.00", "multipleGrantors": False, "unifiedLimit": "2000.00",
        "unifiedLimitHolderId": "P", "unifiedLimitUsed": "1500.00", "unifiedLimitExceeded": False,
    }  # fmt: skip
    again = await mutate(db, "setUnifiedLimit", set_, CLIENT)
    assert again["invariant"] == "NO_OP"
    await mutate(db, "setUnifiedLimit", {**set_, "limit": "1499.99"}, CLIENT)
    assert (await exposure())["unifiedLimitExceeded"] is True
    totals = set()
    for depth in (1, 6):
        data, errors, _ = await execute(
            db,
            'query ($d: Int!) { creditExposure(clientId: "S3", maxDepth: $d) '
            "{ total unifiedLimitUsed unifiedLimitExceeded } }",
            {"d": depth},
        )
        assert errors == [] and data is not None
        assert data["creditExposure"]["unifiedLimitUsed"] == "1500.00"
        assert data["creditExposure"]["unifiedLimitExceeded"] is True
        totals.add(data["creditExposure"]["total"])
    assert len(totals) == 2  # the group's reach changed, not what the limit covers
    removed = await mutate(db, "setUnifiedLimit", {"clientId": "P", "limit": None}, CLIENT)
    assert removed["client"]["version"] == 3
    assert (await exposure())["multipleGrantors"] is True
    data, errors, _ = await execute(db, '{ auditLog(nodeId: "P") { records { action after } } }')
    assert errors == [] and data is not None
    assert [json.loads(r["after"]) for r in data["auditLog"]["records"]] == [
        {"unifiedLimitCents": None, "unifiedLimitCurrency": None},
        {"unifiedLimitCents": 149999, "unifiedLimitCurrency": "CNY"},
        {"unifiedLimitCents": 200000, "unifiedLimitCurrency": "CNY"},
    ]


async def test_a_unified_limit_stays_on_the_top_controller(risk_bank: Driver, db: Db) -> None:
    """P holds its group's limit: a link putting P under O would leave it unread (O's group
    has none), so it is refused until P's limit is removed; a stake short of control is not."""
    set_ = {"clientId": "P", "limit": "2000.00", "currency": "CNY"}
    assert (await mutate(db, "setUnifiedLimit", set_, CLIENT))["__typename"] == "ClientSuccess"
    control = {"fromId": "O", "toId": "P", "kind": "CONTROL", "share": 60.0, "basis": "EQUITY"}
    before = graph_snapshot(risk_bank)
    refused = await mutate(db, "relateClients", control)
    assert (refused["invariant"], refused["nodeIds"]) == ("UNIFIED_LIMIT_ON_TOP", ["P"])
    assert graph_snapshot(risk_bank) == before
    stake = await mutate(db, "relateClients", {**control, "share": 30.0})
    assert stake["__typename"] == "ClientLinkSuccess"
    # O's 30% and a subsidiary's 25% add up to control of P (as groups count it): refused too.
    await mutate(
        db, "relateClients",
        {"fromId": "O", "toId": "Y", "kind": "CONTROL", "share": 70.0, "basis": "EQUITY"},
    )  # fmt: skip
    adds_up = await mutate(
        db, "relateClients",
        {"fromId": "Y", "toId": "P", "kind": "CONTROL", "share": 25.0, "basis": "EQUITY"},
    )  # fmt: skip
    assert (adds_up["invariant"], adds_up["nodeIds"]) == ("UNIFIED_LIMIT_ON_TOP", ["P"])
    removed = await mutate(db, "setUnifiedLimit", {"clientId": "P", "limit": None}, CLIENT)
    assert removed["__typename"] == "ClientSuccess"
    again = await mutate(
        db, "relateClients",
        {"fromId": "Y", "toId": "P", "kind": "CONTROL", "share": 25.0, "basis": "EQUITY"},
    )  # fmt: skip
    assert again["__typename"] == "ClientLinkSuccess"


async def test_a_limit_left_below_the_top_may_be_removed(risk_bank: Driver, db: Db) -> None:
    # As older data (or an import) may hold one: never read, and in the way of nothing.
    risk_bank.execute_query(
        "MATCH (c:Client {id: 'S1'}) SET c.unifiedLimitCents = 100000, "
        "c.unifiedLimitCurrency = 'CNY'",
        database_=DATABASE,
    )
    # A control link above it is not what left it there: O may take control of P.
    control = {"fromId": "O", "toId": "P", "kind": "CONTROL", "share": 60.0, "basis": "EQUITY"}
    assert (await mutate(db, "relateClients", control))["__typename"] == "ClientLinkSuccess"
    removed = await mutate(db, "setUnifiedLimit", {"clientId": "S1", "limit": None}, CLIENT)
    assert removed["__typename"] == "ClientSuccess"
    records, _, _ = risk_bank.execute_query(
        "MATCH (c:Client {id: 'S1'}) RETURN c.unifiedLimitCents AS cents", database_=DATABASE
    )
    assert records[0]["cents"] is None


async def test_a_cycle_of_control_is_one_group_under_its_smallest_id(
    empty_graph: Driver, db: Db
) -> None:
    """A and B hold 60% of each other (imported as recorded): one group, topped by A from
    either side, which alone may hold its unified limit."""
    bank = _small_bank(
        [_client(c) for c in ("A", "B")],
        [_facility(f"f{c}", c, "LOAN", 10, 0, "d-ka", "d-appr") for c in ("A", "B")],
        [],
    )
    bank.controls = [
        {"fromId": a, "toId": b, "share": 60.0, "basis": "EQUITY"}
        for a, b in (("A", "B"), ("B", "A"))
    ]
    load(empty_graph, DATABASE, bank, quiet=True)
    assert await _tops_and_largest(db, "A", "B") == (
        "A", "A", [{"root": {"id": "A"}, "memberIds": ["A", "B"], "total": "20.00"}],
    )  # fmt: skip
    limit = {"limit": "15.00", "currency": "CNY"}
    refused = await mutate(db, "setUnifiedLimit", {"clientId": "B", **limit}, CLIENT)
    assert (refused["invariant"], refused["nodeIds"]) == ("GROUP_TOP", ["B", "A"])
    done = await mutate(db, "setUnifiedLimit", {"clientId": "A", **limit}, CLIENT)
    assert done["client"]["id"] == "A"
    data, errors, _ = await execute(
        db, '{ creditExposure(clientId: "B") { unifiedLimitHolderId unifiedLimitExceeded } }'
    )
    assert errors == [] and data is not None
    assert data["creditExposure"] == {"unifiedLimitHolderId": "A", "unifiedLimitExceeded": True}


async def test_a_client_below_a_cycle_of_control_is_not_its_own_top(
    empty_graph: Driver, db: Db
) -> None:
    """B and C hold 60% of each other, and C 70% of A, whose id is the smallest: the top of all
    three is B, the smallest id on the cycle, not A, which every one of them being controlled
    made its own top (a group of its own, beside the one that counted it)."""
    bank = _small_bank(
        [_client(c) for c in ("A", "B", "C")],
        [_facility(f"f{c}", c, "LOAN", 10, 0, "d-ka", "d-appr") for c in ("A", "B", "C")],
        [],
    )
    bank.controls = [
        {"fromId": a, "toId": b, "share": share, "basis": "EQUITY"}
        for a, b, share in (("B", "C", 60.0), ("C", "B", 60.0), ("C", "A", 70.0))
    ]
    load(empty_graph, DATABASE, bank, quiet=True)
    assert await _tops_and_largest(db, "A", "C") == (
        "B", "B", [{"root": {"id": "B"}, "memberIds": ["A", "B", "C"], "total": "30.00"}],
    )  # fmt: skip
    limit = {"limit": "25.00", "currency": "CNY"}
    refused = await mutate(db, "setUnifiedLimit", {"clientId": "A", **limit}, CLIENT)
    assert (refused["invariant"], refused["nodeIds"]) == ("GROUP_TOP", ["A", "B"])
    assert (await mutate(db, "setUnifiedLimit", {"clientId": "B", **limit}, CLIENT))["client"]
    data, errors, _ = await execute(
        db,
        '{ creditExposure(clientId: "A") { unifiedLimitHolderId unifiedLimitUsed '
        "unifiedLimitExceeded } }",
    )
    assert errors == [] and data is not None
    assert data["creditExposure"] == {
        "unifiedLimitHolderId": "B", "unifiedLimitUsed": "30.00", "unifiedLimitExceeded": True,
    }  # fmt: skip


def _family(a: str, b: str, role: str = "SPOUSE", reciprocal: str = "SPOUSE") -> dict[str, Any]:
    return {"fromId": a, "toId": b, "kind": "FAMILY", "role": role,
            "reciprocalRole": reciprocal}  # fmt: skip


async def test_firms_controlled_by_a_family_are_one_group(empty_graph: Driver, db: Db) -> None:
    """P controls A; P's wife Q controls B by board: A and B are one group (key persons or
    their close family controlling both). P's son R, who controls nothing, and his own loan
    stay out, as does the firm F that R's wife T controls; a FAMILY link recorded on a firm (G,
    which controls F) joins nobody."""
    people = ["P", "Q", "R", "T"]
    bank = _small_bank(
        [_client(c) for c in ("A", "B", "F", "G")]
        + [_client(c, kind="INDIVIDUAL") for c in people],
        [_facility(f"f{c}", c, "LOAN", limit, 0, "d-ka", "d-appr")
         for c, limit in (("A", 100), ("B", 200), ("R", 5), ("F", 300), ("G", 400))],
        [_family("P", "Q"), _family("P", "R", "PARENT", "CHILD"), _family("R", "T"),
         _family("G", "A")],
    )  # fmt: skip
    bank.controls = [
        {"fromId": "P", "toId": "A", "share": 60.0, "basis": "EQUITY"},
        {"fromId": "Q", "toId": "B", "share": 20.0, "basis": "BOARD"},
        {"fromId": "T", "toId": "F", "share": 20.0, "basis": "BOARD"},
        {"fromId": "G", "toId": "F", "share": 70.0, "basis": "EQUITY"},
    ]
    load(empty_graph, DATABASE, bank, quiet=True)
    e = await _exposure(db, "A", 4)
    paths = {m["client"]["id"]: m["path"] for m in e["members"]}
    assert sorted(paths) == ["A", "B", "P", "Q"]
    assert paths["B"] == [
        {"fromId": "P", "toId": "A", "kind": "CONTROL", "share": 60.0},
        {"fromId": "P", "toId": "Q", "kind": "FAMILY", "share": None},
        {"fromId": "Q", "toId": "B", "kind": "CONTROL", "share": 20.0},
    ]
    assert (e["direct"], e["affiliated"]) == ("100.00", "200.00")
    # Asked from the other side, the same group; two links reach only the family's controllers.
    b = await _exposure(db, "B", 4)
    assert sorted(m["client"]["id"] for m in b["members"]) == ["A", "B", "P", "Q"]
    near = await _exposure(db, "B", 2)
    assert sorted(m["client"]["id"] for m in near["members"]) == ["B", "P", "Q"]
    alone = await _exposure(db, "R", 6)
    assert [m["client"]["id"] for m in alone["members"]] == ["R"]
    # The bank's largest exposures group them alike: P's and Q's firms are one group, named
    # after P (the smallest id of the two), not two groups each under the limit. (F, under G's
    # shares and T's board, counts in both of theirs.)
    data, errors, _ = await execute(db, "{ largestExposures { root { id } memberIds total } }")
    assert errors == [] and data is not None
    assert data["largestExposures"] == [
        {"root": {"id": "G"}, "memberIds": ["F", "G"], "total": "700.00"},
        {"root": {"id": "P"}, "memberIds": ["A", "B", "P", "Q"], "total": "300.00"},
        {"root": {"id": "T"}, "memberIds": ["F", "T"], "total": "300.00"},
        {"root": {"id": "R"}, "memberIds": ["R"], "total": "5.00"},
    ]


async def test_profit_transfer_and_consolidation_join_a_group(empty_graph: Driver, db: Db) -> None:
    """DOMAIN §6: clients between which assets or profits can move at unfair prices are related,
    as are a parent and the firm whose accounts it consolidates, whatever its share. K and T
    (profit transfer) and K's 30% consolidated C are one group, both links made through the API."""
    bank = _small_bank(
        [_client(c) for c in ("K", "T", "C")],
        [_facility(f"f{c}", c, "LOAN", 10, 0, "d-ka", "d-appr") for c in ("K", "T", "C")],
        [],
    )
    load(empty_graph, DATABASE, bank, quiet=True)
    for link in (
        {"fromId": "K", "toId": "T", "kind": "PROFIT_TRANSFER", "role": "TRANSFEROR",
         "reciprocalRole": "TRANSFEREE"},
        {"fromId": "K", "toId": "C", "kind": "CONTROL", "share": 30.0, "basis": "CONSOLIDATION"},
    ):  # fmt: skip
        assert (await mutate(db, "relateClients", link))["__typename"] == "ClientLinkSuccess"
    e = await _exposure(db, "T", 4)
    assert {m["client"]["id"]: [x["kind"] for x in m["path"]] for m in e["members"]} == {
        "T": [], "K": ["PROFIT_TRANSFER"], "C": ["PROFIT_TRANSFER", "CONTROL"],
    }  # fmt: skip
    assert e["total"] == "30.00"
    data, errors, _ = await execute(db, '{ client(id: "C") { group { root { id } } } }')
    assert errors == [] and data == {"client": {"group": {"root": {"id": "K"}}}}


async def test_a_group_s_rule_is_the_same_whichever_member_is_asked(
    empty_graph: Driver, db: Db
) -> None:
    """BANK controls the corporate K, and K depends on the corporate D: a mixed group, held to
    the non-bank group limit (20%) asked from K or from BANK, while each member keeps its own
    kind's single limit. B1 and B2, banks, one controlling the other, are an interbank group:
    one limit of 25% on the group's total. largestExposures holds both groups alike."""
    bank = _small_bank(
        [_client("K"), _client("D"), _client("BANK", kind="INTERBANK"),
         _client("B1", kind="INTERBANK"), _client("B2", kind="INTERBANK")],
        [_facility("fK", "K", "ACCEPTANCE", 2200, 0, "d-ka", "d-appr"),
         _facility("fB2", "B2", "LOAN", 2300, 0, "d-ka", "d-appr")],
        [_dependence("K", "D")],
    )  # fmt: skip
    bank.controls = [
        {"fromId": a, "toId": b, "share": 60.0, "basis": "EQUITY"}
        for a, b in (("BANK", "K"), ("B1", "B2"))
    ]
    load(empty_graph, DATABASE, bank, quiet=True)
    await execute(db, SETTINGS, {"p": "CN_2018"})

    def rules(exposure: dict[str, Any]) -> dict[str, tuple[str, bool]]:
        return {u["rule"]: (u["amount"], u["breached"]) for u in exposure["limitUsage"]}

    assert rules(await _exposure(db, "K", 4)) == {
        "SINGLE_CLIENT": ("2200.00", True),  # 22% of tier-1 > 15%
        "SINGLE_CLIENT_LOANS": ("0.00", False),
        "GROUP": ("2200.00", True),  # 22% > 20%: the bank does not lift it to 25%
    }
    assert rules(await _exposure(db, "BANK", 4)) == {
        "INTERBANK": ("0.00", False),  # its own credit
        "GROUP": ("2200.00", True),  # the same group, the same rule
    }
    assert rules(await _exposure(db, "B1", 4)) == {"INTERBANK": ("2300.00", False)}  # 23% ≤ 25%
    data, errors, _ = await execute(
        db, "{ largestExposures { root { id } limitUsage { rule breached } } }"
    )
    assert errors == [] and data is not None
    assert {e["root"]["id"]: e["limitUsage"] for e in data["largestExposures"]} == {
        "B1": {"rule": "INTERBANK", "breached": False},
        "BANK": {"rule": "GROUP", "breached": True},
    }  # (D, with no credit, is in no ranking)


async def test_basel_profile_changes_the_flags(risk_bank: Driver, db: Db) -> None:
    await execute(db, SETTINGS, {"p": "BASEL"})
    usage = {u["rule"]: u for u in (await _exposure(db, "S1", 4))["limitUsage"]}
    assert "SINGLE_CLIENT_LOANS" not in usage
    assert (usage["SINGLE_CLIENT"]["breached"], usage["SINGLE_CLIENT"]["reportable"]) == (
        False, False,
    )  # fmt: skip
    assert (usage["GROUP"]["breached"], usage["GROUP"]["reportable"]) == (False, True)


async def test_bad_settings_are_rejected_and_change_nothing(risk_bank: Driver, db: Db) -> None:
    before = graph_snapshot(risk_bank)
    data, errors, _ = await execute(
        db,
        'mutation { setRiskSettings(input: {profile: BASEL, tier1Capital: "-1", netCapital: "5"})'
        " { __typename ... on ValidationError { field } } }",
    )
    assert errors == [] and data is not None
    assert data["setRiskSettings"] == {"__typename": "ValidationError", "field": "tier1Capital"}
    assert graph_snapshot(risk_bank) == before


CIRCLES = """query ($size: Int!, $min: Decimal) {
  guaranteeCircles(maxSize: $size, minExposure: $min) {
    circles { memberIds size guaranteed exposure links { guarantorId borrowerId facilityId } }
    mutualPairs { memberIds exposure }
    circleCount mutualPairCount complete
  }
}"""


async def test_circles_each_once_overlapping_and_mutual(risk_bank: Driver, db: Db) -> None:
    data, errors, ctx = await execute(db, CIRCLES, {"size": 6, "min": None})
    assert errors == [] and data is not None
    found = data["guaranteeCircles"]
    # Largest exposure first.
    assert [(c["memberIds"], c["guaranteed"], c["exposure"]) for c in found["circles"]] == [
        (["A", "B", "D"], "15.00", "70.00"),
        (["A", "B", "C"], "15.00", "60.00"),
    ]
    assert (found["circleCount"], found["mutualPairCount"]) == (2, 1)
    assert found["circles"][1]["links"] == [
        {"guarantorId": "A", "borrowerId": "B", "facilityId": "fB"},
        {"guarantorId": "B", "borrowerId": "C", "facilityId": "fC"},
        {"guarantorId": "C", "borrowerId": "A", "facilityId": "fA"},
    ]
    assert found["mutualPairs"] == [{"memberIds": ["X", "Y"], "exposure": "110.00"}]
    assert found["complete"] is True
    assert ctx.db.round_trips <= 2
    data, errors, _ = await execute(db, CIRCLES, {"size": 2, "min": "0"})
    assert errors == [] and data is not None
    assert data["guaranteeCircles"]["circles"] == []
    data, _, _ = await execute(db, CIRCLES, {"size": 6, "min": "65"})
    assert data is not None
    assert [c["memberIds"] for c in data["guaranteeCircles"]["circles"]] == [["A", "B", "D"]]
    query = "{ guaranteeCircles(first: 1) { circles { memberIds } circleCount } }"
    data, errors, _ = await execute(db, query)
    assert errors == [] and data is not None
    assert data["guaranteeCircles"] == {
        "circles": [{"memberIds": ["A", "B", "D"]}],
        "circleCount": 2,
    }


async def test_largest_exposures(risk_bank: Driver, db: Db) -> None:
    await execute(db, SETTINGS, {"p": "CN_2018"})
    db.round_trips = 0
    _, errors, _ = await execute(db, "{ largestExposures { total limitUsage { breached } } }")
    assert errors == []
    assert db.round_trips == 1  # the capital base comes in the same statement
    query = """{ largestExposures(first: 3) {
      root { id } memberIds direct indirect total limitUsage { rule breached reportable } } }"""
    data, errors, _ = await execute(db, query)
    assert errors == [] and data is not None
    assert data["largestExposures"] == [
        # P, S1, S3: 1000 + 300 + 200; guarantees of fO capped at its 500. 20% is not over 20%.
        {"root": {"id": "P"}, "memberIds": ["P", "S1", "S3"], "direct": "1500.00",
         "indirect": "500.00", "total": "2000.00",
         "limitUsage": {"rule": "GROUP", "breached": False, "reportable": True}},
        {"root": {"id": "S2"}, "memberIds": ["S2"], "direct": "700.00", "indirect": "100.00",
         "total": "800.00",
         "limitUsage": {"rule": "SINGLE_CLIENT", "breached": False, "reportable": True}},
        {"root": {"id": "O"}, "memberIds": ["O"], "direct": "500.00", "indirect": "0.00",
         "total": "500.00",
         "limitUsage": {"rule": "SINGLE_CLIENT", "breached": False, "reportable": True}},
    ]  # fmt: skip


async def test_largest_exposures_list_the_whole_control_group(empty_graph: Driver, db: Db) -> None:
    """P has no credit of its own; it still heads the group and makes it one."""
    bank = _small_bank(
        [_client("P"), _client("S")], [_facility("fS", "S", "LOAN", 1800, 0, "d-ka", "d-appr")], []
    )
    bank.controls = [{"fromId": "P", "toId": "S", "share": 80.0, "basis": "EQUITY"}]
    load(empty_graph, DATABASE, bank, quiet=True)
    await execute(db, SETTINGS, {"p": "CN_2018"})
    data, errors, _ = await execute(
        db, "{ largestExposures { root { id } memberIds total limitUsage { rule breached } } }"
    )
    assert errors == [] and data is not None
    assert data["largestExposures"] == [
        {"root": {"id": "P"}, "memberIds": ["P", "S"], "total": "1800.00",
         "limitUsage": {"rule": "GROUP", "breached": False}},  # 18% ≤ 20%
    ]  # fmt: skip


async def test_a_client_under_two_controllers_counts_in_both_groups(
    empty_graph: Driver, db: Db
) -> None:
    """C is controlled by A (60% of shares) and by B (the board): each controller's group is
    reported whole, with C in it (B's used to be reported alone, without what it controls);
    C's own `group` names one of them, A, the smaller id, which holds the unified limit."""
    bank = _small_bank(
        [_client(c) for c in ("A", "B", "C")],
        [_facility(f"f{c}", c, "LOAN", limit, 0, "d-ka", "d-appr")
         for c, limit in (("A", 1000), ("B", 100), ("C", 100))],
        [],
    )  # fmt: skip
    bank.controls = [
        {"fromId": "A", "toId": "C", "share": 60.0, "basis": "EQUITY"},
        {"fromId": "B", "toId": "C", "share": 10.0, "basis": "BOARD"},
    ]
    load(empty_graph, DATABASE, bank, quiet=True)
    data, errors, _ = await execute(db, "{ largestExposures { root { id } memberIds total } }")
    assert errors == [] and data is not None
    assert data["largestExposures"] == [
        {"root": {"id": "A"}, "memberIds": ["A", "C"], "total": "1100.00"},
        {"root": {"id": "B"}, "memberIds": ["B", "C"], "total": "200.00"},
    ]
    data, errors, _ = await execute(db, '{ client(id: "C") { group { root { id } } } }')
    assert errors == [] and data == {"client": {"group": {"root": {"id": "A"}}}}


async def test_demo_bank_circles_and_group(demo_bank: Driver, db: Db) -> None:
    data, errors, _ = await execute(db, CIRCLES, {"size": 6, "min": None})
    assert errors == [] and data is not None
    circles = [tuple(c["memberIds"]) for c in data["guaranteeCircles"]["circles"]]
    assert demo.GUARANTEE_CIRCLE_3 in circles
    assert demo.GUARANTEE_CIRCLE_4 in circles
    pairs = [tuple(c["memberIds"]) for c in data["guaranteeCircles"]["mutualPairs"]]
    assert demo.MUTUAL_PAIR in pairs
    e = await _exposure(db, demo.HD_STEEL_ID, 4)
    assert {m["client"]["id"] for m in e["members"]} == set(demo.HD_STEEL_GROUP)
    assert e["multipleGrantors"] is True


@pytest.mark.parametrize(
    ("query", "argument"),
    [
        ('{ creditExposure(clientId: "P", maxDepth: 0) { total } }', "maxDepth"),
        ('{ creditExposure(clientId: "P", maxDepth: 7) { total } }', "maxDepth"),
        ('{ creditExposure(clientId: "no such!", maxDepth: 2) { total } }', "clientId"),
        ("{ guaranteeCircles(maxSize: 1) { complete } }", "maxSize"),
        ("{ guaranteeCircles(maxSize: 9) { complete } }", "maxSize"),
        ('{ guaranteeCircles(minExposure: "-1") { complete } }', "minExposure"),
        ("{ guaranteeCircles(first: 0) { complete } }", "first"),
        ("{ guaranteeCircles(first: 1001) { complete } }", "first"),
        ("{ largestExposures(first: 0) { total } }", "first"),
    ],
)
async def test_bad_arguments_are_named(
    risk_bank: Driver, db: Db, query: str, argument: str
) -> None:
    _, errors, _ = await execute(db, query)
    [error] = errors
    assert error.extensions == {"code": "BAD_USER_INPUT", "argument": argument}


async def test_unknown_client_is_null(risk_bank: Driver, db: Db) -> None:
    data, errors, _ = await execute(db, '{ creditExposure(clientId: "nobody") { total } }')
    assert errors == [] and data == {"creditExposure": None}
