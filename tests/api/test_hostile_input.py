"""Hostile input thrown at the key queries and the mutation over HTTP: every answer is a typed
error or a valid result, never a 500, and a rejected write leaves the graph as it was."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from neo4j import Driver
from starlette.testclient import TestClient

from tests.conftest import graph_snapshot, reload_demo

INJECTION = [
    "' OR 1=1 //",
    '") DETACH DELETE n //',
    "cli-0001'}) MATCH (n) DETACH DELETE n //",
    "}]->(x) RETURN x //",
    "\u0000",
    "华东钢铁集团有限公司",
    "😀" * 50,
    "",
    " ",
    "a" * 10_000,
]
texts = st.one_of(st.sampled_from(INJECTION), st.text(max_size=300))
ints = st.one_of(st.integers(), st.sampled_from([-(2**63), 2**63, 0, -1, 10**30]))
decimals = st.one_of(
    st.sampled_from(["-1", "1e400", "NaN", "Infinity", "0.001", "99999999999999999999.99", "x"]),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    texts,
)

QUERIES: list[tuple[str, dict[str, st.SearchStrategy[Any]]]] = [
    ("query ($id: ID!) { client(id: $id) { id name relatedClients { kind } } }", {"id": texts}),
    (
        "query ($n: Int!, $after: String, $name: String) { clients(first: $n, after: $after, "
        "filter: {nameContains: $name}) { totalCount edges { node { id } } } }",
        {"n": ints, "after": st.one_of(st.none(), texts), "name": st.one_of(st.none(), texts)},
    ),
    (
        "query ($id: ID!, $d: Int!, $l: Int!) { relationshipGraph(clientId: $id, depth: $d, "
        "limit: $l) { truncated } }",
        {"id": texts, "d": ints, "l": ints},
    ),
    (
        "query ($id: ID!, $d: Int!) { creditExposure(clientId: $id, maxDepth: $d) { total } }",
        {"id": texts, "d": ints},
    ),
    (
        "query ($s: Int!, $m: Decimal) { guaranteeCircles(maxSize: $s, minExposure: $m) "
        "{ complete } }",
        {"s": ints, "m": st.one_of(st.none(), decimals)},
    ),
    ("query ($id: ID!) { facility(id: $id) { id borrower { id } } }", {"id": texts}),
    (
        "query ($n: Int!, $after: String, $id: ID) { facilities(first: $n, after: $after, "
        "filter: {borrowerId: $id, grantingDepartmentId: $id}) { totalCount } }",
        {"n": ints, "after": st.one_of(st.none(), texts), "id": st.one_of(st.none(), texts)},
    ),
]

MUTATION = (
    "mutation ($p: LimitProfile!, $t: Decimal!, $n: Decimal!) { setRiskSettings(input: "
    "{profile: $p, tier1Capital: $t, netCapital: $n}) { __typename } }"
)


def _check(body: dict[str, Any]) -> None:
    for error in body.get("errors") or []:
        assert "Traceback" not in error["message"]
        code = (error.get("extensions") or {}).get("code")
        assert code != "INTERNAL_ERROR", error


def _variables(spec: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(spec)


FAST = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@FAST
@given(data=st.data())
def test_queries_answer_hostile_input_with_typed_errors(
    api: TestClient, demo_bank: Driver, data: st.DataObject
) -> None:
    query, spec = data.draw(st.sampled_from(QUERIES))
    variables = data.draw(_variables(spec))
    response = api.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code in (200, 400), response.text
    if response.status_code == 200:
        _check(response.json())


@FAST
@given(
    profile=st.sampled_from(["CN_2018", "BASEL", "NOPE", "' OR 1=1"]),
    tier1=decimals,
    net=decimals,
)
def test_rejected_settings_leave_the_graph_unchanged(
    api: TestClient, writable_demo_bank: Driver, profile: str, tier1: str, net: str
) -> None:
    before = graph_snapshot(writable_demo_bank)
    response = api.post(
        "/graphql", json={"query": MUTATION, "variables": {"p": profile, "t": tier1, "n": net}}
    )
    assert response.status_code in (200, 400), response.text
    body = response.json()
    _check(body)
    typename = ((body.get("data") or {}).get("setRiskSettings") or {}).get("__typename")
    if typename != "CapitalBase":
        assert graph_snapshot(writable_demo_bank) == before
    elif graph_snapshot(writable_demo_bank) != before:
        reload_demo(writable_demo_bank)  # each example starts from the demo bank


ADMIN_MUTATIONS = [
    "mutation ($a: ID!, $b: String!) { renameDepartment(input: {departmentId: $a, name: $b}) { __typename } }",
    "mutation ($a: ID!, $b: String!) { createDepartment(input: {id: $a, name: $b, function: CLIENT, model: REGION}) { __typename } }",
    'mutation ($a: ID!, $b: String!) { transferClient(input: {clientId: $a, toManagerId: "mgr-001", reason: $b}) { __typename } }',
    "mutation ($a: ID!, $b: String!) { moveDepartment(input: {departmentId: $a, newParentId: $b}) { __typename } }",
    "mutation ($a: ID!, $b: ID!) { linkDepartments(input: {fromId: $a, toId: $b, kind: LINEAR, note: $a}) { __typename } }",
    "mutation ($a: ID!, $b: ID!) { unlinkDepartments(input: {fromId: $a, toId: $b, kind: DIRECT}) { __typename } }",
    "mutation ($a: ID!, $b: String) { archiveDepartment(input: {departmentId: $a}) { __typename } }",
    "mutation ($a: ID!, $b: ID!) { mergeDepartments(input: {sourceId: $a, targetId: $b}) { __typename } }",
    "mutation ($a: ID!, $b: ID!) { assignManager(input: {managerId: $a, departmentId: $b}) { __typename } }",
]


@FAST
# JSON cannot carry NaN or infinities; everything else a client can send is fair game.
@given(
    support=st.floats(allow_nan=False, allow_infinity=False),
    confidence=st.floats(allow_nan=False, allow_infinity=False),
)
def test_refresh_cross_sell_rejects_bad_thresholds_cleanly(
    api: TestClient, writable_demo_bank: Driver, support: float, confidence: float
) -> None:
    query = "mutation ($s: Float!, $c: Float!) { refreshCrossSell(minSupport: $s, minConfidence: $c) { __typename } }"
    before = graph_snapshot(writable_demo_bank)
    response = api.post(
        "/graphql", json={"query": query, "variables": {"s": support, "c": confidence}}
    )
    assert response.status_code in (200, 400), response.text
    body = response.json()
    _check(body)
    if ((body.get("data") or {}).get("refreshCrossSell") or {}).get(
        "__typename"
    ) != "CrossSellRefresh":
        assert graph_snapshot(writable_demo_bank) == before
    elif graph_snapshot(writable_demo_bank) != before:
        reload_demo(writable_demo_bank)  # each example starts from the demo bank


@FAST
@given(data=st.data())
def test_admin_mutations_reject_hostile_input_cleanly(
    api: TestClient, writable_demo_bank: Driver, data: st.DataObject
) -> None:
    query = data.draw(st.sampled_from(ADMIN_MUTATIONS))
    variables = {"a": data.draw(texts), "b": data.draw(texts)}
    before = graph_snapshot(writable_demo_bank)
    response = api.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code in (200, 400), response.text
    body = response.json()
    _check(body)
    result = next(iter((body.get("data") or {}).values()), None) or {}
    if result.get("__typename") != "RestructureSuccess":
        assert graph_snapshot(writable_demo_bank) == before
    elif graph_snapshot(writable_demo_bank) != before:
        reload_demo(writable_demo_bank)  # each example starts from the demo bank
