"""What a manager learns of clients outside their book through aggregates and paths: group
totals, another manager's client list, products per client and warm introductions count only the
book; an admin asking the same sees everything. Exact answers on the small bank."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from neo4j import Driver

from api.auth import Principal, Role
from graph.db import Db
from seeds.loader import load
from tests.conftest import DATABASE
from tests.gql import ADMIN, execute
from tests.small_bank import build_small_bank

# m-4 works alone in a department of its own and supports 甲子公司 (c-2) only, so its book is
# c-2. c-2 is in 甲集团's group (c-1 controls it); c-1 holds 1,234,567.89 and c-2 borrows f-1.
# 张三 (c-4) is 甲集团's legal representative: c-4 - c-1 - c-2 is a chain through c-1, which
# m-4 may not see.
ME = Principal("m-4", Role.MANAGER, "m-4")


@pytest.fixture
def bank(empty_graph: Driver) -> Iterator[Driver]:
    rows = build_small_bank()
    rows.departments.append(
        {"id": "d-x", "name": "投行部", "function": "CLIENT", "model": "CLIENT"}
    )
    rows.direct_links.append({"fromId": "d-x", "toId": "d-root", "since": "2020-01-01"})
    rows.managers.append(
        {"id": "m-4", "name": "钱七", "level": "ASSISTANT", "education": "BACHELOR",
         "title": "NONE", "creditYears": 0, "departmentId": "d-x", "reportsToId": None,
         "since": "2024-01-01"}
    )  # fmt: skip
    rows.manages.append(
        {"managerId": "m-4", "clientId": "c-2", "role": "SECONDARY", "since": "2024-02-01"}
    )
    rows.related.append(
        {"fromId": "c-4", "toId": "c-1", "kind": "KEY_PERSON", "role": "LEGAL_REPRESENTATIVE",
         "reciprocalRole": "REPRESENTED_ENTITY"}
    )  # fmt: skip
    load(empty_graph, DATABASE, rows, quiet=True)
    yield empty_graph


GROUP = "group { memberCount totalBalance totalFacilities totalDrawn members { id visible } }"
EVERY_MEMBER = {
    "memberCount": 2, "totalBalance": "1234567.89", "totalFacilities": "500000000.00",
    "totalDrawn": "123456789.01",
    "members": [{"id": "c-1", "visible": True}, {"id": "c-2", "visible": True}],
}  # fmt: skip
BOOK_ONLY = {
    "memberCount": 2, "totalBalance": "0.00", "totalFacilities": "500000000.00",
    "totalDrawn": "123456789.01",
    "members": [{"id": "c-1", "visible": False}, {"id": "c-2", "visible": True}],
}  # fmt: skip


async def test_group_totals_count_only_the_book(bank: Driver, db: Db) -> None:
    # Through the client page (one statement) and through the group loader (a list of clients).
    page = f'{{ client(id: "c-2") {{ {GROUP} }} }}'
    listed = f'{{ clients(filter: {{nameContains: "甲子"}}) {{ edges {{ node {{ {GROUP} }} }} }} }}'
    for principal, expected in ((ME, BOOK_ONLY), (ADMIN, EVERY_MEMBER)):
        data, errors, _ = await execute(db, page, principal=principal)
        assert errors == [] and data == {"client": {"group": expected}}
        data, errors, _ = await execute(db, listed, principal=principal)
        assert errors == [] and data == {"clients": {"edges": [{"node": {"group": expected}}]}}


async def test_another_managers_client_list_shows_only_the_book(bank: Driver, db: Db) -> None:
    query = '{ manager(id: "m-1") { clients { role since client { id } } } }'
    data, errors, _ = await execute(db, query, principal=ME)
    assert errors == []
    assert data == {
        "manager": {
            "clients": [{"role": "PRIMARY", "since": "2020-03-01", "client": {"id": "c-2"}}]
        }
    }
    data, errors, _ = await execute(db, query)
    assert errors == []
    assert [c["client"]["id"] for c in data["manager"]["clients"]] == ["c-1", "c-2"]  # type: ignore[index]


async def test_products_per_client_counts_only_the_book(bank: Driver, db: Db) -> None:
    query = """{ m1: productsPerClient(managerId: "m-1") { activeClients clientsWithProducts holdings }
      bank: productsPerClient { activeClients clientsWithProducts holdings } }"""
    data, errors, _ = await execute(db, query, principal=ME)
    assert errors == []
    assert data == {
        "m1": {"activeClients": 1, "clientsWithProducts": 0, "holdings": 0},
        "bank": {"activeClients": 1, "clientsWithProducts": 0, "holdings": 0},
    }
    data, errors, _ = await execute(db, query)
    assert errors == []
    assert data == {
        "m1": {"activeClients": 2, "clientsWithProducts": 1, "holdings": 1},
        "bank": {"activeClients": 4, "clientsWithProducts": 1, "holdings": 1},
    }


async def test_introductions_pass_only_through_the_book(bank: Driver, db: Db) -> None:
    query = """{ introductionPaths(managerId: "m-4", prospectId: "c-4") {
      chains { fromId toId kinds } reason } }"""
    data, errors, _ = await execute(db, query)
    assert errors == []
    assert data == {
        "introductionPaths": {
            "chains": [
                [
                    {"fromId": "c-2", "toId": "c-1", "kinds": ["CONTROL"]},
                    {"fromId": "c-1", "toId": "c-4", "kinds": ["KEY_PERSON"]},
                ]
            ],
            "reason": None,
        }
    }
    data, errors, _ = await execute(db, query, principal=ME)
    assert errors == []
    assert data == {"introductionPaths": {"chains": [], "reason": "NO_PATH_WITHIN_MAX_HOPS"}}


async def test_another_managers_list_is_capped_after_leaving_out_other_books(
    bank: Driver, db: Db
) -> None:
    # m-1 manages c-1 (outside m-4's book) and c-2: the one place `first: 1` gives goes to c-2.
    query = '{ manager(id: "m-1") { clients(first: 1) { client { id } } } }'
    data, errors, _ = await execute(db, query, principal=ME)
    assert errors == []
    assert data == {"manager": {"clients": [{"client": {"id": "c-2"}}]}}


async def test_an_opaque_clients_interactions_are_an_empty_page(bank: Driver, db: Db) -> None:
    query = """{ client(id: "c-2") { group { members { id visible
      interactions { totalCount hasNextPage endCursor items { id } } } } } }"""
    data, errors, _ = await execute(db, query, principal=ME)
    assert errors == []
    empty: dict[str, Any] = {"totalCount": 0, "hasNextPage": False, "endCursor": None, "items": []}
    members = data["client"]["group"]["members"] if data else []
    assert [(m["id"], m["visible"]) for m in members] == [("c-1", False), ("c-2", True)]
    assert members[0]["interactions"] == empty


NOT_FOUND = "{ __typename ... on NotFoundError { kind id } }"


async def test_mutations_do_not_tell_a_manager_what_exists_outside_the_book(
    bank: Driver, db: Db
) -> None:
    # A client outside the book answers as a missing one, whatever else the input names.
    relate = (
        'mutation ($f: ID!) { relateClients(input: {fromId: $f, toId: "zzz", kind: FAMILY, '
        'role: "A", reciprocalRole: "B"}) ' + NOT_FOUND + " }"
    )
    unrelate = (
        'mutation ($f: ID!) { unrelateClients(input: {fromId: $f, toId: "zzz", kind: KEY_PERSON}) '
        + NOT_FOUND + " }"
    )  # fmt: skip
    for mutation in (relate, unrelate):
        for hidden_or_missing in ("c-1", "c-9"):
            data, errors, _ = await execute(db, mutation, {"f": hidden_or_missing}, principal=ME)
            assert errors == [] and data is not None
            assert list(data.values()) == [
                {"__typename": "NotFoundError", "kind": "Client", "id": hidden_or_missing}
            ]
    # Another book's complaint is as missing as one that never was, and names no client.
    opened, errors, _ = await execute(
        db,
        'mutation { openComplaint(input: {clientId: "c-1", managerId: "m-1", notes: "x"}) '
        "{ ... on Interaction { id } } }",
    )
    assert errors == [] and opened is not None
    complaint = opened["openComplaint"]["id"]
    for name in ("handleComplaint", "closeComplaint"):
        extra = ", satisfaction: 3" if name == "closeComplaint" else ""
        mutation = (
            f"mutation ($id: ID!) {{ {name}(input: {{complaintId: $id{extra}}}) {NOT_FOUND} }}"
        )
        for complaint_id in (complaint, "no-such"):
            data, errors, _ = await execute(db, mutation, {"id": complaint_id}, principal=ME)
            assert errors == [] and data == {
                name: {"__typename": "NotFoundError", "kind": "Complaint", "id": complaint_id}
            }
