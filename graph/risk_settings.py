"""The capital base and limit profile, one node in the graph, changed by admins."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Final, LiteralString

from graph.client_links import OPEN_FACILITY
from graph.data_writes import Write, run_write
from graph.db import Db
from graph.errors import InvalidInput
from graph.input_checks import require_currency
from graph.limits import CapitalBase, FxTable, LimitProfile
from graph.models import cents_to_decimal, decimal_to_cents

SETTINGS_ID: Final = "risk-settings"
# Placeholder rates (units of CNY per unit), so that the demo bank's USD facilities add up; a
# bank sets its own, and keeps them current, with setRiskSettings(fxRates).
DEFAULT_FX_RATES: Final = {
    "EUR": Decimal("7.80"),
    "GBP": Decimal("9.10"),
    "HKD": Decimal("0.91"),
    "JPY": Decimal("0.048"),
    "USD": Decimal("7.10"),
}
# Defaults for the demo branch's parent bank: tier-1 capital 40 bn, net capital 48 bn (CNY).
DEFAULT_BASE: Final = CapitalBase(
    profile=LimitProfile.CN_2018,
    tier1_capital=Decimal("40000000000.00"),
    net_capital=Decimal("48000000000.00"),
    currency="CNY",
    fx_rates=DEFAULT_FX_RATES,
)
MAX_RATES: Final = 200
# A change of the settings and the writes bringing money in a currency take turns on an OrgLock
# per currency ("fx:USD"): the settings change holds every currency it had or has, a facility
# its own, so writes in different currencies do not wait for each other. The settings change
# also holds SETTINGS_LOCK, so two of them run one after the other.
SETTINGS_LOCK: Final = "risk-settings"


def currency_lock(code: str) -> str:
    return "fx:" + code


# The settings as columns (profile, tier1, net, currency, fxCurrencies, fxRates), for a
# statement to read them along with its own work in one round trip; `capital_base_from` turns a
# row of them into a `CapitalBase`. Rates are kept as exact decimal text, in a list beside their
# currencies (a node property cannot be a map).
SETTINGS_COLUMNS: Final[LiteralString] = """
OPTIONAL MATCH (s:RiskSettings {id: $settingsId})
WITH s.profile AS profile, s.tier1CapitalCents AS tier1, s.netCapitalCents AS net,
     s.currency AS currency, s.fxCurrencies AS fxCurrencies, s.fxRates AS fxRates
"""

READ_SETTINGS: Final[LiteralString] = (
    SETTINGS_COLUMNS + "RETURN profile, tier1, net, currency, fxCurrencies, fxRates"
)

# Every currency money is held in where the rates must convert it: open facilities and unified
# limits. Read whole (a rare admin change), to refuse rates that would leave one unconverted.
CURRENCIES_IN_USE: Final[LiteralString] = (
    """
CALL () {
  MATCH (f:Facility) WHERE """
    + OPEN_FACILITY
    + """
  RETURN DISTINCT f.currency AS currency
  UNION
  MATCH (c:Client) WHERE c.unifiedLimitCurrency IS NOT NULL
  RETURN DISTINCT c.unifiedLimitCurrency AS currency
}
RETURN collect(currency) AS currencies
"""
)

# Rates left out (null) keep the stored ones.
WRITE_SETTINGS: Final[LiteralString] = """
MERGE (s:RiskSettings {id: $settingsId})
WITH s, coalesce(s.currency, 'CNY') AS before
SET s.profile = $profile, s.tier1CapitalCents = $tier1, s.netCapitalCents = $net,
    s.currency = coalesce($currency, s.currency, 'CNY'),
    s.fxCurrencies = coalesce($fxCurrencies, s.fxCurrencies),
    s.fxRates = coalesce($fxRates, s.fxRates),
    s.updatedAt = datetime(), s.updatedBy = $actor
WITH s, before
RETURN s.profile AS profile, s.tier1CapitalCents AS tier1, s.netCapitalCents AS net,
       s.currency AS currency, s.fxCurrencies AS fxCurrencies, s.fxRates AS fxRates, before
"""


def capital_base_from(row: Mapping[str, Any]) -> CapitalBase:
    """The settings from a row with `SETTINGS_COLUMNS`, or the defaults while none were set."""
    if row["profile"] is None:
        return DEFAULT_BASE
    fx = fx_table_from(row["currency"], row["fxCurrencies"], row["fxRates"])
    return CapitalBase(
        profile=row["profile"],
        tier1_capital=cents_to_decimal(row["tier1"]),
        net_capital=cents_to_decimal(row["net"]),
        currency=fx.currency,
        fx_rates=fx.fx_rates,
    )


def fx_table_from(
    currency: str | None, currencies: list[str] | None, rates: list[str] | None
) -> FxTable:
    """The stored rates; the defaults where none were ever stored."""
    if currencies is None or rates is None:
        return FxTable(currency=currency or DEFAULT_BASE.currency, fx_rates=DEFAULT_FX_RATES)
    return FxTable(
        currency=currency or DEFAULT_BASE.currency,
        fx_rates={c: Decimal(r) for c, r in zip(currencies, rates, strict=True)},
    )


def rate_columns(rates: Mapping[str, Decimal]) -> dict[str, list[str]]:
    """`fxCurrencies` and `fxRates` as stored: currencies in order, rates as exact text."""
    ordered = sorted(rates)
    return {"fxCurrencies": ordered, "fxRates": [str(rates[c]) for c in ordered]}


async def get_capital_base(db: Db) -> CapitalBase:
    """The stored settings, or the defaults while none were set."""
    records = await db.read(READ_SETTINGS, {"settingsId": SETTINGS_ID})
    return capital_base_from(records[0])


def validate_rates(
    currency: str | None, rates: Sequence[tuple[str, Decimal]]
) -> dict[str, Decimal]:
    if currency is not None:
        require_currency("currency", currency)
    if len(rates) > MAX_RATES:
        raise InvalidInput("fxRates", f"holds more than {MAX_RATES} rates")
    out: dict[str, Decimal] = {}
    for code, rate in rates:
        require_currency("fxRates", code)
        if code in out:
            raise InvalidInput("fxRates", f"{code} is given twice")
        if not rate.is_finite() or rate <= 0 or rate >= Decimal("1e6"):
            raise InvalidInput("fxRates", f"the {code} rate must be above 0 and below 1,000,000")
        if rate != rate.quantize(Decimal("1e-8")):
            raise InvalidInput("fxRates", f"the {code} rate has more than 8 decimal places")
        out[code] = rate
    return out


def validate_amounts(tier1_capital: Decimal, net_capital: Decimal) -> None:
    for field, value in (("tier1Capital", tier1_capital), ("netCapital", net_capital)):
        if not value.is_finite() or value <= 0:
            raise InvalidInput(field, "must be a number greater than 0")
        # Size first: quantizing a huge exponent would itself fail.
        if value >= Decimal("1e16"):
            raise InvalidInput(field, "is implausibly large")
        if value != value.quantize(Decimal("0.01")):
            raise InvalidInput(field, "has more than two decimal places")


def _settings_record(base: CapitalBase) -> dict[str, Any]:
    """The settings as the audit record keeps them (money and rates as exact text)."""
    return {
        "profile": base.profile.value,
        "tier1Capital": str(base.tier1_capital),
        "netCapital": str(base.net_capital),
        "currency": base.currency,
        "fxRates": {code: str(rate) for code, rate in sorted(base.fx_rates.items())},
    }


async def require_rated_currency(w: Write, field: str, currency: str) -> None:
    """Inside a write that brings money in `currency` (a facility, a unified limit): the risk
    settings convert it to the reporting currency, or every exposure read that meets it would
    fail (FX_RATE_MISSING). Takes the currency's lock, so a concurrent setRiskSettings cannot
    drop the rate before this write commits."""
    await w.lock(currency_lock(currency))
    base = capital_base_from(await w.one(READ_SETTINGS, settingsId=SETTINGS_ID))
    if base.unrated([currency]):
        raise InvalidInput(
            field,
            f"{currency} has no exchange rate to {base.currency}, the reporting currency: an "
            "admin sets one first (setRiskSettings fxRates)",
        )


async def set_capital_base(
    db: Db, profile: LimitProfile, tier1_capital: Decimal, net_capital: Decimal, actor: str,
    currency: str | None = None, fx_rates: Sequence[tuple[str, Decimal]] | None = None,
) -> CapitalBase:  # fmt: skip
    """`currency` and `fx_rates` None keep the stored ones; rates given replace them all. The
    rates must still convert every currency open facilities and unified limits are in; the
    change is audited (`auditLog(nodeId: "risk-settings")`) with the settings before and
    after."""
    validate_amounts(tier1_capital, net_capital)
    rates = validate_rates(currency, fx_rates or [])
    columns = rate_columns(rates) if fx_rates is not None else None

    async def work(w: Write) -> CapitalBase:
        await w.lock(SETTINGS_LOCK)
        before = capital_base_from(await w.one(READ_SETTINGS, settingsId=SETTINGS_ID))
        codes = {before.currency, *before.fx_rates, *rates, currency or before.currency}
        for code in sorted(codes):
            await w.lock(currency_lock(code))
        tx = w.tx
        result = await tx.run(
            WRITE_SETTINGS,
            settingsId=SETTINGS_ID,
            profile=profile.value,
            tier1=decimal_to_cents(tier1_capital),
            net=decimal_to_cents(net_capital),
            currency=currency,
            actor=actor,
            fxCurrencies=columns["fxCurrencies"] if columns else None,
            fxRates=columns["fxRates"] if columns else None,
        )
        row = await result.single(strict=True)
        saved = capital_base_from(row)
        if fx_rates is None and saved.currency != row["before"]:
            # Rates kept from the old currency would be read as rates to the new one.
            raise InvalidInput("fxRates", f"give the rates to {saved.currency}, the new currency")
        # The reporting currency (perhaps kept) converts to itself, at no rate of its own.
        if saved.currency in rates:
            raise InvalidInput("fxRates", f"{saved.currency} is the reporting currency itself")
        in_use = (await w.one(CURRENCIES_IN_USE))["currencies"]
        unrated = saved.unrated(in_use)
        if unrated:
            raise InvalidInput(
                "fxRates",
                f"open facilities or unified limits are in {', '.join(unrated)}: keep a rate "
                f"for each to {saved.currency}",
            )
        w.settings.add(SETTINGS_ID)
        w.before = _settings_record(before)
        w.after = _settings_record(saved)
        return saved

    inputs = {
        "profile": profile.value, "tier1Capital": str(tier1_capital),
        "netCapital": str(net_capital), "currency": currency,
        "fxRates": None if fx_rates is None else {c: str(r) for c, r in sorted(rates.items())},
    }  # fmt: skip
    return await run_write(db, "setRiskSettings", actor, inputs, work)
