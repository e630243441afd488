"""The bank's calendar: which day it is and where a day begins, in the bank's own time zone.

A visit at 07:00 in Beijing on 1 March belongs to March, in the performance figures and in the
overdue list, though it is still 28 February in UTC. Instants are stored as they are (UTC);
days (a link's `since`, a client's `activatedAt`, "today" in checks and defaults) are the bank's:
`RMGRAPH_TIMEZONE`, an IANA name, by default Asia/Shanghai. Cypher that needs today's date takes
the zone as `$tz` (`date({timezone: $tz})`), so the server's own default zone does not matter.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from graph.errors import InvalidInput

DEFAULT_ZONE: Final = "Asia/Shanghai"


@functools.cache
def bank_zone() -> ZoneInfo:
    name = os.environ.get("RMGRAPH_TIMEZONE", DEFAULT_ZONE)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise RuntimeError(f"RMGRAPH_TIMEZONE={name!r} is not a known time zone") from exc


def zone_name() -> str:
    return bank_zone().key


def today() -> dt.date:
    return dt.datetime.now(bank_zone()).date()


def day_start(day: dt.date) -> dt.datetime:
    """The instant the bank's day begins (midnight there), as an aware datetime."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=bank_zone())


def as_utc(moment: dt.datetime, field: str) -> dt.datetime:
    """A moment given by a client, in UTC for Neo4j: without an offset it is the bank's local
    time; with one past Neo4j's ±18:00 (ISO allows ±23:59) it is the same instant in UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=bank_zone())
    try:
        return moment.astimezone(dt.UTC)
    except OverflowError:
        raise InvalidInput(field, "is out of range") from None
