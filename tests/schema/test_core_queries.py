"""The core queries against the small hand-built bank, whose answers are known exactly."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from neo4j import Driver

from graph.db import Db
from seeds.loader import load
from tests.conftest import DATABASE
from tests.gql import execute
from tests.small_bank import build_small_bank


@pytest.fixture
def small_bank(empty_graph: Driver) -> Iterator[Driver]:
    load(empty_graph, DATABASE, build_small_bank(), quiet=True)
    yield empty_graph


CLIENT_PAGE = """
query ($id: ID!) {
  client(id: $id) {
    id name kind segment grade riskRating
    managers { role since manager { id name } }
    primaryManager { id level department { id } reportsTo { id } }
    secondaryManagers { id }
    departmentPath { id }
    holdings { product { id name } balance since active }
    closed: holdings(includeClosed: true) { product { id } active }
    facilities { id type limit drawn currency grantingDepartment { id } approvingDepartment { id } }
    relatedClients { kind direction role otherRole share amount facilityId client { id } }
  }
}
"""


async def test_client_exposes_its_links(small_bank: Driver, db: Db) -> None:
    data, errors, _ = await execute(db, CLIENT_PAGE, {"id": "c-1"})
    assert errors == []
    assert data is not None
    c = data["client"]
    assert (c["name"], c["kind"], c["segment"], c["grade"]) == (
        "甲集团",
        "CORPORATE",
        "EXISTING",
        "A",
    )
    assert c["managers"] == [
        {"role": "PRIMARY", "since": "2020-03-01", "manager": {"id": "m-1", "name": "王强"}},
        {"role": "SECONDARY", "since": "2023-08-01", "manager": {"id": "m-2", "name": "李娜"}},
    ]
    assert c["primaryManager"] == {
        "id": "m-1", "level": "SENIOR", "department": {"id": "d-ka-rm"}, "reportsTo": None,
    }  # fmt: skip
    assert c["secondaryManagers"] == [{"id": "m-2"}]
    assert [d["id"] for d in c["departmentPath"]] == ["d-ka-rm", "d-ka", "d-root"]
    assert c["holdings"] == [
        {"product": {"id": "p-dep", "name": "单位活期存款"}, "balance": "1234567.89",
         "since": "2020-04-01", "active": True}
    ]  # fmt: skip
    assert c["closed"] == [
        {"product": {"id": "p-dep"}, "active": True},
        {"product": {"id": "p-cash"}, "active": False},
    ]
    assert c["facilities"] == []
    assert c["relatedClients"] == [
        {"kind": "CONTROL", "direction": "OUTGOING", "role": "PARENT", "otherRole": "SUBSIDIARY",
         "share": 60.0, "amount": None, "facilityId": None, "client": {"id": "c-2"}},
        {"kind": "SUPPLY_CHAIN", "direction": "INCOMING", "role": "CUSTOMER",
         "otherRole": "SUPPLIER", "share": None, "amount": None, "facilityId": None,
         "client": {"id": "c-3"}},
    ]  # fmt: skip


async def test_facilities_and_guarantees_seen_from_both_sides(small_bank: Driver, db: Db) -> None:
    query = """
    query {
      borrower: client(id: "c-2") {
        facilities { id limit drawn grantingDepartment { id } approvingDepartment { id } }
        relatedClients(kinds: [GUARANTEE]) { role otherRole amount facilityId client { id } }
      }
      guarantor: client(id: "c-3") {
        relatedClients(kinds: [GUARANTEE], direction: OUTGOING) { role client { id } }
      }
    }"""
    data, errors, _ = await execute(db, query)
    assert errors == []
    assert data is not None
    assert data["borrower"]["facilities"] == [
        {"id": "f-1", "limit": "500000000.00", "drawn": "123456789.01",
         "grantingDepartment": {"id": "d-ka"}, "approvingDepartment": {"id": "d-risk"}}
    ]  # fmt: skip
    assert data["borrower"]["relatedClients"] == [
        {"role": "GUARANTEED", "otherRole": "GUARANTOR", "amount": "10000000.00",
         "facilityId": "f-1", "client": {"id": "c-3"}}
    ]  # fmt: skip
    assert data["guarantor"]["relatedClients"] == [{"role": "GUARANTOR", "client": {"id": "c-2"}}]


async def test_department_links(small_bank: Driver, db: Db) -> None:
    query = """
    query {
      ka: department(id: "d-ka") {
        name parent { id } children { id } members { id }
        linearTo { department { id } note } checkedBy { department { id } note since }
        pathToRoot { id }
      }
      risk: department(id: "d-risk") {
        checks { department { id } } linearFrom { department { id } }
      }
      prod: department(id: "d-prod") { products { id } linearFrom { department { id } } }
    }"""
    data, errors, _ = await execute(db, query)
    assert errors == []
    assert data is not None
    assert data["ka"] == {
        "name": "大客户部",
        "parent": {"id": "d-root"},
        "children": [{"id": "d-ka-rm"}],
        "members": [],
        "linearTo": [{"department": {"id": "d-prod"}, "note": "产品需求移交"}],
        "checkedBy": [{"department": {"id": "d-risk"}, "note": "审贷分离", "since": "2021-01-01"}],
        "pathToRoot": [{"id": "d-ka"}, {"id": "d-root"}],
    }
    assert data["risk"] == {"checks": [{"department": {"id": "d-ka"}}], "linearFrom": []}
    assert data["prod"] == {
        "products": [{"id": "p-cash"}, {"id": "p-dep"}],
        "linearFrom": [{"department": {"id": "d-ka"}}],
    }


async def test_manager_and_product_links(small_bank: Driver, db: Db) -> None:
    query = """
    query {
      manager(id: "m-2") {
        reportsTo { id }
        clients { role client { id } }
        primaryOnly: clients(role: PRIMARY, first: 1) { client { id } }
      }
      product(id: "p-dep") { offeredBy { id } crossSellsTo { product { id } lift confidence } }
    }"""
    data, errors, _ = await execute(db, query)
    assert errors == []
    assert data is not None
    assert data["manager"] == {
        "reportsTo": {"id": "m-1"},
        "clients": [
            {"role": "PRIMARY", "client": {"id": "c-3"}},
            {"role": "PRIMARY", "client": {"id": "c-4"}},
            {"role": "SECONDARY", "client": {"id": "c-1"}},
        ],
        "primaryOnly": [{"client": {"id": "c-3"}}],
    }
    assert data["product"] == {
        "offeredBy": [{"id": "d-prod"}],
        "crossSellsTo": [{"product": {"id": "p-cash"}, "lift": 1.5, "confidence": 0.5}],
    }


@pytest.mark.parametrize(
    ("filter_", "expected"),
    [
        ({}, ["c-1", "c-2", "c-3", "c-4"]),
        ({"nameContains": "甲"}, ["c-1", "c-2"]),
        ({"kind": "INDIVIDUAL"}, ["c-4"]),
        ({"grade": "B"}, ["c-3"]),
        ({"primaryManagerId": "m-1"}, ["c-1", "c-2"]),
        ({"departmentId": "d-ka"}, ["c-1", "c-2", "c-3", "c-4"]),
        ({"departmentId": "d-risk"}, []),
        ({"kind": "CORPORATE", "primaryManagerId": "m-2"}, ["c-3"]),
    ],
)
async def test_clients_filters(
    small_bank: Driver, db: Db, filter_: dict[str, str], expected: list[str]
) -> None:
    query = "query ($f: ClientFilter) { clients(filter: $f) { totalCount edges { node { id } } } }"
    data, errors, _ = await execute(db, query, {"f": filter_})
    assert errors == []
    assert data is not None
    assert [e["node"]["id"] for e in data["clients"]["edges"]] == expected
    assert data["clients"]["totalCount"] == len(expected)


async def test_clients_pages_follow_cursors(small_bank: Driver, db: Db) -> None:
    query = """query ($after: String) {
      clients(first: 3, after: $after) {
        edges { cursor node { id } } pageInfo { hasNextPage endCursor }
      }
    }"""
    data, errors, _ = await execute(db, query, {"after": None})
    assert errors == [] and data is not None
    first_page = data["clients"]
    assert [e["node"]["id"] for e in first_page["edges"]] == ["c-1", "c-2", "c-3"]
    assert first_page["pageInfo"]["hasNextPage"] is True
    data, errors, _ = await execute(db, query, {"after": first_page["pageInfo"]["endCursor"]})
    assert errors == [] and data is not None
    assert [e["node"]["id"] for e in data["clients"]["edges"]] == ["c-4"]
    assert data["clients"]["pageInfo"] == {
        "hasNextPage": False,
        "endCursor": data["clients"]["edges"][0]["cursor"],
    }


async def test_other_lists(small_bank: Driver, db: Db) -> None:
    query = """query {
      managers(filter: {level: SENIOR}) { edges { node { id } } }
      departments(filter: {function: CLIENT}) { totalCount edges { node { id } } }
      products(filter: {category: SETTLEMENT}) { edges { node { id } } }
    }"""
    data, errors, _ = await execute(db, query)
    assert errors == [] and data is not None
    assert [e["node"]["id"] for e in data["managers"]["edges"]] == ["m-1"]
    assert [e["node"]["id"] for e in data["departments"]["edges"]] == ["d-ka", "d-ka-rm"]
    assert [e["node"]["id"] for e in data["products"]["edges"]] == ["p-cash"]


async def test_a_departments_lists_are_pages(demo_bank: Driver, db: Db) -> None:
    query = """query ($n: Int!) { department(id: "dept-ka-rm-group") {
      members(first: $n) { id } children(first: $n) { id } products(first: $n) { id } } }"""
    everything, errors, _ = await execute(db, query, {"n": 100})
    assert errors == [] and everything is not None
    members = [m["id"] for m in everything["department"]["members"]]
    assert len(members) == 13 and members == sorted(members)
    page, errors, _ = await execute(db, query, {"n": 5})
    assert errors == [] and page is not None
    assert [m["id"] for m in page["department"]["members"]] == members[:5]
    refused, errors, _ = await execute(db, query, {"n": 101})
    assert refused == {"department": None} and errors
    assert all(e.extensions == {"code": "BAD_USER_INPUT", "argument": "first"} for e in errors)
