"""A manager's book on a hand-built bank: another manager's client by id, through the `clients`
filter, through `relatedClients` and through `relationshipGraph`, with exact answers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from graphql import GraphQLObjectType
from neo4j import Driver

from api.auth import Principal, Role
from api.context import Context
from api.settings import ApiSettings
from graph.db import Db
from schema.build import build_schema
from seeds.loader import load
from tests.conftest import DATABASE
from tests.gql import execute
from tests.small_bank import build_small_bank

# 赵六 (c-5) is the only client of m-3, who works in a department of its own (d-retail), so
# m-3's book is c-5 alone. c-5 is linked to the rest of the small bank, which m-3 may not see:
# it supplies 乙公司 (c-3), holds the product 甲集团 (c-1) holds, and guarantees f-1 (lent to c-2).
ME = Principal("m-3", Role.MANAGER, "m-3")


@pytest.fixture
def bank(empty_graph: Driver) -> Iterator[Driver]:
    rows = build_small_bank()
    rows.departments.append(
        {"id": "d-retail", "name": "零售部", "function": "CLIENT", "model": "CLIENT"}
    )
    rows.direct_links.append({"fromId": "d-retail", "toId": "d-root", "since": "2020-01-01"})
    rows.managers.append(
        {"id": "m-3", "name": "赵敏", "level": "ASSISTANT", "education": "BACHELOR",
         "title": "NONE", "creditYears": 0, "departmentId": "d-retail", "reportsToId": None,
         "since": "2024-01-01"}
    )  # fmt: skip
    rows.clients.append(
        {"id": "c-5", "name": "赵六", "kind": "INDIVIDUAL", "segment": "NEW", "status": "ACTIVE",
         "grade": None, "riskRating": 2, "industry": None, "region": "华东"}
    )  # fmt: skip
    rows.manages.append(
        {"managerId": "m-3", "clientId": "c-5", "role": "PRIMARY", "since": "2024-02-01"}
    )
    rows.holdings.append(
        {"clientId": "c-5", "productId": "p-dep", "balanceCents": 5000, "since": "2024-03-01",
         "active": True}
    )  # fmt: skip
    rows.related.append(
        {"fromId": "c-5", "toId": "c-3", "kind": "SUPPLY_CHAIN", "role": "SUPPLIER",
         "reciprocalRole": "CUSTOMER"}
    )  # fmt: skip
    rows.guarantees.append({"guarantorId": "c-5", "facilityId": "f-1", "amountCents": 200000})
    load(empty_graph, DATABASE, rows, quiet=True)
    yield empty_graph


async def test_other_clients_are_null_by_id_and_absent_from_lists(bank: Driver, db: Db) -> None:
    for other in ("c-1", "c-2", "c-3", "c-4"):
        data, errors, _ = await execute(
            db, "query ($id: ID!) { client(id: $id) { id name } }", {"id": other}, principal=ME
        )
        assert errors == [] and data == {"client": None}
    data, errors, _ = await execute(
        db, "{ clients(first: 100) { totalCount edges { node { id } } } }", principal=ME
    )
    assert errors == []
    assert data == {"clients": {"totalCount": 1, "edges": [{"node": {"id": "c-5"}}]}}
    # A filter matching only other managers' clients finds nothing, not even a count.
    for filt in ('{nameContains: "公司"}', '{primaryManagerId: "m-1"}', '{departmentId: "d-ka"}'):
        data, errors, _ = await execute(
            db, f"{{ clients(filter: {filt}, first: 10) {{ totalCount edges {{ node {{ id }} }} }} }}",
            principal=ME,
        )  # fmt: skip
        assert errors == [] and data == {"clients": {"totalCount": 0, "edges": []}}, filt
    # An admin sees the same clients the manager may not.
    data, _, _ = await execute(db, '{ clients(filter: {nameContains: "公司"}) { totalCount } }')
    assert data == {"clients": {"totalCount": 2}}


async def _pages(db: Db, principal: Principal, filt: str = "{}") -> list[tuple[int, list[str]]]:
    """Every page of one client, following the cursors: (totalCount, ids) each."""
    query = (
        "query ($after: String) { clients(first: 1, after: $after, filter: " + filt + ") { "
        "totalCount edges { node { id } } pageInfo { hasNextPage endCursor } } }"
    )
    pages, after = [], None
    while True:
        data, errors, _ = await execute(db, query, {"after": after}, principal=principal)
        assert errors == [] and data is not None
        page = data["clients"]
        pages.append((page["totalCount"], [e["node"]["id"] for e in page["edges"]]))
        if not page["pageInfo"]["hasNextPage"]:
            return pages
        after = page["pageInfo"]["endCursor"]


async def test_a_managers_book_is_listed_page_by_page(bank: Driver, db: Db) -> None:
    # m-1 and m-2 work in d-ka-rm, primary managers of c-1 to c-4; m-3 is in d-retail.
    m1 = Principal("m-1", Role.MANAGER, "m-1")
    assert await _pages(db, m1) == [(4, ["c-1"]), (4, ["c-2"]), (4, ["c-3"]), (4, ["c-4"])]
    assert await _pages(db, m1, '{kind: CORPORATE, nameContains: "甲"}') == [
        (2, ["c-1"]), (2, ["c-2"]),
    ]  # fmt: skip
    assert await _pages(db, m1, '{primaryManagerId: "m-2"}') == [(2, ["c-3"]), (2, ["c-4"])]
    # A secondary link brings one more client into m-3's book, and no other of its manager's.
    bank.execute_query(
        "MATCH (m:Manager {id: 'm-3'}), (c:Client {id: 'c-3'}) "
        "CREATE (m)-[:MANAGES {role: 'SECONDARY', since: date('2024-01-01')}]->(c)",
        database_=DATABASE,
    )
    assert await _pages(db, ME) == [(2, ["c-3"]), (2, ["c-5"])]


async def test_a_manager_no_longer_active_sees_no_client(bank: Driver, db: Db) -> None:
    # Deactivating keeps the department and any secondary links, and the token lives on until
    # it expires: the book is empty from the moment the manager is inactive.
    bank.execute_query("MATCH (m:Manager {id: 'm-3'}) SET m.active = false", database_=DATABASE)
    query = """{ client(id: "c-5") { id } clients(first: 10) { totalCount edges { node { id } } }
      relationshipGraph(clientId: "c-5") { nodes { id } } }"""
    data, errors, _ = await execute(db, query, principal=ME)
    assert errors == []
    assert data == {"client": None, "clients": {"totalCount": 0, "edges": []},
                    "relationshipGraph": None}  # fmt: skip
    data, errors, _ = await execute(
        db,
        'mutation { updateClient(input: {clientId: "c-5", name: "x"}) { __typename } }',
        principal=ME,
    )
    assert errors == [] and data == {"updateClient": {"__typename": "NotFoundError"}}
    bank.execute_query("MATCH (m:Manager {id: 'm-3'}) SET m.active = true", database_=DATABASE)
    data, errors, _ = await execute(db, '{ client(id: "c-5") { id } }', principal=ME)
    assert errors == [] and data == {"client": {"id": "c-5"}}


async def test_related_clients_outside_the_book_are_opaque(bank: Driver, db: Db) -> None:
    query = """{ client(id: "c-5") { name relatedClients { kind role client {
      id kind visible name segment riskRating holdings { balance } facilities { id }
      relatedClients { kind } relatedClientCount primaryManager { id } managers { role }
      group { memberCount } } } } }"""
    data, errors, _ = await execute(db, query, principal=ME)
    assert errors == []
    opaque = {
        "kind": "CORPORATE", "visible": False, "name": None, "segment": None, "riskRating": None,
        "holdings": [], "facilities": [], "relatedClients": [], "relatedClientCount": None,
        "primaryManager": None, "managers": [], "group": None,
    }  # fmt: skip
    # c-5 guarantees f-1, so f-1's borrower c-2 is related to it as well.
    assert data == {
        "client": {
            "name": "赵六",
            "relatedClients": [
                {"kind": "GUARANTEE", "role": "GUARANTOR", "client": {"id": "c-2", **opaque}},
                {"kind": "SUPPLY_CHAIN", "role": "SUPPLIER", "client": {"id": "c-3", **opaque}},
            ],
        }
    }


async def test_a_client_known_to_be_in_the_book_is_read_without_the_check(
    bank: Driver, db: Db
) -> None:
    # The page tells the request which of its clients are in the book; for those, a manager's
    # reads take the executor's short path. With `Client.name`'s resolver made to fail, only
    # the clients outside the book (which still go the checked way, to null) reach it.
    built = build_schema(ApiSettings())
    client_type = built._schema.type_map["Client"]
    assert isinstance(client_type, GraphQLObjectType)

    def never(*_: Any, **__: Any) -> Any:
        raise AssertionError("resolver called")

    client_type.fields["name"].resolve = never
    result = await built.execute(
        '{ client(id: "c-5") { name relatedClients { client { id name } } } }',
        context_value=Context(db=db, request_id="test", principal=ME),
    )
    assert result.data is not None
    assert result.data["client"]["name"] == "赵六"
    assert sorted(str(e.path) for e in result.errors or []) == [
        "['client', 'relatedClients', 0, 'client', 'name']",
        "['client', 'relatedClients', 1, 'client', 'name']",
    ]
    assert {e.extensions["code"] for e in result.errors or [] if e.extensions} == {
        "INTERNAL_ERROR"  # the failing resolver's AssertionError, masked
    }


GRAPH = """query ($id: ID!) { relationshipGraph(clientId: $id, depth: 4, limit: 50,
  kinds: [RELATED_TO, CONTROLS, GUARANTEES, BORROWS, HOLDS]) {
  nodes { id kind label distance visible properties } edges { id properties } truncated } }"""


def _nodes(data: dict[str, Any]) -> list[tuple[str, str, int]]:
    return [(n["id"], n["label"], n["distance"]) for n in data["relationshipGraph"]["nodes"]]


async def test_relationship_graph_stops_at_clients_outside_the_book(bank: Driver, db: Db) -> None:
    data, errors, ctx = await execute(db, GRAPH, {"id": "c-5"}, principal=ME)
    assert errors == [] and data is not None
    assert ctx.db.round_trips == 1
    # c-3 and f-1 (lent to c-2) are reached from c-5 and not walked through, so c-2, f-1's
    # borrower and c-3's relations never appear. (c-1 holds the same product, but a product is
    # not walked back to its other holders: sharing one is not a relationship.)
    assert _nodes(data) == [
        ("Client:c-5", "赵六", 0),
        ("Client:c-3", "c-3", 1),
        ("Facility:f-1", "f-1", 1),
        ("Product:p-dep", "单位活期存款", 1),
    ]
    props = {n["id"]: n["properties"] for n in data["relationshipGraph"]["nodes"]}
    assert props["Client:c-3"] == {"id": "c-3", "kind": "CORPORATE"}
    assert props["Facility:f-1"] == {"id": "f-1"}
    visible = {n["id"]: n["visible"] for n in data["relationshipGraph"]["nodes"]}
    assert visible == {
        "Client:c-5": True, "Client:c-3": False, "Facility:f-1": False, "Product:p-dep": True,
    }  # fmt: skip
    assert props["Client:c-5"]["name"] == "赵六" and props["Product:p-dep"]["id"] == "p-dep"
    # c-5's own links keep their figures; a link between others (c-3 also guarantees f-1) is
    # none of this manager's business and is left out.
    assert data["relationshipGraph"]["edges"] == [
        {"id": "GUARANTEES:Client:c-5->Facility:f-1", "properties": {"amount": "2000.00"}},
        {"id": "HOLDS:Client:c-5->Product:p-dep",
         "properties": {"balance": "50.00", "since": "2024-03-01", "active": True,
                        "consented": True}},
        {"id": "RELATED_TO:Client:c-5->Client:c-3:SUPPLY_CHAIN",
         "properties": {"kind": "SUPPLY_CHAIN", "role": "SUPPLIER",
                        "reciprocalRole": "CUSTOMER"}},
    ]  # fmt: skip
    assert data["relationshipGraph"]["truncated"] is False


async def test_a_hidden_clients_own_links_stay_out_of_the_graph(bank: Driver, db: Db) -> None:
    # 李娜 (m-2) draws c-3: c-5 (outside her book) supplies c-3, so it appears, opaque, with
    # that link; which product c-5 holds, or whom it guarantees, she does not see.
    her = Principal("m-2", Role.MANAGER, "m-2")
    data, errors, _ = await execute(db, GRAPH, {"id": "c-3"}, principal=her)
    assert errors == [] and data is not None
    edges = [e["id"] for e in data["relationshipGraph"]["edges"]]
    touching_c5 = [e for e in edges if "Client:c-5" in e]
    assert touching_c5 == ["RELATED_TO:Client:c-5->Client:c-3:SUPPLY_CHAIN"]
    props = {n["id"]: n["properties"] for n in data["relationshipGraph"]["nodes"]}
    assert props["Client:c-5"] == {"id": "c-5", "kind": "INDIVIDUAL"}
    # An admin sees c-5's holding and guarantee from the same start.
    data, errors, _ = await execute(db, GRAPH, {"id": "c-3"})
    assert errors == [] and data is not None
    assert {e["id"] for e in data["relationshipGraph"]["edges"]} >= {
        "HOLDS:Client:c-5->Product:p-dep",
        "GUARANTEES:Client:c-5->Facility:f-1",
    }


async def test_admin_graph_walks_on_and_hidden_starts_are_null(bank: Driver, db: Db) -> None:
    # A client's interaction counter is the writes' bookkeeping, not a property to draw.
    bank.execute_query("MATCH (c:Client {id: 'c-5'}) SET c.interactionSeq = 3", database_=DATABASE)
    data, errors, _ = await execute(db, GRAPH, {"id": "c-5"})
    assert errors == [] and data is not None
    start = data["relationshipGraph"]["nodes"][0]
    assert start["visible"] is True and "interactionSeq" not in start["properties"]
    assert start["properties"]["name"] == "赵六"
    # Walked through c-3, f-1 and c-1: c-2 (borrower, controlled) and p-cash (c-1's) appear.
    assert _nodes(data) == [
        ("Client:c-5", "赵六", 0),
        ("Client:c-3", "乙公司", 1),
        ("Facility:f-1", "f-1", 1),
        ("Product:p-dep", "单位活期存款", 1),
        ("Client:c-1", "甲集团", 2),
        ("Client:c-2", "甲子公司", 2),
        ("Product:p-cash", "现金管理", 3),
    ]
    facility = data["relationshipGraph"]["nodes"][2]["properties"]
    assert (facility["limit"], facility["drawn"]) == ("500000000.00", "123456789.01")
    for other in ("c-1", "c-3"):
        data, errors, _ = await execute(db, GRAPH, {"id": other}, principal=ME)
        assert errors == [] and data == {"relationshipGraph": None}
    data, errors, _ = await execute(
        db, '{ crossSellPaths(clientId: "c-1") { score } }', principal=ME
    )
    assert errors == [] and data == {"crossSellPaths": None}


async def test_a_managers_client_page_is_one_query_that_knows_the_book(
    bank: Driver, db: Db
) -> None:
    # 李娜 (m-2) sees c-1..c-4 (her own, and those of m-1 in her department), not m-3's c-5.
    her = Principal("m-2", Role.MANAGER, "m-2")
    query = """query ($id: ID!) { client(id: $id) { name
      relatedClients { kind role client { id visible name } } } }"""
    data, errors, ctx = await execute(db, query, {"id": "c-3"}, principal=her)
    assert errors == []
    assert data == {
        "client": {
            "name": "乙公司",
            "relatedClients": [
                {"kind": "GUARANTEE", "role": "GUARANTOR",
                 "client": {"id": "c-2", "visible": True, "name": "甲子公司"}},
                {"kind": "SUPPLY_CHAIN", "role": "SUPPLIER",
                 "client": {"id": "c-1", "visible": True, "name": "甲集团"}},
                {"kind": "SUPPLY_CHAIN", "role": "CUSTOMER",
                 "client": {"id": "c-5", "visible": False, "name": None}},
            ],
        }
    }  # fmt: skip
    # The page's one query answered who is in her book: no separate visibility checks.
    assert ctx.db.round_trips == 1
    db.round_trips = 0
    data, errors, ctx = await execute(db, query, {"id": "c-5"}, principal=her)
    assert errors == [] and data == {"client": None}
    assert ctx.db.round_trips == 1


async def test_a_guarantor_outside_the_book_takes_no_place_in_the_graph(
    bank: Driver, db: Db
) -> None:
    # 王强 (m-1) sees c-2, its facility f-1 and f-1's guarantor c-3; not c-5 (m-3's client), which
    # supplies c-3 and guarantees f-1, nor c-6 (m-3's too), which only guarantees f-1. Another
    # client's guarantee of a facility is none of his business: reached from f-1, neither is
    # taken (c-6 used to take a place under `limit` and then be dropped from the answer); c-5
    # appears as c-3's relation, one level further.
    bank.execute_query(
        "MATCH (m:Manager {id: 'm-3'}), (f:Facility {id: 'f-1'}) "
        "CREATE (m)-[:MANAGES {role: 'PRIMARY', since: date('2024-02-01')}]->"
        "(c:Client {id: 'c-6', name: '孙七', kind: 'INDIVIDUAL', segment: 'NEW', status: 'ACTIVE'})"
        "-[:GUARANTEES {amountCents: 100}]->(f)",
        database_=DATABASE,
    )
    him = Principal("m-1", Role.MANAGER, "m-1")
    query = GRAPH.replace("depth: 4, limit: 50", "depth: $depth, limit: $limit").replace(
        "($id: ID!)", "($id: ID!, $depth: Int!, $limit: Int!)"
    )
    drawn = [
        ("Client:c-2", "甲子公司", 0),
        ("Client:c-1", "甲集团", 1),
        ("Facility:f-1", "f-1", 1),
        ("Client:c-3", "乙公司", 2),
        ("Product:p-cash", "现金管理", 2),
        ("Product:p-dep", "单位活期存款", 2),
    ]
    for depth, limit, nodes in ((2, 6, drawn), (4, 50, [*drawn, ("Client:c-5", "c-5", 3)])):
        variables = {"id": "c-2", "depth": depth, "limit": limit}
        data, errors, _ = await execute(db, query, variables, principal=him)
        assert errors == [] and data is not None
        assert (_nodes(data), data["relationshipGraph"]["truncated"]) == (nodes, False)
    # An admin sees both guarantors, from f-1.
    data, errors, _ = await execute(db, query, {"id": "c-2", "depth": 2, "limit": 50})
    assert errors == [] and data is not None
    assert {n for n in _nodes(data) if n[0] in ("Client:c-5", "Client:c-6")} == {
        ("Client:c-5", "赵六", 2),
        ("Client:c-6", "孙七", 2),
    }
