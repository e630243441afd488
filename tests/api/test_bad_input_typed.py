"""Bad input found in review that reached the driver or the runtime and came back as an internal
error or a 500: each is now refused with a typed answer, and nothing is written."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
from neo4j import Driver
from starlette.testclient import TestClient

from api.app import create_app, request_id_from
from tests.conftest import bearer, graph_snapshot


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


@pytest.fixture
def client(demo_bank: Driver) -> Iterator[TestClient]:
    with TestClient(create_app(), headers=bearer(), raise_server_exceptions=False) as c:
        yield c


def refusals(body: dict[str, Any]) -> set[str]:
    """The codes of the errors, and the typenames of mutation errors, in an answer."""
    found = {str((e.get("extensions") or {}).get("code")) for e in body.get("errors") or []}
    for value in (body.get("data") or {}).values():
        if isinstance(value, dict) and str(value.get("__typename", "")).endswith("Error"):
            found.add(value["__typename"])
    return found


AUDIT = 'query ($a: String) { auditLog(nodeId: "cli-hdsteel", after: $a) { endCursor } }'
INTERACTIONS = (
    'query ($a: String) { client(id: "cli-hdsteel") { interactions(after: $a) { totalCount } } }'
)
CIRCLES = "query ($m: Decimal) { guaranteeCircles(minExposure: $m) { complete } }"
THRESHOLDS = (
    "mutation ($a: Decimal!) { setKeyAccountThresholds(input: {aPurchases: $a, aShare: 0.1, "
    "bPurchases: 1, bShare: 0.05, cPurchases: 0}) { __typename } }"
)
CASES: list[tuple[str, str, dict[str, Any], str]] = [
    ("negative audit cursor", AUDIT, {"a": b64("audit:-5")}, "BAD_USER_INPUT"),
    ("audit cursor past int64", AUDIT, {"a": b64("audit:" + "9" * 30)}, "BAD_USER_INPUT"),
    ("cursor seq past int64", INTERACTIONS,
     {"a": b64(json.dumps(["2024-01-01T00:00:00Z", 2**70, "x"]))}, "BAD_USER_INPUT"),
    ("cursor nested too deep", INTERACTIONS, {"a": b64("[" * 50000 + "]" * 50000)},
     "BAD_USER_INPUT"),
    ("period at the end of time",
     '{ performance(period: {from: "9999-12-31", to: "9999-12-31"}, managerId: "mgr-001") '
     "{ id } }", {}, "BAD_USER_INPUT"),
    ("minExposure Infinity", CIRCLES, {"m": "Infinity"}, "BAD_USER_INPUT"),
    ("minExposure NaN", CIRCLES, {"m": "NaN"}, "BAD_USER_INPUT"),
    ("minExposure 1e999999", CIRCLES, {"m": "1e999999"}, "BAD_USER_INPUT"),
    ("minExposure of a tenth of a cent", CIRCLES, {"m": "0.001"}, "BAD_USER_INPUT"),
    ("threshold Infinity", THRESHOLDS, {"a": "Infinity"}, "ValidationError"),
    ("threshold 1e20", THRESHOLDS, {"a": "1e20"}, "ValidationError"),
    ("threshold of a tenth of a cent", THRESHOLDS, {"a": "0.001"}, "ValidationError"),
]  # fmt: skip


@pytest.mark.parametrize("name,query,variables,refusal", CASES, ids=[c[0] for c in CASES])
def test_bad_values_are_refused_by_name(
    client: TestClient, demo_bank: Driver, name: str, query: str, variables: dict[str, Any],
    refusal: str,
) -> None:  # fmt: skip
    before = graph_snapshot(demo_bank)
    body = client.post("/graphql", json={"query": query, "variables": variables}).json()
    assert refusal in refusals(body) and "INTERNAL_ERROR" not in refusals(body), body
    assert graph_snapshot(demo_bank) == before


def test_offsets_past_eighteen_hours_are_taken_as_the_same_instant(
    client: TestClient, demo_bank: Driver
) -> None:
    # ISO 8601 allows ±23:59, Neo4j ±18:00: the moment is kept, in UTC.
    body = client.post(
        "/graphql",
        json={"query": '{ orgChart(rootId: "dept-hq", asOf: "2020-01-01T00:00:00+20:00") '
              "{ asOf } }"},
    ).json()  # fmt: skip
    assert "errors" not in body
    assert body["data"]["orgChart"]["asOf"].startswith("2019-12-31T04:00:00")


def test_a_moment_without_an_offset_is_the_bank_s_local_time(
    client: TestClient, demo_bank: Driver, shanghai: None
) -> None:
    body = client.post(
        "/graphql",
        json={"query": '{ orgChart(rootId: "dept-hq", asOf: "2020-01-01T12:00:00") { asOf } }'},
    ).json()
    assert "errors" not in body
    assert body["data"]["orgChart"]["asOf"].startswith("2020-01-01T04:00:00")


@pytest.mark.parametrize(
    "raw,refusal",
    [
        (r'{"query": "query ($n: String) { clients(filter: {nameContains: $n}) { totalCount } }",'
         r' "variables": {"n": "\ud800"}}', "BAD_USER_INPUT"),
        # The same in a GraphQL string literal: the GraphQL parser refuses it (no code, no data).
        (r'{"query": "{ clients(filter: {nameContains: \"\\ud800\"}) { totalCount } }"}', "None"),
        (r'{"query": "mutation ($b: String!) { createClient(input: {id: \"cli-zz1\", name: $b, '
         r"kind: CORPORATE, segment: NEW, primaryManagerId: \"mgr-001\"}) { __typename "
         r'... on ValidationError { field } } }", "variables": {"b": "a\ud800"}}',
         "ValidationError"),
    ],
    ids=["variable", "literal", "mutation"],
)  # fmt: skip
def test_lone_surrogates_are_refused_as_bad_input(
    client: TestClient, demo_bank: Driver, raw: str, refusal: str
) -> None:
    before = graph_snapshot(demo_bank)
    response = client.post(
        "/graphql", content=raw.encode(), headers={"content-type": "application/json"}
    )
    body = response.json()
    assert response.status_code == 200
    assert refusal in refusals(body) and "INTERNAL_ERROR" not in refusals(body), body
    assert graph_snapshot(demo_bank) == before


@pytest.mark.parametrize(
    "body",
    [b"5", b"null", b"true", b'"x"', b"[1]", b'{"query": "\xff"}',
     b'{"query": "{ __typename }", "variables": {"a": ' + b"[" * 100_000 + b"]" * 100_000
     + b"}}",
     b'[{"query": "query ($id: ID!) { client(id: $id) { id } }", "variables": "x"}]',
     b'[{"query": 5}]', b'[{"query": {"a": 1}}]', b'[{"query": "{ __typename }"}, {}]',
     b'[{"query": "{ __typename }", "operationName": 1}]',
     b'[{"query": "{ __typename }", "extensions": []}]',
     b'{"query": "{ __typename }", "variables": [1]}'],
    ids=["number", "null", "boolean", "string", "list of numbers", "not UTF-8", "too deep",
         "batch variables a string", "batch query a number", "batch query an object",
         "batch item without a query", "batch operation name a number",
         "batch extensions a list", "variables a list"],
)  # fmt: skip
def test_a_body_that_is_no_request_is_400(client: TestClient, body: bytes) -> None:
    """Never an internal error's message: a request's members are checked in a batch as in a
    single request."""
    response = client.post("/graphql", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text[:200]
    assert "attribute" not in response.text and "object of type" not in response.text


def test_a_get_request_takes_its_variables(client: TestClient) -> None:
    """The batch's member checks are for bodies: a GET's `variables` parameter, decoded on its
    own, is an object without a query, and is taken."""
    response = client.get("/graphql", params={
        "query": "query ($id: ID!) { client(id: $id) { id } }",
        "variables": json.dumps({"id": "cli-0001"}),
    })  # fmt: skip
    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"client": {"id": "cli-0001"}}}


def test_ids_and_texts_are_checked_to_their_end(client: TestClient, demo_bank: Driver) -> None:
    before = graph_snapshot(demo_bank)
    create = (
        'mutation ($id: ID!) { createClient(input: {id: $id, name: "Newline Co", kind: '
        'CORPORATE, segment: NEW, primaryManagerId: "mgr-001"}) { __typename '
        "... on ValidationError { field } } }"
    )
    body = client.post("/graphql", json={"query": create, "variables": {"id": "cli-nl\n"}}).json()
    assert body["data"]["createClient"] == {"__typename": "ValidationError", "field": "id"}
    demote = (
        'mutation ($r: String!) { demoteManager(input: {managerId: "mgr-006", toLevel: "MANAGER", '
        "reason: $r}) { __typename ... on ValidationError { field } } }"
    )
    body = client.post("/graphql", json={"query": demote, "variables": {"r": "y" * 200_000}}).json()
    assert body["data"]["demoteManager"] == {"__typename": "ValidationError", "field": "reason"}
    assert graph_snapshot(demo_bank) == before


def test_a_callers_request_id_is_kept_only_when_it_is_a_plain_token() -> None:
    # Logged with every internal error: a newline in it would forge a log line.
    assert request_id_from("trace-42.a:b") == "trace-42.a:b"
    for forged in ("x\nERROR forged", "x" * 65, ""):
        made = request_id_from(forged)
        assert made != forged and len(made) == 16 and made.isalnum()
    assert request_id_from(None) != request_id_from(None)
