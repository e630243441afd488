"""Cells of the CSV format, without a database: what is taken, what is refused, round trips."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from graph.csv_export import write_table
from graph.csv_reader import Problems, read_rows
from graph.csv_tables import (
    TABLES,
    TABLES_BY_FILE,
    Cell,
    CellError,
    check_row,
    parse_cell,
    render_cell,
)


def col(file: str, header: str) -> Any:
    return TABLES_BY_FILE[file].column(header)


@pytest.mark.parametrize(
    ("file", "header", "text", "value"),
    [
        ("holdings.csv", "balance", "1234.5", 123450),
        ("holdings.csv", "balance", "0", 0),
        ("holdings.csv", "balance", " 7.05 ", 705),
        ("holdings.csv", "active", "TRUE", True),
        ("holdings.csv", "since", "2024-02-29", "2024-02-29"),
        ("controls.csv", "share", "100", 100.0),
        ("controls.csv", "share", "0.01", 0.01),
        ("clients.csv", "grade", "", None),
        ("clients.csv", "riskRating", "5", 5),
        ("facilities.csv", "currency", "USD", "USD"),
        ("linear_links.csv", "purpose", "line one\nline two", "line one\nline two"),
        ("client_relations.csv", "kind", "FAMILY", "FAMILY"),
    ],
)
def test_cells_taken(file: str, header: str, text: str, value: Any) -> None:
    assert parse_cell(col(file, header), text) == value


@pytest.mark.parametrize(
    ("file", "header", "text", "message"),
    [
        ("holdings.csv", "balance", "-1.00", "negative"),
        ("holdings.csv", "balance", "1.005", "more than two decimals"),
        ("holdings.csv", "balance", "1e400", "above the largest amount"),
        ("holdings.csv", "balance", "NaN", "not a finite amount"),
        ("holdings.csv", "balance", "12,00", "not an amount"),
        ("holdings.csv", "balance", "1e3", "not written as digits"),
        ("holdings.csv", "balance", "1_000", "not written as digits"),
        ("holdings.csv", "balance", "１２３", "not written as digits"),
        ("holdings.csv", "balance", "10000000000000000", "at or above the largest amount"),
        ("holdings.csv", "active", "yes", "not true or false"),
        ("holdings.csv", "since", "2023-02-29", "not a date"),
        ("holdings.csv", "since", "20240101", "not a date"),
        ("holdings.csv", "clientId", "", "required"),
        ("holdings.csv", "clientId", "bad id!", "not a well-formed id"),
        ("controls.csv", "share", "100.5", "at most 100"),
        ("controls.csv", "share", "0", "above 0"),
        ("controls.csv", "share", "inf", "not a finite number"),
        ("clients.csv", "riskRating", "6", "at most 5"),
        ("clients.csv", "riskRating", "2.5", "not a whole number"),
        ("clients.csv", "kind", "corporate", "not one of CORPORATE, INDIVIDUAL, INTERBANK"),
        ("clients.csv", "name", "two\nlines", "one line"),
        ("clients.csv", "name", "x" * 201, "longer than 200"),
        ("facilities.csv", "currency", "yuan", "three-letter"),
        ("guarantees.csv", "amount", "0.00", "above 0"),
        ("client_relations.csv", "kind", "CONTROL", "its own file"),
    ],
)
def test_cells_refused(file: str, header: str, text: str, message: str) -> None:
    with pytest.raises(CellError, match=message):
        parse_cell(col(file, header), text)


def test_every_cell_kind_round_trips() -> None:
    samples = {
        Cell.ID: "cli-0001",
        Cell.TEXT: "华东钢铁",
        Cell.NOTE: "两行\n说明",
        Cell.INT: 3,
        Cell.FLOAT: 0.1 + 0.2,  # not a short decimal: repr must keep every bit
        Cell.MONEY: 123456789012,
        Cell.BOOL: False,
        Cell.DATE: "2020-01-31",
        Cell.CURRENCY: "CNY",
    }
    for table in TABLES:
        for column in table.columns:
            if column.cell is Cell.CHOICE:
                assert column.choices is not None
                value: Any = next(iter(column.choices)).value
                if column.choices.__name__ == "ClientLinkKind":
                    value = "FAMILY"
            else:
                value = samples[column.cell]
                if column.cell is Cell.INT:
                    value = int(column.low or 0) + 1
                if column.cell is Cell.FLOAT:
                    value = min(value, column.high or value)
            assert parse_cell(column, render_cell(column, value)) == value, column


def test_row_checks_across_cells() -> None:
    facilities = TABLES_BY_FILE["facilities.csv"]
    assert check_row(facilities, {"limitCents": 100, "drawnCents": 101}) == [
        ("drawn", "is above the limit")
    ]
    assert check_row(facilities, {"limitCents": 100, "drawnCents": 100}) == []
    controls = TABLES_BY_FILE["controls.csv"]
    assert check_row(controls, {"fromId": "a", "toId": "a"}) == [("toId", "links a node to itself")]


def test_tables_refer_only_to_earlier_or_own_ids() -> None:
    """The dependency order the importer relies on."""
    defined: set[Any] = set()
    for table in TABLES:
        if table.defines is not None:
            defined.add(table.defines)
        for column in table.columns:
            if column.refers_to is not None:
                assert column.refers_to in defined, (table.file, column.name)


def test_a_note_with_a_bare_carriage_return_survives_its_export(tmp_path: Path) -> None:
    """The writer quotes a cell holding `\\n` but not one holding a bare `\\r`, which the reader
    then took for the end of the row: a note's line breaks are written, and read, as `\\n`."""
    table = TABLES_BY_FILE["linear_links.csv"]
    row = {"fromId": "d-a", "toId": "d-b", "since": "2020-01-01",
           "note": "第一行\r第二行\r\n第三行"}  # fmt: skip
    assert write_table(tmp_path, table, [row]) == 1
    problems = Problems()
    [read] = list(read_rows(tmp_path / table.file, table, problems))
    assert list(problems.kept) == []
    assert read.values["note"] == "第一行\n第二行\n第三行"
    # A file written elsewhere, with the `\r` inside quotes, is read the same way.
    (tmp_path / table.file).write_bytes(
        'fromId,toId,since,purpose\nd-a,d-b,2020-01-01,"第一行\r第二行"\n'.encode()
    )
    [read] = list(read_rows(tmp_path / table.file, table, problems))
    assert read.values["note"] == "第一行\n第二行"
