"""`rmgraph migrate`, as a deployment runs it against its own database (`NEO4J_URI`, which the
`neo4j_conn` fixture sets)."""

from __future__ import annotations

import pytest
from neo4j import Driver

from api.cli import main
from graph.local_server import Connection
from tests.conftest import DATABASE, graph_snapshot


def _labels(driver: Driver) -> set[str]:
    records, _, _ = driver.execute_query(
        "MATCH (n) UNWIND labels(n) AS label RETURN collect(DISTINCT label) AS labels",
        database_=DATABASE,
    )
    return set(records[0]["labels"])


def test_migrate_writes_the_reference_data_once_and_no_bank(
    empty_graph: Driver, neo4j_conn: Connection, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _labels(empty_graph) == set()
    main(["migrate"])
    assert "in place" in capsys.readouterr().err
    assert _labels(empty_graph) == {
        "RiskSettings", "GradingScheme", "Grade", "GradeRequirement", "KeyAccountSettings",
        "ManagementPlan",
    }  # fmt: skip
    constraints, _, _ = empty_graph.execute_query(
        "SHOW CONSTRAINTS YIELD labelsOrTypes, properties "
        "WHERE labelsOrTypes = ['Client'] AND properties = ['id'] RETURN count(*) AS n",
        database_=DATABASE,
    )
    assert constraints[0]["n"] == 1
    # Run again (as every deployment does), it changes nothing.
    before = graph_snapshot(empty_graph)
    main(["migrate"])
    assert graph_snapshot(empty_graph) == before


def test_grade_clients_from_the_command_line(
    writable_demo_bank: Driver, neo4j_conn: Connection, capsys: pytest.CaptureFixture[str]
) -> None:
    """For a bank whose grading outlasts an HTTP request: the same grading, without a request's
    time limit. The demo's grades were set by hand, and many differ from the thresholds'."""
    before = graph_snapshot(writable_demo_bank)
    main(["grade-clients", "--dry-run"])
    counted = capsys.readouterr().out
    assert graph_snapshot(writable_demo_bank) == before
    first, *moves = counted.splitlines()
    assert first.startswith("grades would change: ") and moves
    would = int(first.rsplit(" ", 1)[1].replace(",", ""))
    assert would == sum(int(m.rsplit(" ", 1)[1].replace(",", "")) for m in moves) > 0
    main(["grade-clients", "--actor", "ops"])
    assert capsys.readouterr().out == counted.replace("would change", "changed")
    main(["grade-clients", "--dry-run"])
    assert capsys.readouterr().out == "grades would change: 0\n"
    records, _, _ = writable_demo_bank.execute_query(
        "MATCH (a:AuditRecord {action: 'gradeClients', actor: 'ops'}) RETURN count(a) AS n",
        database_=DATABASE,
    )
    assert records[0]["n"] >= 1
