"""The bank's CSV format: one file per node label and link type, with typed columns.

Each `Table` names its file, its columns (CSV header → the `BankRows` key it fills), the columns
that identify a row, and which ids it defines or refers to. Cells are parsed and rendered here,
without a database, so the importer, the exporter and the demo bank all share one definition.
Money is written in yuan with at most two decimals (`1234.50`) and held as integer cents; dates
are ISO `YYYY-MM-DD`; booleans `true`/`false`; an empty cell is "none" (only where optional).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import Enum, StrEnum
from typing import Any, Final

from graph.input_checks import (
    CURRENCY_PATTERN,
    ID_PATTERN,
    LARGEST_AMOUNT,
    SHARE_PLACES,
    share_places_ok,
)
from graph.models import (
    ClientKind,
    ClientLinkKind,
    ClientSegment,
    ClientStatus,
    ControlBasis,
    DepartmentFunction,
    Education,
    FacilityStatus,
    FacilityType,
    KeyAccountGrade,
    ManagerLevel,
    ManagerRole,
    OrgModel,
    ProductAudience,
    ProductCategory,
    ProfessionalTitle,
    decimal_to_cents,
)

MAX_TEXT: Final = 200  # as createClient takes names
MAX_NOTE: Final = 2000
MAX_MONEY: Final = LARGEST_AMOUNT
MONEY_TEXT: Final = re.compile(r"[0-9]+(\.[0-9]{1,2})?")
CONTROL_CHARACTERS: Final = re.compile(r"[\x00-\x1f\x7f]")


class NodeKind(StrEnum):
    """The labels whose ids a table defines or a column refers to."""

    DEPARTMENT = "Department"
    MANAGER = "Manager"
    CLIENT = "Client"
    PRODUCT = "Product"
    FACILITY = "Facility"


class Cell(Enum):
    ID = "id"
    TEXT = "text"  # one line
    NOTE = "note"  # free text, line breaks allowed
    CHOICE = "choice"
    INT = "int"
    FLOAT = "float"
    MONEY = "money"
    BOOL = "bool"
    DATE = "date"
    CURRENCY = "currency"


class CellError(ValueError):
    """A cell that cannot be taken; the message says what is wrong and what was expected."""


@dataclass(frozen=True)
class Column:
    name: str  # the CSV header
    cell: Cell
    key: str = ""  # the BankRows key; the header unless given
    required: bool = True
    choices: type[StrEnum] | None = None
    low: float | None = None
    high: float | None = None
    low_open: bool = False  # the low bound itself is refused (a share of 0 controls nothing)
    refers_to: NodeKind | None = None
    # Added after the format was published: a file without the column still loads, and an empty
    # cell keeps what the graph holds (the loader coalesces it).
    may_be_absent: bool = False

    @property
    def row_key(self) -> str:
        return self.key or self.name


@dataclass(frozen=True)
class Table:
    file: str
    section: str  # the BankRows field it loads
    columns: tuple[Column, ...]
    identity: tuple[str, ...]  # headers whose values identify a row (upsert key)
    defines: NodeKind | None = None  # entity tables define ids of this label
    distinct_ends: bool = False  # a link from a node to itself is refused

    @property
    def headers(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def kept_when_empty(self) -> frozenset[str]:
        """Row keys whose empty cell keeps the graph's value rather than clearing it."""
        return frozenset(c.row_key for c in self.columns if c.may_be_absent)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def identity_keys(self) -> tuple[str, ...]:
        return tuple(self.column(h).row_key for h in self.identity)

    def identity_of(self, row: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(row[k] for k in self.identity_keys)


def _id(name: str, refers_to: NodeKind | None = None, required: bool = True) -> Column:
    return Column(name, Cell.ID, refers_to=refers_to, required=required)


def _choice(
    name: str, choices: type[StrEnum], required: bool = True, may_be_absent: bool = False
) -> Column:
    return Column(
        name, Cell.CHOICE, choices=choices, required=required, may_be_absent=may_be_absent
    )


def _date(name: str) -> Column:
    return Column(name, Cell.DATE)


def _money(
    name: str, key: str, positive: bool = False, required: bool = True, may_be_absent: bool = False
) -> Column:
    return Column(
        name, Cell.MONEY, key=key, low=0, low_open=positive, required=required,
        may_be_absent=may_be_absent,
    )  # fmt: skip


DEPT: Final = NodeKind.DEPARTMENT


def _department_link(file: str, section: str, note: str | None) -> Table:
    columns = [_id("fromId", DEPT), _id("toId", DEPT), _date("since")]
    if note:
        columns.append(Column(note, Cell.NOTE, key="note", required=False))
    return Table(file, section, tuple(columns), ("fromId", "toId"), distinct_ends=True)


# In dependency order: a table refers only to ids defined by itself or by tables before it.
TABLES: Final[tuple[Table, ...]] = (
    Table(
        "departments.csv",
        "departments",
        (
            _id("id"),
            Column("name", Cell.TEXT),
            _choice("function", DepartmentFunction),
            _choice("model", OrgModel),
            # Restores an archived department as archived; empty, or a file from before the
            # column, keeps the graph's (active for a new one). Archiving and reviving stay
            # with the mutations: a department the graph holds is never changed by it.
            Column("archived", Cell.BOOL, required=False, may_be_absent=True),
        ),
        ("id",),
        defines=DEPT,
    ),
    _department_link("direct_reports.csv", "direct_links", None),
    _department_link("linear_links.csv", "linear_links", "purpose"),
    _department_link("check_links.csv", "check_links", "scope"),
    Table(
        "managers.csv",
        "managers",
        (
            _id("id"),
            Column("name", Cell.TEXT),
            _choice("level", ManagerLevel),
            _choice("education", Education),
            _choice("title", ProfessionalTitle),
            Column("creditYears", Cell.INT, low=0, high=60),
            _id("departmentId", DEPT),
            _id("reportsToId", NodeKind.MANAGER, required=False),
            _date("since"),
        ),
        ("id",),
        defines=NodeKind.MANAGER,
    ),
    Table(
        "clients.csv",
        "clients",
        (
            _id("id"),
            Column("name", Cell.TEXT),
            _choice("kind", ClientKind),
            _choice("segment", ClientSegment),
            _choice("status", ClientStatus),
            _choice("grade", KeyAccountGrade, required=False),
            Column("riskRating", Cell.INT, low=1, high=5),
            Column("industry", Cell.TEXT, required=False),
            Column("region", Cell.TEXT, required=False),
            # The unified credit limit (统一授信) approved for the client's group, held by its top
            # controller (setUnifiedLimit's): both or neither; empty keeps the graph's.
            _money(
                "unifiedLimit",
                "unifiedLimitCents",
                positive=True,
                required=False,
                may_be_absent=True,
            ),
            Column("unifiedLimitCurrency", Cell.CURRENCY, required=False, may_be_absent=True),
        ),
        ("id",),
        defines=NodeKind.CLIENT,
    ),
    Table(
        "client_managers.csv",
        "manages",
        (
            _id("managerId", NodeKind.MANAGER),
            _id("clientId", NodeKind.CLIENT),
            _choice("role", ManagerRole),
            _date("since"),
        ),
        ("managerId", "clientId"),
    ),
    Table(
        "products.csv",
        "products",
        (
            _id("id"),
            Column("name", Cell.TEXT),
            _choice("category", ProductCategory),
            _choice("audience", ProductAudience),
            Column("riskLevel", Cell.INT, low=1, high=5),
            _id("departmentId", DEPT),
        ),
        ("id",),
        defines=NodeKind.PRODUCT,
    ),
    Table(
        "holdings.csv",
        "holdings",
        (
            _id("clientId", NodeKind.CLIENT),
            _id("productId", NodeKind.PRODUCT),
            _money("balance", "balanceCents"),
            _date("since"),
            Column("active", Cell.BOOL),
            # false: opened without the client's consent (setHoldingConsent); empty keeps it
            Column("consented", Cell.BOOL, required=False, may_be_absent=True),
        ),
        ("clientId", "productId"),
    ),
    Table(
        "cross_sells.csv",
        "cross_sells",
        (
            _id("fromId", NodeKind.PRODUCT),
            _id("toId", NodeKind.PRODUCT),
            Column("support", Cell.FLOAT, low=0, high=1),
            Column("confidence", Cell.FLOAT, low=0, high=1),
            Column("lift", Cell.FLOAT, low=0, high=1e6),
            Column("pinned", Cell.BOOL),
        ),
        ("fromId", "toId"),
        distinct_ends=True,
    ),
    Table(
        "controls.csv",
        "controls",
        (
            _id("fromId", NodeKind.CLIENT),
            _id("toId", NodeKind.CLIENT),
            Column("share", Cell.FLOAT, low=0, high=100, low_open=True),
            _choice("basis", ControlBasis),
        ),
        ("fromId", "toId"),
        distinct_ends=True,
    ),
    Table(
        "client_relations.csv",
        "related",
        (
            _id("fromId", NodeKind.CLIENT),
            _id("toId", NodeKind.CLIENT),
            _choice("kind", ClientLinkKind),
            Column("role", Cell.TEXT),
            Column("reciprocalRole", Cell.TEXT),
        ),
        ("fromId", "toId", "kind"),
        distinct_ends=True,
    ),
    Table(
        "facilities.csv",
        "facilities",
        (
            _id("id"),
            _id("borrowerId", NodeKind.CLIENT),
            _choice("type", FacilityType),
            _money("limit", "limitCents", positive=True),
            _money("drawn", "drawnCents"),
            Column("currency", Cell.CURRENCY),
            _id("grantingDepartmentId", DEPT),
            _id("approvingDepartmentId", DEPT, required=False),
            Column("grantedAt", Cell.DATE),
            # Empty, or a file from before the column, keeps the graph's status (ACTIVE for a
            # new facility).
            _choice("status", FacilityStatus, required=False, may_be_absent=True),
            # When and why it was closed (closeFacility's): only with status CLOSED; empty keeps
            # the graph's.
            Column("closedOn", Cell.DATE, required=False, may_be_absent=True),
            Column("closeReason", Cell.NOTE, required=False, may_be_absent=True),
        ),
        ("id",),
        defines=NodeKind.FACILITY,
    ),
    Table(
        "guarantees.csv",
        "guarantees",
        (
            _id("guarantorId", NodeKind.CLIENT),
            _id("facilityId", NodeKind.FACILITY),
            _money("amount", "amountCents", positive=True),
        ),
        ("guarantorId", "facilityId"),
    ),
)

TABLES_BY_FILE: Final = {t.file: t for t in TABLES}
# Kinds of RELATED_TO only: control and guarantees have their own files.
RELATION_KINDS: Final = frozenset(ClientLinkKind) - {
    ClientLinkKind.CONTROL,
    ClientLinkKind.GUARANTEE,
}


def parse_cell(column: Column, text: str) -> Any:
    """The row value of one cell, or `CellError`; an empty optional cell is None."""
    value = text.strip()
    if not value:
        if column.required:
            raise CellError("is required")
        return None
    match column.cell:
        case Cell.ID:
            if not ID_PATTERN.match(value):
                raise CellError(f"{value!r} is not a well-formed id (1-64 of A-Z a-z 0-9 _ . : -)")
            return value
        case Cell.TEXT | Cell.NOTE:
            limit = MAX_TEXT if column.cell is Cell.TEXT else MAX_NOTE
            if len(value) > limit:
                raise CellError(f"is longer than {limit} characters")
            if column.cell is Cell.TEXT and CONTROL_CHARACTERS.search(value):
                raise CellError("must be one line without control characters")
            return value if column.cell is Cell.TEXT else one_kind_of_line_break(value)
        case Cell.CHOICE:
            assert column.choices is not None
            allowed = [c.value for c in column.choices]
            if value not in allowed:
                raise CellError(f"{value!r} is not one of {', '.join(allowed)}")
            if column.choices is ClientLinkKind and value not in RELATION_KINDS:
                raise CellError(f"{value!r} has its own file (controls.csv or guarantees.csv)")
            return value
        case Cell.INT:
            try:
                number = int(value)
            except ValueError:
                raise CellError(f"{value!r} is not a whole number") from None
            _check_range(column, number)
            return number
        case Cell.FLOAT:
            try:
                real = float(value)
            except ValueError:
                raise CellError(f"{value!r} is not a number") from None
            if not math.isfinite(real):
                raise CellError(f"{value!r} is not a finite number")
            _check_range(column, real)
            return real
        case Cell.MONEY:
            cents = _parse_money(value)
            if column.low_open and cents == 0:
                raise CellError("must be above 0")
            return cents
        case Cell.BOOL:
            lowered = value.lower()
            if lowered not in ("true", "false"):
                raise CellError(f"{value!r} is not true or false")
            return lowered == "true"
        case Cell.DATE:
            return _parse_date(value)
        case Cell.CURRENCY:
            if not CURRENCY_PATTERN.match(value):
                raise CellError(f"{value!r} is not a three-letter ISO currency code")
            return value


def _parse_date(value: str) -> str:
    try:
        # fromisoformat alone would also take 20240101 and week dates.
        if len(value) != len("YYYY-MM-DD"):
            raise ValueError(value)
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise CellError(f"{value!r} is not a date (YYYY-MM-DD)") from None


def _check_range(column: Column, number: float) -> None:
    low, high = column.low, column.high
    # An int beyond a float's range cannot be formatted with :g; it is shown as written.
    shown = str(number) if isinstance(number, int) else f"{number:g}"
    shown = shown if len(shown) <= 30 else shown[:27] + "..."
    if low is not None and (number < low or (column.low_open and number == low)):
        bound = f"above {low:g}" if column.low_open else f"at least {low:g}"
        raise CellError(f"{shown} is out of range: must be {bound}")
    if high is not None and number > high:
        raise CellError(f"{shown} is out of range: must be at most {high:g}")


def _parse_money(value: str) -> int:
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise CellError(f"{value!r} is not an amount (digits, optional point and cents)") from None
    if not amount.is_finite():
        raise CellError(f"{value!r} is not a finite amount")
    if amount < 0:
        raise CellError(f"{value} is negative")
    if amount >= MAX_MONEY:  # as the API refuses it
        raise CellError(f"{value} is at or above the largest amount taken ({MAX_MONEY:f})")
    if amount != amount.quantize(Decimal("0.01")):
        raise CellError(f"{value} has more than two decimals")
    # Decimal also reads 1e3, 1_000 and full-width digits, which no export writes and a
    # spreadsheet may have made of something else.
    if not MONEY_TEXT.fullmatch(value):
        raise CellError(f"{value!r} is not written as digits, an optional point and cents")
    return decimal_to_cents(amount)


def render_cell(column: Column, value: Any) -> str:
    """The CSV text of a row value; parse_cell(render_cell(v)) == v (a note's line breaks
    written `\n`)."""
    if value is None:
        return ""
    match column.cell:
        case Cell.MONEY:
            cents = int(value)
            sign = "-" if cents < 0 else ""
            return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"
        case Cell.BOOL:
            return "true" if value else "false"
        case Cell.FLOAT:
            return repr(float(value))
        case Cell.INT:
            return str(int(value))
        case Cell.NOTE:
            return one_kind_of_line_break(str(value))
    return str(value)


def one_kind_of_line_break(note: str) -> str:
    """A note's line breaks as `\n`: the export's writer quotes a cell holding one, but not a
    cell holding a bare `\r`, which its reader then takes for the end of the row."""
    return note.replace("\r\n", "\n").replace("\r", "\n")


def check_row(table: Table, row: dict[str, Any]) -> list[tuple[str, str]]:
    """Checks across the cells of one row: (header, message) for each problem."""
    problems: list[tuple[str, str]] = []
    if table.distinct_ends and row.get("fromId") is not None and row["fromId"] == row.get("toId"):
        problems.append(("toId", "links a node to itself"))
    if table.section == "facilities":
        limit, drawn = row.get("limitCents"), row.get("drawnCents")
        if limit is not None and drawn is not None and drawn > limit:
            problems.append(("drawn", "is above the limit"))
        if row.get("status") == "CLOSED" and drawn:
            problems.append(("drawn", "a closed facility has nothing drawn"))
        for closing in ("closedOn", "closeReason"):
            if row.get(closing) is not None and row.get("status") != "CLOSED":
                problems.append((closing, "is only given with status CLOSED"))
        closed_on, granted_at = row.get("closedOn"), row.get("grantedAt")
        if closed_on is not None and granted_at is not None and closed_on < granted_at:
            problems.append(("closedOn", "is before grantedAt"))
    if table.section == "clients" and row.get("status") == "ARCHIVED" and row.get("grade"):
        # As archiveClient leaves it: an archived client is owed no visits.
        problems.append(("grade", "an archived client has no key-account grade"))
    share = row.get("share")
    if table.section == "controls" and isinstance(share, float) and not share_places_ok(share):
        problems.append(("share", f"has more than {SHARE_PLACES} decimal places"))
    if table.section == "clients" and (row.get("unifiedLimitCents") is None) != (
        row.get("unifiedLimitCurrency") is None
    ):
        problems.append(("unifiedLimitCurrency", "is given with unifiedLimit, and only with it"))
    return problems
