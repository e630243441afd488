"""A request costs a bounded number of Cypher round trips, whatever the page size (no N+1)."""

from __future__ import annotations

from neo4j import Driver

from graph.db import Db
from tests.gql import execute

PAGE = """
query ($n: Int!) {
  clients(first: $n) {
    edges { node {
      id name
      managers { role manager { id name department { id name } } }
      holdings { balance product { id name } }
      facilities { id limit grantingDepartment { id } approvingDepartment { id } }
      relatedClients { kind role client { id name } }
    } }
  }
}
"""


async def test_page_of_one_and_page_of_hundred_cost_the_same(demo_bank: Driver, db: Db) -> None:
    _, errors, small = await execute(db, PAGE, {"n": 1})
    assert errors == []
    small_trips = small.db.round_trips
    db.round_trips = 0
    data, errors, large = await execute(db, PAGE, {"n": 100})
    assert errors == []
    assert data is not None and len(data["clients"]["edges"]) == 100
    # One per link field, not per row: the list, assignments, managers, their department ids,
    # departments (at most twice: managers' and facilities' resolve in different ticks),
    # holdings, products, facilities, client links, linked clients.
    bound = 11
    assert small_trips <= bound
    assert large.db.round_trips <= bound
