"""Limit rules as pure logic, at their edges."""

from __future__ import annotations

from decimal import Decimal

from graph.guarantee_circles import find_cycles
from graph.limits import CapitalBase, LimitProfile, LimitRule, assess_limits, assess_total

BASE = CapitalBase(
    profile=LimitProfile.CN_2018, tier1_capital=Decimal("1000.00"), net_capital=Decimal("2000.00")
)


def test_exactly_at_the_limit_is_not_a_breach() -> None:
    [single, loans] = assess_limits(
        BASE, client_amount=Decimal("150.00"), client_loans=Decimal("200.01"),
        group_amount=Decimal("150.00"), group_size=1, client_interbank=False,
        group_interbank=False,
    )  # fmt: skip
    assert (single.rule, single.breached, single.reportable) == (
        LimitRule.SINGLE_CLIENT,
        False,
        True,
    )
    assert (loans.rule, loans.breached) == (LimitRule.SINGLE_CLIENT_LOANS, True)
    assert loans.usage_pct == Decimal("10.0005")


def test_reportable_threshold() -> None:
    """Above 2.5% of tier-1 in the 2018 rules (超过); at or above 10% in Basel's."""
    assert assess_total(BASE, Decimal("25.00"), 1, False).reportable is False
    assert assess_total(BASE, Decimal("25.01"), 1, False).reportable is True
    basel = BASE.model_copy(update={"profile": LimitProfile.BASEL})
    assert assess_total(basel, Decimal("99.99"), 1, False).reportable is False
    assert assess_total(basel, Decimal("100.00"), 1, False).reportable is True


def test_loans_are_reportable_against_tier1_like_every_exposure() -> None:
    """Loans of 40.00: 2% of the net capital (2,000.00) but 4% of tier-1 (1,000.00), so large
    and reportable; 20.00 of loans is 2% of tier-1, not reportable."""
    for loans, reportable in (("40.00", True), ("20.00", False)):
        [_, usage] = assess_limits(
            BASE, client_amount=Decimal(loans), client_loans=Decimal(loans),
            group_amount=Decimal(loans), group_size=1, client_interbank=False,
            group_interbank=False,
        )  # fmt: skip
        assert usage.rule is LimitRule.SINGLE_CLIENT_LOANS
        assert usage.usage_pct == Decimal(loans) / 20  # of the net capital, as the limit is
        assert usage.reportable is reportable


def test_a_bank_in_a_group_of_banks_has_one_limit() -> None:
    usage = assess_limits(
        BASE, client_amount=Decimal(1), client_loans=Decimal(1), group_amount=Decimal("250.01"),
        group_size=3, client_interbank=True, group_interbank=True,
    )  # fmt: skip
    assert [(u.rule, u.amount, u.breached) for u in usage] == [
        (LimitRule.INTERBANK, Decimal("250.01"), True)
    ]


def test_a_group_mixing_banks_and_non_banks_has_the_non_bank_group_limit() -> None:
    """Its bank keeps the interbank single limit, its corporate the single-client ones; both
    are held to the group limit of 20%, not the interbank 25%."""
    for client_interbank, singles in (
        (True, [LimitRule.INTERBANK]),
        (False, [LimitRule.SINGLE_CLIENT, LimitRule.SINGLE_CLIENT_LOANS]),
    ):
        usage = assess_limits(
            BASE, client_amount=Decimal(1), client_loans=Decimal(1),
            group_amount=Decimal("200.01"), group_size=2, client_interbank=client_interbank,
            group_interbank=False,
        )  # fmt: skip
        assert [u.rule for u in usage] == [*singles, LimitRule.GROUP]
        assert (usage[-1].amount, usage[-1].breached) == (Decimal("200.01"), True)
    assert assess_total(BASE, Decimal("200.01"), 2, False).rule is LimitRule.GROUP
    assert assess_total(BASE, Decimal("200.01"), 2, True).breached is False


def test_cycles_are_found_once_per_rotation() -> None:
    edges = {"c": {"a"}, "a": {"b"}, "b": {"c", "a"}, "d": {"d"}}
    cycles, complete = find_cycles(edges, 6)
    assert complete
    assert cycles == [("a", "b"), ("a", "b", "c")]


def test_cycle_search_respects_size_and_budget() -> None:
    ring = {str(i): {str((i + 1) % 5)} for i in range(5)}
    assert find_cycles(ring, 4)[0] == []
    assert find_cycles(ring, 5)[0] == [("0", "1", "2", "3", "4")]
    assert find_cycles(ring, 5, budget=2)[1] is False


def _everyone_guarantees_everyone(firms: list[str]) -> dict[str, set[str]]:
    return {a: {b for b in firms if b != a} for a in firms}


def test_a_joint_guarantee_cluster_lists_each_set_of_firms_once() -> None:
    """Six firms each guaranteeing the other five close 409 cycles of two to six firms through
    57 sets of them (15 pairs, 20 sets of three, 15 of four, 6 of five, 1 of six): each set
    is listed once."""
    firms = [f"k{i}" for i in range(6)]
    cycles, complete = find_cycles(_everyone_guarantees_everyone(firms), 6)
    assert complete
    sets = [frozenset(c) for c in cycles]
    assert len(sets) == len(set(sets)) == 15 + 20 + 15 + 6 + 1
    assert cycles[:2] == [("k0", "k1"), ("k0", "k2")]
    assert cycles[-1] == ("k0", "k1", "k2", "k3", "k4", "k5")


def test_a_dense_cluster_does_not_hide_the_circles_elsewhere() -> None:
    """Fourteen firms all guaranteeing one another run the search out of budget; a mutual pair
    and a circle of three elsewhere (their ids after the cluster's) are found all the same."""
    edges = _everyone_guarantees_everyone([f"a{i:02}" for i in range(14)])
    edges |= {"z1": {"z2"}, "z2": {"z1"}, "x1": {"x2"}, "x2": {"x3"}, "x3": {"x1"}}
    cycles, complete = find_cycles(edges, 6, budget=100_000)
    assert not complete
    assert ("z1", "z2") in cycles and ("x1", "x2", "x3") in cycles
    assert len([c for c in cycles if len(c) == 2]) == 14 * 13 // 2 + 1  # every pair, whatever
