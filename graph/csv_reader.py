"""Read one CSV file of the bank's format as a stream of parsed rows, reporting what is wrong.

Files are UTF-8, with or without a byte-order mark; anything else is reported (with a hint for
the GB18030/GBK files Chinese core systems often write) rather than guessed. Rows are read one at
a time, so a file of any length is read in constant memory. Line numbers are physical lines
where a record starts, so a quoted line break inside a cell does not shift them.
"""

from __future__ import annotations

import codecs
import csv
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Final

from graph.csv_tables import CellError, Table, parse_cell

MAX_PROBLEMS_KEPT: Final = 1000
MAX_CELL: Final = 100_000  # characters; csv's own guard against a runaway quoted cell
# Bytes of one physical line read at once: a file with no `\n` (Excel's "CSV (Macintosh)" ends
# lines with `\r` alone) would otherwise be read whole into memory as one line.
MAX_LINE_BYTES: Final = 4 * 1024 * 1024


class LineTooLong(Exception):
    def __init__(self, line: int, bare_cr: bool) -> None:
        super().__init__(line)
        self.line, self.bare_cr = line, bare_cr


UTF16_32_BOMS: Final = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)
CONVERT_HINT: Final = "save it as UTF-8 (e.g. iconv -f GB18030 -t UTF-8 in.csv > out.csv)"


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}"
        if self.column:
            where += f": column {self.column}"
        return f"{where}: {self.message}"


@dataclass
class Problems:
    """Every problem counted; the first `MAX_PROBLEMS_KEPT` kept, so a bad file stays cheap."""

    kept: list[Problem] = field(default_factory=list)
    total: int = 0
    rejected_rows: dict[str, set[int]] = field(default_factory=dict)
    rejected_counts: dict[str, int] = field(default_factory=dict)

    def add(self, file: str, line: int, column: str | None, message: str) -> None:
        self.total += 1
        if len(self.kept) < MAX_PROBLEMS_KEPT:
            self.kept.append(Problem(file, line, column, message))
        if line > 1:  # line 1 is the header: a file-level problem, not a row's
            lines = self.rejected_rows.setdefault(file, set())
            if line not in lines:
                if len(lines) < MAX_PROBLEMS_KEPT:
                    lines.add(line)
                self.rejected_counts[file] = self.rejected_counts.get(file, 0) + 1

    def __bool__(self) -> bool:
        return self.total > 0


@dataclass(frozen=True)
class Row:
    line: int
    values: dict[str, Any]  # BankRows keys; cells that failed to parse are absent
    ok: bool


class _Lines:
    """A file's physical lines, each decoded from UTF-8 as the CSV reader asks for it: a bad
    byte is reported on its own line (a text wrapper decodes kilobytes ahead)."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.count = 0  # lines handed out, the one being decoded included

    def __iter__(self) -> Iterator[str]:
        while chunk := self.raw.readline(MAX_LINE_BYTES + 1):
            self.count += 1
            if len(chunk) > MAX_LINE_BYTES:
                raise LineTooLong(self.count, b"\r" in chunk)
            text = chunk.decode("utf-8")
            yield text[1:] if self.count == 1 and text.startswith("\ufeff") else text

    def __enter__(self) -> _Lines:
        return self

    def __exit__(self, *_: object) -> None:
        self.raw.close()


def _open_text(path: Path, problems: Problems) -> _Lines | None:
    raw = path.open("rb")
    head = raw.read(4)
    raw.seek(0)
    for bom, name in UTF16_32_BOMS:
        if head.startswith(bom):
            raw.close()
            problems.add(path.name, 1, None, f"is {name}; the importer reads UTF-8: {CONVERT_HINT}")
            return None
    return _Lines(raw)


def read_rows(path: Path, table: Table, problems: Problems) -> Iterator[Row]:
    """Each data row, parsed; problems with the file, header or cells go to `problems`."""
    text = _open_text(path, problems)
    if text is None:
        return
    name = path.name
    with text:
        reader = csv.reader(text, strict=True)
        line = 1
        try:
            header = next(reader, None)
            if header is None:
                problems.add(
                    name, 1, None, f"is empty; expected the header {','.join(table.headers)}"
                )
                return
            order = _column_order(name, [h.strip() for h in header], table, problems)
            if order is None:
                return
            for cells in reader:
                start, line = line + 1, reader.line_num
                if not cells or cells == [""]:
                    continue  # blank line
                if len(cells) != len(header):
                    problems.add(
                        name, start, None, f"has {len(cells)} fields; the header has {len(header)}"
                    )
                    yield Row(start, {}, False)
                    continue
                ordered = ["" if i is None else cells[i] for i in order]
                yield _parse(name, start, ordered, table, problems)
        except UnicodeDecodeError as exc:
            problems.add(
                name,
                text.count,
                None,
                f"is not UTF-8 (byte 0x{exc.object[exc.start]:02x} cannot be decoded); "
                f"{CONVERT_HINT}",
            )
        except csv.Error as exc:
            problems.add(name, line + 1, None, f"is not well-formed CSV: {exc}; reading stopped")
        except LineTooLong as exc:
            hint = (
                ' (its lines seem to end in a bare \\r, as Excel\'s "CSV (Macintosh)" writes '
                'them: save it as "CSV UTF-8")'
                if exc.bare_cr
                else ""
            )
            problems.add(
                name, exc.line, None,
                f"has a line longer than {MAX_LINE_BYTES:,} bytes{hint}; reading stopped",
            )  # fmt: skip


def _column_order(
    name: str, header: list[str], table: Table, problems: Problems
) -> list[int | None] | None:
    """Where each of the table's columns is in this file (any order is fine; None for a column
    that may be absent and is), or None when the header is wrong."""
    expected = table.headers
    missing = [c.name for c in table.columns if c.name not in header and not c.may_be_absent]
    extra = [h for h in header if h not in expected]
    doubled = sorted(h for h, n in Counter(header).items() if n > 1)
    if missing:
        problems.add(name, 1, None, f"misses column(s) {', '.join(missing)}")
    if extra:
        problems.add(name, 1, None, f"has unexpected column(s) {', '.join(extra)}")
    if doubled:
        problems.add(name, 1, None, f"repeats column(s) {', '.join(doubled)}")
    if missing or extra or doubled:
        problems.add(name, 1, None, f"expected the header {','.join(expected)}")
        return None
    return [header.index(h) if h in header else None for h in expected]


def _parse(name: str, line: int, cells: list[str], table: Table, problems: Problems) -> Row:
    values: dict[str, Any] = {}
    ok = True
    for column, text in zip(table.columns, cells, strict=True):
        if len(text) > MAX_CELL:
            problems.add(name, line, column.name, f"is longer than {MAX_CELL} characters")
            ok = False
            continue
        try:
            values[column.row_key] = parse_cell(column, text)
        except CellError as exc:
            problems.add(name, line, column.name, str(exc))
            ok = False
    return Row(line, values, ok)
