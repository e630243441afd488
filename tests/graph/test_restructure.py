"""The frame every restructuring runs in (`run_change`), apart from any one change."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from neo4j import Driver
from neo4j.exceptions import ConstraintError

from graph.db import Db
from graph.errors import Duplicate
from graph.restructure import Change, run_change
from seeds.loader import load
from tests.conftest import DATABASE, graph_snapshot
from tests.small_bank import build_small_bank


@pytest.fixture
def bank(empty_graph: Driver) -> Iterator[Driver]:
    load(empty_graph, DATABASE, build_small_bank(), quiet=True)
    yield empty_graph


async def _create_root_again(change: Change) -> None:
    # What createDepartment meets when a write that takes no org lock (a direct load) created
    # the id between its check and its write.
    await change.tx.run("CREATE (:Department {id: 'd-root', name: '又一个'})")


async def test_an_id_taken_meanwhile_is_a_duplicate_and_changes_nothing(
    bank: Driver, db: Db
) -> None:
    before = graph_snapshot(bank)
    with pytest.raises(Duplicate) as refused:
        await run_change(
            db, "createDepartment", "t", False, {}, _create_root_again,
            creates=("Department", "d-root"),
        )  # fmt: skip
    assert (refused.value.kind, refused.value.node_id) == ("Department", "d-root")
    assert graph_snapshot(bank) == before
    # Without a node to name, the constraint error is not dressed up as a duplicate.
    with pytest.raises(ConstraintError):
        await run_change(db, "createDepartment", "t", False, {}, _create_root_again)
    assert graph_snapshot(bank) == before
