"""Files that crashed the importer or made it crawl: each a reported problem, found once."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from graph import csv_reader
from graph.csv_reader import Problems, read_rows
from graph.csv_tables import TABLES_BY_FILE
from graph.csv_validation import Validator, _on_cycles

MANAGERS = TABLES_BY_FILE["managers.csv"]


def _managers_file(tmp_path: Path, header: Sequence[str], cells: dict[str, str]) -> Path:
    path = tmp_path / "managers.csv"
    path.write_text(",".join(header) + "\n" + ",".join(cells.get(h, "") for h in header) + "\n")
    return path


def test_a_number_too_large_for_a_float_is_a_problem(tmp_path: Path) -> None:
    cells = {"id": "mgr-x", "name": "A", "level": "MANAGER", "education": "BACHELOR",
             "title": "NONE", "creditYears": "1" + "0" * 400, "departmentId": "d-1",
             "since": "2020-01-01"}  # fmt: skip
    problems = Problems()
    assert list(read_rows(_managers_file(tmp_path, MANAGERS.headers, cells), MANAGERS, problems))
    assert [(p.line, p.column) for p in problems.kept] == [(2, "creditYears")]
    assert problems.kept[0].message == (
        "100000000000000000000000000... is out of range: must be at most 60"
    )


def test_a_repeated_column_is_named_once(tmp_path: Path) -> None:
    header = [*MANAGERS.headers, "name", "name"]
    problems = Problems()
    list(read_rows(_managers_file(tmp_path, header, {}), MANAGERS, problems))
    assert "repeats column(s) name" in [p.message for p in problems.kept]


def test_departments_on_a_cycle_are_found_among_long_chains() -> None:
    chain = {f"d{i}": f"d{i + 1}" for i in range(20_000)}
    assert _on_cycles(chain) == set()
    looped = {**chain, "x": "y", "y": "z", "z": "x", "w": "x"}  # w hangs off the loop
    assert _on_cycles(looped) == {"x", "y", "z"}


class _EmptyGraph:
    def execute_read(self, *args: Any, **kwargs: Any) -> list[Any]:
        return []


def test_a_long_chain_of_direct_reports_is_checked_in_linear_time() -> None:
    """32 links under a root are accepted. A chain of 10,000 is refused for its depth, every
    link of it (each could be the one to drop), and with a loop added, for the loop only."""
    problems = Problems()
    validator = Validator(_EmptyGraph(), None, problems)  # type: ignore[arg-type]
    validator._direct = [(f"d{i}", f"d{i + 1}", i + 2) for i in range(32)]
    validator._check_department_tree()
    assert problems.total == 0
    validator._direct = [(f"d{i}", f"d{i + 1}", i + 2) for i in range(10_000)]
    validator._check_department_tree()
    assert problems.total == 10_000
    assert problems.kept[0].message == (
        "would put a department at or under 'd0' more than 32 direct links below its root"
    )
    problems = validator.problems = Problems()
    validator._direct.append(("d10000", "d5000", 10_002))
    validator._check_department_tree()
    # d5000 .. d10000 now loop: 5,001 links refused (the first of them kept for the report).
    assert problems.total == 5001
    assert [p.line for p in problems.kept] == list(range(5002, 5002 + len(problems.kept)))


def test_a_byte_that_is_not_utf8_is_reported_on_its_own_line(tmp_path: Path) -> None:
    """Five good rows, then a GB18030 name on line 7 (a text wrapper decoding ahead blamed
    line 2)."""
    clients = TABLES_BY_FILE["clients.csv"]
    rows = "".join(f"c-{i},客户{i},CORPORATE,EXISTING,ACTIVE,,2,,,,\n" for i in range(5))
    data = ("\ufeff" + ",".join(clients.headers) + "\n" + rows).encode()
    data += b"c-99," + "客户".encode("gb18030") + b",CORPORATE,EXISTING,ACTIVE,,2,,,,\n"
    path = tmp_path / "clients.csv"
    path.write_bytes(data)
    problems = Problems()
    read = list(read_rows(path, clients, problems))
    assert [r.values["id"] for r in read] == [f"c-{i}" for i in range(5)]
    assert [(p.line, p.message[:36]) for p in problems.kept] == [
        (7, "is not UTF-8 (byte 0xbf cannot be de")
    ]


def test_a_file_with_bare_carriage_returns_is_not_read_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Excel's "CSV (Macintosh)" ends lines with \\r alone: with no \\n the whole file is one
    line, which is read no further than the line limit (here cut to 1,000 bytes) and named."""
    monkeypatch.setattr(csv_reader, "MAX_LINE_BYTES", 1000)
    cells = {"id": "mgr-x", "name": "A", "level": "MANAGER", "education": "BACHELOR",
             "title": "NONE", "creditYears": "1", "departmentId": "d-1", "since": "2020-01-01"}  # fmt: skip
    row = ",".join(cells.get(h, "") for h in MANAGERS.headers)
    path = tmp_path / "managers.csv"
    path.write_bytes(("\r".join([",".join(MANAGERS.headers)] + [row] * 100) + "\r").encode())
    problems = Problems()
    assert list(read_rows(path, MANAGERS, problems)) == []
    assert [(p.line, p.message) for p in problems.kept] == [(1, (
        "has a line longer than 1,000 bytes (its lines seem to end in a bare \\r, as Excel's "
        '"CSV (Macintosh)" writes them: save it as "CSV UTF-8"); reading stopped'
    ))]  # fmt: skip
    # The same rows ended with \n are read, each on its line.
    path.write_text("\n".join([",".join(MANAGERS.headers)] + [row] * 100) + "\n")
    assert [r.line for r in read_rows(path, MANAGERS, Problems())] == list(range(2, 102))
