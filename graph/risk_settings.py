"""The capital base and limit profile, one node in the graph, changed by admins."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Final, LiteralString

from neo4j import AsyncManagedTransaction

from graph.db import Db
from graph.errors import InvalidInput
from graph.limits import CapitalBase, LimitProfile
from graph.models import cents_to_decimal, decimal_to_cents

SETTINGS_ID: Final = "risk-settings"
# Defaults for the demo branch's parent bank: tier-1 capital 40 bn, net capital 48 bn (CNY).
DEFAULT_BASE: Final = CapitalBase(
    profile=LimitProfile.CN_2018,
    tier1_capital=Decimal("40000000000.00"),
    net_capital=Decimal("48000000000.00"),
)

# The settings as columns (profile, tier1, net), for a statement to read them along with its own
# work in one round trip; `capital_base_from` turns a row of them into a `CapitalBase`.
SETTINGS_COLUMNS: Final[LiteralString] = """
OPTIONAL MATCH (s:RiskSettings {id: $settingsId})
WITH s.profile AS profile, s.tier1CapitalCents AS tier1, s.netCapitalCents AS net
"""

READ_SETTINGS: Final[LiteralString] = SETTINGS_COLUMNS + "RETURN profile, tier1, net"

WRITE_SETTINGS: Final[LiteralString] = """
MERGE (s:RiskSettings {id: $id})
SET s.profile = $profile, s.tier1CapitalCents = $tier1, s.netCapitalCents = $net,
    s.updatedAt = datetime(), s.updatedBy = $actor
"""


def capital_base_from(row: Mapping[str, Any]) -> CapitalBase:
    """The settings from a row with `SETTINGS_COLUMNS`, or the defaults while none were set."""
    if row["profile"] is None:
        return DEFAULT_BASE
    return CapitalBase(
        profile=row["profile"],
        tier1_capital=cents_to_decimal(row["tier1"]),
        net_capital=cents_to_decimal(row["net"]),
    )


async def get_capital_base(db: Db) -> CapitalBase:
    """The stored settings, or the defaults while none were set."""
    records = await db.read(READ_SETTINGS, {"settingsId": SETTINGS_ID})
    return capital_base_from(records[0])


def validate_amounts(tier1_capital: Decimal, net_capital: Decimal) -> None:
    for field, value in (("tier1Capital", tier1_capital), ("netCapital", net_capital)):
        if not value.is_finite() or value <= 0:
            raise InvalidInput(field, "must be a number greater than 0")
        # Size first: quantizing a huge exponent would itself fail.
        if value >= Decimal("1e16"):
            raise InvalidInput(field, "is implausibly large")
        if value != value.quantize(Decimal("0.01")):
            raise InvalidInput(field, "has more than two decimal places")


async def set_capital_base(
    db: Db, profile: LimitProfile, tier1_capital: Decimal, net_capital: Decimal, actor: str
) -> CapitalBase:
    validate_amounts(tier1_capital, net_capital)
    base = CapitalBase(profile=profile, tier1_capital=tier1_capital, net_capital=net_capital)

    async def work(tx: AsyncManagedTransaction) -> None:
        await tx.run(
            WRITE_SETTINGS,
            id=SETTINGS_ID,
            profile=base.profile.value,
            tier1=decimal_to_cents(base.tier1_capital),
            net=decimal_to_cents(base.net_capital),
            actor=actor,
        )

    await db.write(work)
    return base
