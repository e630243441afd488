"""The evaluation's arithmetic, without a database."""

from __future__ import annotations

import pytest

from bench.cross_sell_quality import BASE_PRODUCTS, average_precision_at_k, split
from seeds.generate import chunks


def test_average_precision_at_k() -> None:
    assert average_precision_at_k(["a", "b", "c"], {"a"}, 5) == 1.0
    assert average_precision_at_k(["x", "a"], {"a"}, 5) == 0.5
    assert average_precision_at_k(["x", "y", "z", "w", "v", "a"], {"a"}, 5) == 0.0
    assert average_precision_at_k(["a", "x", "b"], {"a", "b"}, 5) == pytest.approx((1 + 2 / 3) / 2)
    assert average_precision_at_k([], set(), 5) == 0.0


def test_split_hides_one_non_base_holding_per_test_client() -> None:
    [_, bank] = list(chunks(1000, 3, chunk_clients=1000))
    before = {(h["clientId"], h["productId"]) for h in bank.holdings}
    hidden = split(bank, 0.2, 3)
    after = {(h["clientId"], h["productId"]) for h in bank.holdings}
    assert before - after == set(hidden.items())
    assert 100 < len(hidden) < 300
    assert not set(hidden.values()) & BASE_PRODUCTS
