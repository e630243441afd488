"""Facilities by id and across the bank, for risk officers: filtered by status, borrower,
granting department (with its subtree) and whether an independent department approved them.

On the small bank of `test_data_in` (f-1: c-2's loan, granted by d-ka and approved by d-risk)
plus, granted by d-ka-rm (under d-ka): f-2 to c-3, never approved; f-3 to c-1, approved by d-ka,
the granting department's parent (imported as recorded: not independent); f-4 to c-1,
unapproved and closed."""

from __future__ import annotations

from typing import Any

import pytest
from neo4j import Driver

from api.auth import Principal, Role
from graph.db import Db
from seeds.loader import load
from tests.conftest import DATABASE
from tests.gql import execute
from tests.schema.test_data_in import data_in_bank, mutate, new_facility

LIST = """query ($filter: FacilityFilter, $first: Int, $after: String) {
  facilities(filter: $filter, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id status borrower { id } grantingDepartment { id }
                   approvingDepartment { id } } } } }"""


@pytest.fixture
async def bank(empty_graph: Driver, db: Db) -> Driver:
    load(empty_graph, DATABASE, data_in_bank(), quiet=True)
    await mutate(db, "createFacility", new_facility(id="f-2", borrowerId="c-3"))
    await mutate(db, "createFacility", new_facility(id="f-3", borrowerId="c-1"))
    await mutate(db, "createFacility", new_facility(id="f-4", borrowerId="c-1"))
    await mutate(db, "closeFacility", {"facilityId": "f-4"})
    empty_graph.execute_query(
        "MATCH (d:Department {id: 'd-ka'}), (f:Facility {id: 'f-3'}) "
        "CREATE (d)-[:APPROVED {at: date()}]->(f)",
        database_=DATABASE,
    )
    return empty_graph


async def _listed(db: Db, **filter_: Any) -> list[str]:
    data, errors, _ = await execute(db, LIST, {"filter": filter_, "first": 100})
    assert errors == [] and data is not None
    connection = data["facilities"]
    ids = [edge["node"]["id"] for edge in connection["edges"]]
    assert connection["totalCount"] == len(ids)
    return ids


async def test_a_facility_by_id(bank: Driver, db: Db) -> None:
    data, errors, _ = await execute(
        db,
        """{ facility(id: "f-1") { id type limit drawn currency status borrower { id }
             grantingDepartment { id } approvingDepartment { id } }
             missing: facility(id: "f-9") { id } }""",
    )
    assert errors == []
    assert data == {
        "facility": {
            "id": "f-1", "type": "LOAN", "limit": "500000000.00", "drawn": "123456789.01",
            "currency": "CNY", "status": "ACTIVE", "borrower": {"id": "c-2"},
            "grantingDepartment": {"id": "d-ka"}, "approvingDepartment": {"id": "d-risk"},
        },
        "missing": None,
    }  # fmt: skip


async def test_facilities_are_filtered(bank: Driver, db: Db) -> None:
    assert await _listed(db) == ["f-1", "f-2", "f-3", "f-4"]
    # What 审贷分离 looks for across the bank: open credit with no independent approval.
    assert await _listed(db, unapproved=True) == ["f-2", "f-3"]
    assert await _listed(db, unapproved=False) == ["f-1", "f-4"]
    assert await _listed(db, status="CLOSED") == ["f-4"]
    assert await _listed(db, status="ACTIVE") == ["f-1", "f-2", "f-3"]
    assert await _listed(db, borrowerId="c-1") == ["f-3", "f-4"]
    assert await _listed(db, grantingDepartmentId="d-ka") == ["f-1", "f-2", "f-3", "f-4"]
    assert await _listed(db, grantingDepartmentId="d-ka-rm") == ["f-2", "f-3", "f-4"]
    assert await _listed(db, borrowerId="c-1", status="ACTIVE", unapproved=True) == ["f-3"]
    assert await _listed(db, borrowerId="c-9") == []


async def test_facilities_page_by_id_in_bounded_round_trips(bank: Driver, db: Db) -> None:
    before = db.round_trips
    data, errors, _ = await execute(db, LIST, {"first": 3})
    assert errors == [] and data is not None
    first = data["facilities"]
    assert [e["node"]["id"] for e in first["edges"]] == ["f-1", "f-2", "f-3"]
    assert first["totalCount"] == 4 and first["pageInfo"]["hasNextPage"] is True
    # The page, then its borrowers and departments each in one batch, whatever the page size.
    assert db.round_trips - before == 3
    after = first["pageInfo"]["endCursor"]
    data, errors, _ = await execute(db, LIST, {"first": 3, "after": after})
    assert errors == [] and data is not None
    rest = data["facilities"]
    assert [e["node"]["id"] for e in rest["edges"]] == ["f-4"]
    assert rest["pageInfo"]["hasNextPage"] is False
    # A borrower's facilities are read from the borrower, and page alike.
    of_c1 = {"borrowerId": "c-1"}
    data, errors, _ = await execute(db, LIST, {"first": 1, "filter": of_c1})
    assert errors == [] and data is not None
    page = data["facilities"]
    assert [e["node"]["id"] for e in page["edges"]] == ["f-3"]
    assert page["totalCount"] == 2 and page["pageInfo"]["hasNextPage"] is True
    after = page["pageInfo"]["endCursor"]
    data, errors, _ = await execute(db, LIST, {"first": 1, "after": after, "filter": of_c1})
    assert errors == [] and data is not None
    page = data["facilities"]
    assert [e["node"]["id"] for e in page["edges"]] == ["f-4"]
    assert page["totalCount"] == 2 and page["pageInfo"]["hasNextPage"] is False


async def test_bad_arguments_are_named(bank: Driver, db: Db) -> None:
    for query, argument in (
        ('{ facility(id: "") { id } }', "id"),
        ("{ facilities(first: 0) { totalCount } }", "first"),
        ('{ facilities(after: "not a cursor") { totalCount } }', "after"),
        ('{ facilities(filter: {borrowerId: ""}) { totalCount } }', "filter.borrowerId"),
    ):
        _, errors, _ = await execute(db, query)
        [error] = errors
        assert error.extensions["code"] == "BAD_USER_INPUT", query
        assert error.extensions["argument"] == argument, query


async def test_facilities_are_for_risk_officers_and_admins(bank: Driver, db: Db) -> None:
    for role, manager in ((Role.MANAGER, "m-1"), (Role.VIEWER, None)):
        _, errors, _ = await execute(
            db, '{ facility(id: "f-1") { id } facilities { totalCount } }',
            principal=Principal("p", role, manager),
        )  # fmt: skip
        assert sorted(e.extensions["code"] for e in errors) == ["FORBIDDEN", "FORBIDDEN"]
    data, errors, _ = await execute(
        db, "{ facilities { totalCount } }", principal=Principal("r", Role.RISK_OFFICER)
    )
    assert errors == [] and data == {"facilities": {"totalCount": 4}}
