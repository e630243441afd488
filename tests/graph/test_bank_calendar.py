"""The bank's days are its own time zone's (pure logic, no database)."""

from __future__ import annotations

import datetime as dt

import pytest

from graph import bank_calendar
from graph.errors import InvalidInput


def test_a_bank_day_begins_at_midnight_there(shanghai: None) -> None:
    start = bank_calendar.day_start(dt.date(2025, 3, 1))
    assert start.astimezone(dt.UTC) == dt.datetime(2025, 2, 28, 16, 0, tzinfo=dt.UTC)


def test_a_time_without_an_offset_is_the_bank_s(shanghai: None) -> None:
    naive = dt.datetime(2025, 3, 1, 7, 0)
    assert bank_calendar.as_utc(naive, "at") == dt.datetime(2025, 2, 28, 23, 0, tzinfo=dt.UTC)
    aware = dt.datetime(2025, 3, 1, 7, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    assert bank_calendar.as_utc(aware, "at") == dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)


def test_a_moment_beyond_the_calendar_is_named(shanghai: None) -> None:
    with pytest.raises(InvalidInput) as refused:
        bank_calendar.as_utc(dt.datetime(1, 1, 1, 3, 0), "asOf")
    assert refused.value.field == "asOf"


def test_today_is_the_bank_s_date(shanghai: None) -> None:
    # Beijing keeps UTC+8 all year: today there is the UTC date eight hours on.
    before = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=8)).date()
    today = bank_calendar.today()
    after = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=8)).date()
    assert today in (before, after)
    assert bank_calendar.zone_name() == "Asia/Shanghai"


def test_an_unknown_zone_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RMGRAPH_TIMEZONE", "Mars/Olympus")
    bank_calendar.bank_zone.cache_clear()
    try:
        with pytest.raises(RuntimeError, match="Mars/Olympus"):
            bank_calendar.bank_zone()
    finally:
        bank_calendar.bank_zone.cache_clear()
