"""Large-exposure limits as data: which rules apply to an exposure, and how much of each is used.

Pure logic (no database). Percentages are exact `Decimal`s of the capital base; amounts too,
converted to the capital's (reporting) currency before they are added up.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from typing import Final

from pydantic import Field

from graph.errors import FxRateMissing
from graph.models import GraphModel

HUNDRED: Final = Decimal(100)
CENT: Final = Decimal("0.01")


class LimitProfile(StrEnum):
    CN_2018 = "CN_2018"  # 商业银行大额风险暴露管理办法 (2018)
    BASEL = "BASEL"  # Basel large exposures framework (LEX)


class LimitRule(StrEnum):
    SINGLE_CLIENT = "SINGLE_CLIENT"
    SINGLE_CLIENT_LOANS = "SINGLE_CLIENT_LOANS"
    GROUP = "GROUP"
    INTERBANK = "INTERBANK"


class ProfileLimits(GraphModel):
    reportable_pct: Decimal
    # Basel's large exposure is one "equal to or above" 10% of tier-1; the 2018 rules' one
    # "above" 2.5% (超过).
    reportable_at_pct: bool
    single_pct: Decimal
    single_loans_net_capital_pct: Decimal | None
    group_pct: Decimal
    interbank_pct: Decimal
    interdependence_pct: Decimal


PROFILES: Final[dict[LimitProfile, ProfileLimits]] = {
    LimitProfile.CN_2018: ProfileLimits(
        reportable_pct=Decimal("2.5"),
        reportable_at_pct=False,
        single_pct=Decimal(15),
        single_loans_net_capital_pct=Decimal(10),
        group_pct=Decimal(20),
        interbank_pct=Decimal(25),
        interdependence_pct=Decimal(5),
    ),
    LimitProfile.BASEL: ProfileLimits(
        reportable_pct=Decimal(10),
        reportable_at_pct=True,
        single_pct=Decimal(25),
        single_loans_net_capital_pct=None,
        group_pct=Decimal(25),
        interbank_pct=Decimal(25),
        interdependence_pct=Decimal(5),
    ),
}


class FxTable(GraphModel):
    """The reporting currency, and `fx_rates`: units of it per unit of each other currency."""

    currency: str = "CNY"
    fx_rates: dict[str, Decimal] = Field(default_factory=dict)

    def unrated(self, currencies: Iterable[str]) -> list[str]:
        """The currencies among these that neither are the reporting one nor have a rate."""
        return sorted({c for c in currencies if c != self.currency and c not in self.fx_rates})

    def require_rates(self, currencies: Iterable[str]) -> None:
        missing = self.unrated(currencies)
        if missing:
            raise FxRateMissing(missing, self.currency)

    def to_reporting(self, amount: Decimal, currency: str) -> Decimal:
        """The amount in the reporting currency, to the cent (half to even, as accountants
        round); FxRateMissing without a rate."""
        if currency == self.currency:
            return amount
        self.require_rates([currency])
        return (amount * self.fx_rates[currency]).quantize(CENT, ROUND_HALF_EVEN)

    def total(self, amounts: Iterable[tuple[Decimal, str]]) -> Decimal:
        """Amounts in their currencies, added up in the reporting currency."""
        return sum((self.to_reporting(a, c) for a, c in amounts), Decimal("0.00"))


class CapitalBase(FxTable):
    """The capital is in the reporting currency; every amount measured against it is
    converted to that currency first."""

    profile: LimitProfile
    tier1_capital: Decimal
    net_capital: Decimal


class LimitUsage(GraphModel):
    rule: LimitRule
    amount: Decimal
    capital: Decimal = Decimal(0)
    limit_pct: Decimal
    limit_amount: Decimal
    usage_pct: Decimal  # amount as a share of the capital the rule is measured against
    breached: bool
    reportable: bool


def _usage(rule: LimitRule, amount: Decimal, capital: Decimal, pct: Decimal,
           p: ProfileLimits, tier1: Decimal) -> LimitUsage:  # fmt: skip
    """`reportable` is always against tier-1 capital (a large exposure is a share of tier-1),
    whatever capital the rule's own limit is measured against (net capital for loans)."""
    share = amount * HUNDRED / capital if capital else Decimal(0)
    return LimitUsage(
        rule=rule,
        amount=amount,
        capital=capital,
        limit_pct=pct,
        limit_amount=capital * pct / HUNDRED,
        usage_pct=share,
        breached=share > pct,
        reportable=is_reportable(p, amount, tier1),
    )


def is_reportable(p: ProfileLimits, amount: Decimal, tier1: Decimal) -> bool:
    """A large exposure, reported whatever its rule: a share of tier-1 capital."""
    if not tier1:
        return False
    share, at = amount * HUNDRED, tier1 * p.reportable_pct
    return share >= at if p.reportable_at_pct else share > at


def assess_limits(
    base: CapitalBase,
    *,
    client_amount: Decimal,
    client_loans: Decimal,
    group_amount: Decimal,
    group_size: int,
    client_interbank: bool,
    group_interbank: bool,
) -> list[LimitUsage]:
    """The rules that apply. The client is held to its own kind's single-client limit: a bank to
    the interbank one, a non-bank to the single-client limit (and, in the 2018 rules, a loans
    limit on net capital). A group of more than one is held to the interbank limit when all its
    members are banks, else to the stricter non-bank group limit, whichever member is asked
    about. A bank whose group is all banks has the one interbank limit, on the group's total."""
    p = PROFILES[base.profile]
    t1 = base.tier1_capital
    grouped = group_size > 1
    usages: list[LimitUsage] = []
    if client_interbank:
        if not (grouped and group_interbank):
            usages.append(_usage(LimitRule.INTERBANK, client_amount, t1, p.interbank_pct, p, t1))
    else:
        usages.append(_usage(LimitRule.SINGLE_CLIENT, client_amount, t1, p.single_pct, p, t1))
        if p.single_loans_net_capital_pct is not None:
            usages.append(
                _usage(LimitRule.SINGLE_CLIENT_LOANS, client_loans, base.net_capital,
                       p.single_loans_net_capital_pct, p, t1)
            )  # fmt: skip
    if grouped:
        rule, pct = (
            (LimitRule.INTERBANK, p.interbank_pct)
            if group_interbank
            else (LimitRule.GROUP, p.group_pct)
        )
        usages.append(_usage(rule, group_amount, t1, pct, p, t1))
    return usages


def interdependence_to_assess(base: CapitalBase, client_amount: Decimal) -> bool:
    """Above this share of tier-1 (5%), the rules ask the bank to assess the client's economic
    interdependence with others: who depends on it, or it on whom, for half its revenue."""
    p = PROFILES[base.profile]
    return client_amount * HUNDRED > base.tier1_capital * p.interdependence_pct


def assess_total(
    base: CapitalBase, amount: Decimal, group_size: int, interbank: bool
) -> LimitUsage:
    """The one rule a whole-group (or ungrouped client) total is measured against: interbank
    when every member is a bank (as `assess_limits` holds a group)."""
    p = PROFILES[base.profile]
    if interbank:
        rule, pct = LimitRule.INTERBANK, p.interbank_pct
    elif group_size > 1:
        rule, pct = LimitRule.GROUP, p.group_pct
    else:
        rule, pct = LimitRule.SINGLE_CLIENT, p.single_pct
    t1 = base.tier1_capital
    return _usage(rule, amount, t1, pct, p, t1)
