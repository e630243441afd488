from __future__ import annotations

from neo4j import Driver

from seeds.loader import load
from tests.conftest import DATABASE, graph_snapshot
from tests.small_bank import build_small_bank


def test_loading_twice_changes_nothing(empty_graph: Driver) -> None:
    load(empty_graph, DATABASE, build_small_bank(), quiet=True)
    first = graph_snapshot(empty_graph)
    load(empty_graph, DATABASE, build_small_bank(), quiet=True)
    assert graph_snapshot(empty_graph) == first
    bank_nodes = [n for n in first["nodes"] if set(n[0]) & {"Client", "Manager", "Department",
                                                           "Product", "Facility"}]  # fmt: skip
    assert len(bank_nodes) == 5 + 2 + 4 + 2 + 1


def test_amounts_are_stored_as_exact_cents(empty_graph: Driver) -> None:
    load(empty_graph, DATABASE, build_small_bank(), quiet=True)
    records, _, _ = empty_graph.execute_query(
        "MATCH (f:Facility {id: 'f-1'}) RETURN f.limitCents AS l, f.drawnCents AS d",
        database_=DATABASE,
    )
    assert (records[0]["l"], records[0]["d"]) == (50000000000, 12345678901)


def test_constraints_reject_duplicate_ids(empty_graph: Driver) -> None:
    import pytest
    from neo4j.exceptions import ConstraintError

    empty_graph.execute_query("CREATE (:Client {id: 'x'})", database_=DATABASE)
    with pytest.raises(ConstraintError):
        empty_graph.execute_query("CREATE (:Client {id: 'x'})", database_=DATABASE)
