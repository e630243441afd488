"""The bank's days are its own time zone's (pure logic, no database)."""

from __future__ import annotations

import datetime as dt

import pytest

from graph import bank_calendar


def test_a_bank_day_begins_at_midnight_there(shanghai: None) -> None:
    start = bank_calendar.day_start(dt.date(2025, 3, 1))
    assert start.astimezone(dt.UTC) == dt.datetime(2025, 2, 28, 16, 0, tzinfo=dt.UTC)


def test_a_time_without_an_offset_is_the_bank_s(shanghai: None) -> None:
    naive = dt.datetime(2025, 3, 1, 7, 0)
    assert bank_calendar.in_bank_zone(naive).astimezone(dt.UTC).hour == 23
    aware = dt.datetime(2025, 3, 1, 7, 0, tzinfo=dt.UTC)
    assert bank_calendar.in_bank_zone(aware) is aware


def test_today_is_the_bank_s_date(shanghai: None) -> None:
    now = dt.datetime.now(bank_calendar.bank_zone())
    assert bank_calendar.today() in (now.date(), (now + dt.timedelta(seconds=1)).date())
    assert bank_calendar.zone_name() == "Asia/Shanghai"


def test_an_unknown_zone_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RMGRAPH_TIMEZONE", "Mars/Olympus")
    bank_calendar.bank_zone.cache_clear()
    try:
        with pytest.raises(RuntimeError, match="Mars/Olympus"):
            bank_calendar.bank_zone()
    finally:
        bank_calendar.bank_zone.cache_clear()
