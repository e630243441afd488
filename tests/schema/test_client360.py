"""Client 360: the one-round-trip client page, groups and the relationship graph."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from neo4j import Driver

from graph.db import Db
from seeds.demo import HD_STEEL_GROUP, HD_STEEL_ID
from seeds.loader import load
from tests.conftest import DATABASE, graph_snapshot
from tests.gql import execute
from tests.small_bank import build_small_bank

# The README's client-page example.
CLIENT_PAGE = """
query ClientPage($id: ID!) {
  client(id: $id) {
    id name kind segment grade riskRating
    primaryManager { id name level department { id name } }
    secondaryManagers { id name }
    departmentPath { id name }
    holdings(first: 20) { product { id name category } balance since }
    facilities { id type limit drawn currency
                 grantingDepartment { id name } approvingDepartment { id name } }
    relatedClients(first: 50) { kind direction role otherRole share amount client { id name } }
    group { memberCount totalBalance totalFacilities root { id name } members { id name } }
  }
}
"""


@pytest.fixture
def small_bank(empty_graph: Driver) -> Iterator[Driver]:
    load(empty_graph, DATABASE, build_small_bank(), quiet=True)
    yield empty_graph


async def test_client_page_is_one_round_trip(demo_bank: Driver, db: Db) -> None:
    data, errors, ctx = await execute(db, CLIENT_PAGE, {"id": HD_STEEL_ID})
    assert errors == []
    assert data is not None
    assert ctx.db.round_trips == 1
    page = data["client"]
    assert page["name"] == "华东钢铁集团有限公司"
    assert page["primaryManager"]["department"]["id"] == page["departmentPath"][0]["id"]
    assert page["departmentPath"][-1]["id"] == "dept-hq"
    assert {m["id"] for m in page["group"]["members"]} == set(HD_STEEL_GROUP)
    assert page["group"]["memberCount"] == len(HD_STEEL_GROUP)
    assert page["group"]["root"]["id"] == HD_STEEL_ID
    assert page["facilities"] and all(f["grantingDepartment"] for f in page["facilities"])
    assert {r["client"]["id"] for r in page["relatedClients"] if r["kind"] == "CONTROL"} >= set(
        HD_STEEL_GROUP[1:5]
    )


async def test_page_and_batched_paths_agree(demo_bank: Driver, db: Db) -> None:
    """The same client through `client` (one query) and through `clients` (DataLoaders)."""
    fields = CLIENT_PAGE.split("client(id: $id)", 1)[1].rsplit("}", 1)[0]
    listed = 'query { clients(first: 1, filter: {nameContains: "华东钢铁集团"}) { edges { node ' + (
        fields + "} } }"
    )
    page, errors, _ = await execute(db, CLIENT_PAGE, {"id": HD_STEEL_ID})
    assert errors == [] and page is not None
    batched, errors, _ = await execute(db, listed)
    assert errors == [] and batched is not None
    assert batched["clients"]["edges"][0]["node"] == page["client"]


async def test_group_rolls_up_members(small_bank: Driver, db: Db) -> None:
    query = """query {
      sub: client(id: "c-2") { group { memberCount totalBalance totalFacilities totalDrawn
                                      root { id } members { id } } }
      alone: client(id: "c-3") { group { memberCount } }
    }"""
    data, errors, _ = await execute(db, query)
    assert errors == [] and data is not None
    assert data["sub"]["group"] == {
        "memberCount": 2,
        "totalBalance": "1234567.89",  # c-1's active deposit; the closed holding does not count
        "totalFacilities": "500000000.00",
        "totalDrawn": "123456789.01",
        "root": {"id": "c-1"},
        "members": [{"id": "c-1"}, {"id": "c-2"}],
    }
    assert data["alone"]["group"] is None
    # An archived member keeps its holdings as they were; they are no longer the group's
    # business. Its open credit still counts, as every exposure figure counts it.
    small_bank.execute_query(
        "MATCH (c:Client {id: 'c-1'}) SET c.status = 'ARCHIVED'", database_=DATABASE
    )
    data, errors, _ = await execute(db, query)
    assert errors == [] and data is not None
    assert (data["sub"]["group"]["totalBalance"], data["sub"]["group"]["totalFacilities"]) == (
        "0.00", "500000000.00",
    )  # fmt: skip


GRAPH = """query ($id: ID!, $depth: Int!, $kinds: [RelationKind!], $limit: Int!) {
  relationshipGraph(clientId: $id, depth: $depth, kinds: $kinds, limit: $limit) {
    nodes { id kind label distance } edges { id source target type } truncated
  }
}"""


async def _graph(db: Db, **variables: object) -> dict[str, object]:
    data, errors, _ = await execute(db, GRAPH, {"id": "c-1", "limit": 200, **variables})
    assert errors == [] and data is not None
    result: dict[str, object] = data["relationshipGraph"]
    return result


async def test_graph_depth_one_all_kinds(small_bank: Driver, db: Db) -> None:
    graph = await _graph(db, depth=1, kinds=None)
    assert [(n["id"], n["distance"]) for n in graph["nodes"]] == [  # type: ignore[attr-defined]
        ("Client:c-1", 0), ("Client:c-2", 1), ("Client:c-3", 1), ("Manager:m-1", 1),
        ("Manager:m-2", 1), ("Product:p-cash", 1), ("Product:p-dep", 1),
    ]  # fmt: skip
    assert [e["id"] for e in graph["edges"]] == [  # type: ignore[attr-defined]
        "CONTROLS:Client:c-1->Client:c-2",
        "CROSS_SELLS_TO:Product:p-dep->Product:p-cash",
        "HOLDS:Client:c-1->Product:p-cash",
        "HOLDS:Client:c-1->Product:p-dep",
        "MANAGES:Manager:m-1->Client:c-1",
        "MANAGES:Manager:m-1->Client:c-2",
        "MANAGES:Manager:m-2->Client:c-1",
        "MANAGES:Manager:m-2->Client:c-3",
        "RELATED_TO:Client:c-3->Client:c-1:SUPPLY_CHAIN",
        "REPORTS_TO:Manager:m-2->Manager:m-1",
    ]
    assert graph["truncated"] is False


async def test_graph_kind_filter_and_depth_two(small_bank: Driver, db: Db) -> None:
    shallow = await _graph(db, depth=1, kinds=["CONTROLS", "RELATED_TO"])
    assert [n["id"] for n in shallow["nodes"]] == ["Client:c-1", "Client:c-2", "Client:c-3"]  # type: ignore[attr-defined]
    deep = await _graph(db, depth=2, kinds=["CONTROLS", "RELATED_TO", "BORROWS", "GUARANTEES"])
    assert [(n["id"], n["distance"]) for n in deep["nodes"]] == [  # type: ignore[attr-defined]
        ("Client:c-1", 0), ("Client:c-2", 1), ("Client:c-3", 1), ("Facility:f-1", 2),
    ]  # fmt: skip
    assert [e["id"] for e in deep["edges"]] == [  # type: ignore[attr-defined]
        "BORROWS:Client:c-2->Facility:f-1",
        "CONTROLS:Client:c-1->Client:c-2",
        "GUARANTEES:Client:c-3->Facility:f-1",
        "RELATED_TO:Client:c-3->Client:c-1:SUPPLY_CHAIN",
    ]


async def test_graph_does_not_walk_from_a_manager_to_their_other_clients(
    small_bank: Driver, db: Db
) -> None:
    # m-1 also manages c-2 and m-2 also c-3: sharing a manager is no relationship of c-1's.
    graph = await _graph(db, depth=2, kinds=["MANAGES"])
    assert [(n["id"], n["distance"]) for n in graph["nodes"]] == [  # type: ignore[attr-defined]
        ("Client:c-1", 0), ("Manager:m-1", 1), ("Manager:m-2", 1),
    ]  # fmt: skip
    assert [e["id"] for e in graph["edges"]] == [  # type: ignore[attr-defined]
        "MANAGES:Manager:m-1->Client:c-1",
        "MANAGES:Manager:m-2->Client:c-1",
    ]


async def test_graph_leaves_out_the_guarantees_of_a_closed_facility(
    small_bank: Driver, db: Db
) -> None:
    small_bank.execute_query(
        "MATCH (f:Facility {id: 'f-1'}) SET f.status = 'CLOSED', f.drawnCents = 0",
        database_=DATABASE,
    )
    deep = await _graph(db, depth=2, kinds=["CONTROLS", "RELATED_TO", "BORROWS", "GUARANTEES"])
    # Still drawn from its borrower, with its status; c-3's guarantee of it is released.
    assert [n["id"] for n in deep["nodes"]] == [  # type: ignore[attr-defined]
        "Client:c-1", "Client:c-2", "Client:c-3", "Facility:f-1",
    ]  # fmt: skip
    assert [e["id"] for e in deep["edges"]] == [  # type: ignore[attr-defined]
        "BORROWS:Client:c-2->Facility:f-1",
        "CONTROLS:Client:c-1->Client:c-2",
        "RELATED_TO:Client:c-3->Client:c-1:SUPPLY_CHAIN",
    ]
    guarantor = await _graph(db, id="c-3", depth=2, kinds=["GUARANTEES", "BORROWS"])
    assert [n["id"] for n in guarantor["nodes"]] == ["Client:c-3"]  # type: ignore[attr-defined]
    # A facility from before facilities had a status is open.
    small_bank.execute_query("MATCH (f:Facility {id: 'f-1'}) REMOVE f.status", database_=DATABASE)
    guarantor = await _graph(db, id="c-3", depth=2, kinds=["GUARANTEES", "BORROWS"])
    assert [n["id"] for n in guarantor["nodes"]] == [  # type: ignore[attr-defined]
        "Client:c-3", "Facility:f-1", "Client:c-2",
    ]  # fmt: skip


async def test_graph_truncation_keeps_the_nearest(small_bank: Driver, db: Db) -> None:
    graph = await _graph(db, depth=2, kinds=None, limit=3)
    assert [n["id"] for n in graph["nodes"]] == ["Client:c-1", "Client:c-2", "Client:c-3"]  # type: ignore[attr-defined]
    assert [e["id"] for e in graph["edges"]] == [  # type: ignore[attr-defined]
        "CONTROLS:Client:c-1->Client:c-2",
        "RELATED_TO:Client:c-3->Client:c-1:SUPPLY_CHAIN",
    ]
    assert graph["truncated"] is True
    again = await _graph(db, depth=2, kinds=None, limit=3)
    assert again == graph


async def test_graph_on_the_demo_bank_is_bounded(demo_bank: Driver, db: Db) -> None:
    before = graph_snapshot(demo_bank)
    data, errors, ctx = await execute(
        db, GRAPH, {"id": HD_STEEL_ID, "depth": 4, "kinds": None, "limit": 50}
    )
    assert errors == [] and data is not None
    graph = data["relationshipGraph"]
    assert len(graph["nodes"]) == 50 and graph["truncated"] is True
    distances = [n["distance"] for n in graph["nodes"]]
    assert distances == sorted(distances)
    ids = {n["id"] for n in graph["nodes"]}
    assert graph["edges"] and all(e["source"] in ids and e["target"] in ids for e in graph["edges"])
    assert ctx.db.round_trips == 1
    assert graph_snapshot(demo_bank) == before


@pytest.mark.parametrize(
    ("variables", "argument"),
    [
        ({"depth": 0}, "depth"),
        ({"depth": 5}, "depth"),
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"id": "bad id!"}, "clientId"),
        ({"kinds": []}, "kinds"),  # nothing to follow: not read as "all"
    ],
)
async def test_graph_bad_arguments_are_named(
    demo_bank: Driver, db: Db, variables: dict[str, object], argument: str
) -> None:
    full = {"id": HD_STEEL_ID, "depth": 2, "kinds": None, "limit": 10, **variables}
    data, errors, _ = await execute(db, GRAPH, full)
    assert data == {"relationshipGraph": None}
    [error] = errors
    assert error.extensions == {"code": "BAD_USER_INPUT", "argument": argument}


async def test_graph_unknown_kind_and_unknown_client(demo_bank: Driver, db: Db) -> None:
    _, errors, _ = await execute(
        db, GRAPH, {"id": HD_STEEL_ID, "depth": 1, "kinds": ["NOPE"], "limit": 5}
    )
    assert errors and "NOPE" in errors[0].message
    data, errors, _ = await execute(
        db, GRAPH, {"id": "cli-none", "depth": 1, "kinds": None, "limit": 5}
    )
    assert errors == [] and data == {"relationshipGraph": None}


async def test_an_empty_kinds_filter_is_refused(demo_bank: Driver, db: Db) -> None:
    """`relatedClients(kinds: [])` listed every kind, as if left out; on a client page and on
    a client read alone (another resolver) alike."""
    for query in (
        'query { client(id: "cli-hdsteel") { relatedClients(kinds: []) { kind } } }',
        "query { clients(first: 1) { edges { node { relatedClients(kinds: []) { kind } } } } }",
    ):
        _data, errors, _ = await execute(db, query)
        assert [e.extensions for e in errors] == [
            {"code": "BAD_USER_INPUT", "argument": "kinds"}
        ], query


async def test_related_client_count_says_what_a_page_left_out(demo_bank: Driver, db: Db) -> None:
    """A page of one link, and the count of all of them, in the page's one query; filtered
    differently, the count is what that filter lists."""
    db.round_trips = 0
    data, errors, ctx = await execute(
        db,
        '{ client(id: "cli-hdsteel") { relatedClients(first: 1) { kind } relatedClientCount '
        "controls: relatedClientCount(kinds: [CONTROL]) } }",
    )
    assert errors == [] and data is not None
    assert ctx.db.round_trips == 2  # the page, and the other filter's count
    page = data["client"]
    assert len(page["relatedClients"]) == 1 and page["relatedClientCount"] > 1
    data, errors, _ = await execute(
        db,
        '{ client(id: "cli-hdsteel") { all: relatedClients(first: 100) { kind } '
        "controls: relatedClients(kinds: [CONTROL], first: 100) { kind } } }",
    )
    assert errors == [] and data is not None
    assert page["relatedClientCount"] == len(data["client"]["all"])
    assert page["controls"] == len(data["client"]["controls"]) > 0


async def test_page_caps_are_validated(demo_bank: Driver, db: Db) -> None:
    _data, errors, _ = await execute(
        db, 'query { client(id: "cli-hdsteel") { holdings(first: 101) { balance } } }'
    )
    [error] = errors
    assert error.extensions == {"code": "BAD_USER_INPUT", "argument": "first"}
