"""Checks of one input value, shared by every write: each returns the clean value or raises
`InvalidInput` naming the field, before any transaction starts."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Final

from graph import bank_calendar
from graph.errors import InvalidInput

# Every node id: the API's `check_id` uses the same pattern.
ID_PATTERN: Final = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}\Z")  # \Z: no final newline
CURRENCY_PATTERN: Final = re.compile(r"\A[A-Z]{3}\Z")
# Above this an amount is a typo or an attack, not a bank figure (and cents stay exact in Int64).
LARGEST_AMOUNT: Final = Decimal("1e16")
EARLIEST_DATE: Final = dt.date(1900, 1, 1)


def require_id(field: str, value: str) -> str:
    if not ID_PATTERN.match(value):
        raise InvalidInput(field, "is not a well-formed id (1-64 of A-Z a-z 0-9 _ . : -)")
    return value


def require_text(field: str, value: str, longest: int = 100) -> str:
    """Trimmed, non-empty, at most `longest` characters, no control characters."""
    value = value.strip()
    if not 1 <= len(value) <= longest:
        raise InvalidInput(field, f"must be 1 to {longest} characters")
    if any(ord(ch) < 32 or ch == "\x7f" for ch in value):  # as the CSV files refuse them
        raise InvalidInput(field, "must not contain control characters")
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in value):
        raise InvalidInput(field, "must be valid Unicode (no lone surrogates)")
    return value


def optional_text(field: str, value: str | None, longest: int = 100) -> str | None:
    return None if value is None else require_text(field, value, longest)


def require_range(field: str, value: int, low: int, high: int) -> int:
    if not low <= value <= high:
        raise InvalidInput(field, f"must be between {low} and {high}")
    return value


def require_amount(field: str, value: Decimal, positive: bool = False) -> Decimal:
    """A money amount: finite, not negative (or above zero), at most two decimal places."""
    if not value.is_finite():
        raise InvalidInput(field, "must be a finite number")
    if value < 0 or (positive and value == 0):
        raise InvalidInput(field, "must be greater than 0" if positive else "must not be negative")
    # Size first: quantizing a huge exponent would itself fail.
    if value >= LARGEST_AMOUNT:
        raise InvalidInput(field, "is implausibly large")
    if value != value.quantize(Decimal("0.01")):
        raise InvalidInput(field, "has more than two decimal places")
    return value


def require_past_date(field: str, value: dt.date) -> dt.date:
    if not EARLIEST_DATE <= value <= bank_calendar.today():
        raise InvalidInput(field, f"must be between {EARLIEST_DATE} and today")
    return value


def require_currency(field: str, value: str) -> str:
    if not CURRENCY_PATTERN.match(value):
        raise InvalidInput(field, "must be a three-letter ISO 4217 code such as CNY")
    return value


# Shares are added up to decide control in whole millionths of a percent (graph.client_group).
SHARE_PLACES: Final = 6


def share_places_ok(share: float) -> bool:
    """Whether a share in percent has at most SHARE_PLACES decimal places as written."""
    exponent = Decimal(repr(share)).as_tuple().exponent
    return isinstance(exponent, int) and exponent >= -SHARE_PLACES
