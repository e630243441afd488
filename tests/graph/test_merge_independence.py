"""A merge may not make an approval dependent, whatever order Neo4j returns the source's links
in: the approvals it starts from are noted before any link changes."""

from __future__ import annotations

import pytest
from neo4j import Driver

from graph import org_operations
from graph.db import Db
from graph.errors import InvariantViolation
from tests.conftest import DATABASE, graph_snapshot

# R above S; T and C1 under S; X under C1. X grants F, T approves it: independent today. Merging
# S into T puts C1 (and X) under T, where T would approve what its own descendant granted.
SETUP = """
UNWIND ['R', 'S', 'T', 'C1', 'X'] AS id
CREATE (:Department {id: id, name: id, function: 'CLIENT', model: 'CLIENT', archived: false,
                     version: 0})
WITH count(*) AS made
MATCH (r:Department {id: 'R'}), (s:Department {id: 'S'}), (t:Department {id: 'T'}),
      (x:Department {id: 'X'}), (c1:Department {id: 'C1'})
CREATE (s)-[:DIRECT_REPORT {since: date()}]->(r)
CREATE (x)-[:DIRECT_REPORT {since: date()}]->(c1)
CREATE (f:Facility {id: 'F', type: 'LOAN', limitCents: 100, drawnCents: 0, currency: 'CNY',
                    status: 'ACTIVE'})
CREATE (x)-[:GRANTED {at: date()}]->(f)
CREATE (t)-[:APPROVED {at: date()}]->(f)
"""
CHILD_OF_S = """
MATCH (c:Department {id: $child}), (s:Department {id: 'S'})
CREATE (c)-[:DIRECT_REPORT {since: date()}]->(s)
"""


@pytest.mark.parametrize("children", [("T", "C1"), ("C1", "T")], ids=["T first", "C1 first"])
async def test_a_merge_is_refused_when_it_makes_an_approval_dependent(
    empty_graph: Driver, db: Db, children: tuple[str, str]
) -> None:
    empty_graph.execute_query(SETUP, database_=DATABASE)
    for child in children:  # the creation order is the order the links come back in
        empty_graph.execute_query(CHILD_OF_S, child=child, database_=DATABASE)
    before = graph_snapshot(empty_graph)
    with pytest.raises(InvariantViolation) as moved:
        await org_operations.move_department(db, "t", True, "C1", "T", None)
    assert moved.value.invariant == "APPROVAL_INDEPENDENCE"
    for dry_run in (True, False):
        with pytest.raises(InvariantViolation) as merged:
            await org_operations.merge_departments(db, "t", dry_run, "S", "T", {})
        assert merged.value.invariant == "APPROVAL_INDEPENDENCE"
    assert graph_snapshot(empty_graph) == before
