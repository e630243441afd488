"""How good are the cross-sell suggestions? MAP@k on held-out holdings, against popularity.

A generated bank (with planted co-holding patterns) is split: for a share of the clients holding
two or more products, one active holding is hidden. The rest is loaded into a fresh managed
Neo4j, cross-sell links are refreshed from it, and for each test client `crossSellPaths` ranks
products (the same query the API serves). The baseline ranks the most held products the client
does not hold and may buy. Run with `make bench-cross-sell`.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from graph.bank_rows import BankRows, HoldingRow
from graph.bulk_load import load_bank
from graph.cross_sell_paths import get_cross_sell_paths
from graph.cross_sell_refresh import refresh_cross_sell
from graph.db import Db, open_async_driver, open_driver
from graph.migrations import migrate
from graph.provision import provide_neo4j
from graph.settings import Neo4jSettings
from seeds.generate import AUDIENCE, RISK, chunks


def average_precision_at_k(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    """AP@k: mean of precision at each rank that holds a relevant item, over min(|rel|, k)."""
    if not relevant:
        return 0.0
    hits, total = 0, 0.0
    for rank, item in enumerate(ranked[:k], start=1):
        if item in relevant:
            hits += 1
            total += hits / rank
    return total / min(len(relevant), k)


# Every client opens its current account first: that is not a product anyone cross-sells, and
# like Santander's benchmark (products added later) the holdout leaves it out.
BASE_PRODUCTS = frozenset({"p-deposit", "p-deposit-corp"})


def split(bank: BankRows, share: float, seed: int) -> dict[str, str]:
    """Hide one active, non-base holding from `share` of the clients holding two or more."""
    rng = random.Random(seed)
    active: dict[str, list[HoldingRow]] = {}
    for h in bank.holdings:
        if h["active"] and h["productId"] not in BASE_PRODUCTS:
            active.setdefault(h["clientId"], []).append(h)
    hidden: dict[str, str] = {}
    for client in sorted(active):
        if len(active[client]) >= 1 and rng.random() < share:
            hidden[client] = rng.choice(active[client])["productId"]
    bank.holdings = [
        h for h in bank.holdings if hidden.get(h["clientId"]) != h["productId"] or not h["active"]
    ]
    return hidden


def _fits(product: str, client: dict[str, object]) -> bool:
    audience = AUDIENCE[product]
    kind = client["kind"]
    fits = audience == "ALL" or audience == ("INDIVIDUAL" if kind == "INDIVIDUAL" else "CORPORATE")
    return fits and RISK[product] <= int(str(client["riskRating"]))


def popularity_ranking(bank: BankRows, client: dict[str, object], held: set[str]) -> list[str]:
    counts = Counter(h["productId"] for h in bank.holdings if h["active"])
    return [p for p, _ in counts.most_common() if p not in held and _fits(p, client)]


async def evaluate(clients: int, seed: int, k: int, tests: int) -> dict[str, float]:
    bank = BankRows()
    for chunk in chunks(clients, seed):
        for name, rows in vars(chunk).items():
            getattr(bank, name).extend(rows)
    hidden = split(bank, 0.2, seed)
    test_ids = sorted(hidden)[:tests]
    held: dict[str, set[str]] = {}
    for h in bank.holdings:
        if h["active"]:
            held.setdefault(h["clientId"], set()).add(h["productId"])
    by_id = {c["id"]: dict(c) for c in bank.clients}
    database = Neo4jSettings().database
    with tempfile.TemporaryDirectory() as state, provide_neo4j(Path(state)) as conn:
        with open_driver(conn.uri, conn.user, conn.password) as driver:
            migrate(driver, database)
            load_bank(driver, database, bank)
        adriver = open_async_driver(conn.uri, conn.user, conn.password)
        try:
            db = Db(adriver, database, tx_timeout=600)
            await refresh_cross_sell(db, min_support=0.005, min_confidence=0.05)
            engine, baseline = [], []
            started = time.monotonic()
            for cid in test_ids:
                paths = await get_cross_sell_paths(db, cid, 3, k) or []
                relevant = {hidden[cid]}
                engine.append(average_precision_at_k([p.product_id for p in paths], relevant, k))
                popular = popularity_ranking(bank, by_id[cid], held.get(cid, set()))
                baseline.append(average_precision_at_k(popular, relevant, k))
            elapsed = time.monotonic() - started
        finally:
            await adriver.close()
    return {
        "clients": clients,
        "test_clients": len(test_ids),
        f"map@{k}_cross_sell_paths": sum(engine) / len(engine),
        f"map@{k}_popularity": sum(baseline) / len(baseline),
        "ms_per_query": 1000 * elapsed / len(test_ids),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.cross_sell_quality", description=__doc__)
    parser.add_argument("--clients", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--tests", type=int, default=2_000, help="test clients evaluated")
    args = parser.parse_args(argv)
    result = asyncio.run(evaluate(args.clients, args.seed, args.k, args.tests))
    for key, value in result.items():
        print(f"{key:>28}: {value:.4f}" if isinstance(value, float) else f"{key:>28}: {value}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
