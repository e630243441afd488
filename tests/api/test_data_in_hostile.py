"""Hostile input thrown at the data-in mutations over HTTP: every answer is a typed error or a
success, never an internal error, and a refused write leaves the graph as it was."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from neo4j import Driver
from starlette.testclient import TestClient

from tests.api.test_hostile_input import FAST, _check, decimals, texts
from tests.conftest import graph_snapshot, reload_demo

MUTATIONS: list[tuple[str, tuple[str, ...]]] = [
    ("mutation ($a: ID!, $b: String!) { createClient(input: {id: $a, name: $b, kind: CORPORATE, "
     'segment: NEW, riskRating: 3, primaryManagerId: "mgr-001"}) { __typename } }', ("a", "b")),
    ("mutation ($a: ID!, $b: String) { updateClient(input: {clientId: $a, name: $b, "
     "industry: $b}) { __typename } }", ("a", "b")),
    ('mutation ($a: ID!, $b: String) { relateClients(input: {fromId: $a, toId: "cli-0002", '
     "kind: FAMILY, role: $b, reciprocalRole: $b}) { __typename } }", ("a", "b")),
    ('mutation ($a: ID!, $d: Decimal!) { recordHolding(input: {clientId: $a, productId: "prd-fx", '
     "balance: $d}) { __typename } }", ("a", "d")),
    ('mutation ($a: ID!, $b: String!, $d: Decimal!) { createFacility(input: {id: $a, '
     'borrowerId: "cli-0001", type: LOAN, limit: $d, currency: $b, '
     'grantingDepartmentId: "dept-ka-rm-group"}) { __typename } }', ("a", "b", "d")),
    ('mutation ($a: ID!, $d: Decimal!) { drawFacility(input: {facilityId: $a, amount: $d}) '
     "{ __typename } }", ("a", "d")),
    ('mutation ($a: ID!, $d: Decimal!) { repayFacility(input: {facilityId: $a, amount: $d}) '
     "{ __typename } }", ("a", "d")),
    ('mutation ($a: ID!, $b: String, $d: Decimal!) { changeFacilityLimit(input: {facilityId: $a, '
     "limit: $d, reason: $b}) { __typename } }", ("a", "b", "d")),
    ('mutation ($a: ID!, $b: String) { closeFacility(input: {facilityId: $a, reason: $b}) '
     "{ __typename } }", ("a", "b")),
    ('mutation ($a: ID!, $b: String) { releaseGuarantee(input: {guarantorId: $a, '
     'facilityId: "fac-0001", reason: $b}) { __typename } }', ("a", "b")),
    ('mutation ($a: ID!, $b: String) { withdrawApproval(input: {facilityId: $a, reason: $b}) '
     "{ __typename } }", ("a", "b")),
    ('mutation ($a: ID!, $b: String, $d: Decimal!) { changeGuaranteeAmount(input: {guarantorId: '
     '$a, facilityId: "fac-0001", amount: $d, reason: $b}) { __typename } }', ("a", "b", "d")),
    ('mutation ($a: ID!, $d: Decimal!) { addGuarantee(input: {guarantorId: $a, '
     'facilityId: "fac-0001", amount: $d}) { __typename } }', ("a", "d")),
    ("mutation ($a: ID!, $b: String!) { createProduct(input: {id: $a, name: $b, category: FX, "
     'audience: ALL, riskLevel: 2, departmentId: "dept-corp-products"}) { __typename } }',
     ("a", "b")),
    ("mutation ($a: ID!, $b: String) { updateManager(input: {managerId: $a, name: $b}) "
     "{ __typename } }", ("a", "b")),
    ("mutation ($a: ID!, $b: ID!) { approveFacility(input: {facilityId: $a, "
     "approvingDepartmentId: $b}) { __typename } }", ("a", "b")),
]  # fmt: skip

VALUES: dict[str, st.SearchStrategy[Any]] = {"a": texts, "b": texts, "d": decimals, "e": decimals}


@FAST
@given(data=st.data())
def test_data_in_mutations_reject_hostile_input_cleanly(
    api: TestClient, writable_demo_bank: Driver, data: st.DataObject
) -> None:
    query, names = data.draw(st.sampled_from(MUTATIONS))
    variables = {name: data.draw(VALUES[name]) for name in names}
    before = graph_snapshot(writable_demo_bank)
    response = api.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code in (200, 400), response.text
    body = response.json()
    _check(body)
    result = next(iter((body.get("data") or {}).values()), None) or {}
    if not str(result.get("__typename", "")).endswith("Success"):
        assert graph_snapshot(writable_demo_bank) == before
    elif graph_snapshot(writable_demo_bank) != before:
        reload_demo(writable_demo_bank)  # each example starts from the demo bank
