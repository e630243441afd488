"""`make bench`: the API over HTTP against the same Cypher straight through the driver.

Starts (or reuses) a managed Neo4j of its own (`~/.local/state/rmgraph/bench-neo4j`, or
`NEO4J_URI`), loads the generated bank if it is not there yet, refreshes cross-sell links,
reads the whole store once (so neither side pays for a cold page cache), starts the API with
uvicorn, and for each key operation and each concurrency (1, 8, 32) runs timed windows, each
after a warm-up, over HTTP and straight through the Python driver (the same graph function, no
HTTP, no GraphQL), alternating the two in slices: p50, p95, p99 and requests/s, with the ratio of the
GraphQL p95 to the raw p95. The API's peak resident memory is read from /proc. Results go to
stdout as a table and to `bench/results.json`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Final, LiteralString

import httpx
import uvloop
from neo4j import AsyncDriver, RoutingControl

from api.auth import Principal, Role, issue_token
from bench.http_client import JsonConnection
from graph import org_operations
from graph.bulk_load import load_bank
from graph.client_page import PageArgs, get_client_page
from graph.cross_sell_paths import get_cross_sell_paths
from graph.cross_sell_refresh import refresh_cross_sell
from graph.db import Db, open_async_driver, open_driver
from graph.errors import InvariantViolation
from graph.exposure import get_credit_exposure
from graph.guarantee_circles import find_guarantee_circles
from graph.local_server import Connection, LocalNeo4j, Memory, free_port
from graph.migrations import migrate
from graph.relationship_graph import RelationKind, get_neighbourhood
from graph.settings import Neo4jSettings, PathsSettings
from graph.visibility import get_visible_clients
from seeds.generate import chunks, client_id

RESULTS = Path(__file__).with_name("results.json")
SECRET = "bench-secret-" + "b" * 48
ROUNDS: Final = 2  # alternating GraphQL/raw slices per operation and concurrency
WARMUP_SECONDS: Final = 3.0  # per side, per operation, before its first timed window
CLIENT_PAGE = """query ClientPage($id: ID!) { client(id: $id) {
  id name kind segment grade riskRating
  primaryManager { id name level department { id name } } secondaryManagers { id name }
  departmentPath { id name }
  holdings(first: 20) { product { id name category } balance since }
  facilities { id type limit drawn currency grantingDepartment { id name } approvingDepartment { id name } }
  relatedClients(first: 50) { kind direction role otherRole share amount client { id name } }
  group { memberCount totalBalance totalFacilities root { id name } members { id name } } } }"""
GRAPH = """query ($id: ID!) { relationshipGraph(clientId: $id, depth: 2) {
  nodes { id kind label properties } edges { id source target type } truncated } }"""
EXPOSURE = """query ($id: ID!) { creditExposure(clientId: $id, maxDepth: 4) {
  total direct affiliated indirect members { client { id } path { fromId toId kind } }
  limitUsage { rule usagePercent breached } multipleGrantors unapprovedFacilities { reason } } }"""
CIRCLES = "{ guaranteeCircles(maxSize: 6) { circles { memberIds exposure } mutualPairs { memberIds } circleCount complete } }"
CROSS_SELL = """query ($id: ID!) { crossSellPaths(clientId: $id, maxHops: 3, first: 10) {
  product { id } score productIds } }"""
MOVE = """mutation ($dry: Boolean!, $parent: ID!) { moveDepartment(dryRun: $dry,
  input: {departmentId: "gd-ka-east", newParentId: $parent}) { __typename } }"""


@dataclass
class Operation:
    name: str
    query: str
    variables: Callable[[random.Random], dict[str, Any]]
    raw: Callable[[Db, dict[str, Any]], Awaitable[Any]]
    as_manager: bool = False  # asked by BENCH_MANAGER (each client field checks the book)


# A relationship manager of the generated bank (a principal of a key-account team): their book
# is the clients whose primary manager works in the same team, about 15,000 in the 100k bank.
BENCH_MANAGER: Final = "gm00000"


def _corporate(rng: random.Random, clients: int) -> str:
    block = rng.randrange(clients // 100)
    return client_id(block * 100 + rng.randrange(43))


def operations(clients: int, book: list[str]) -> list[Operation]:
    """The key operations; `book` holds corporate clients in BENCH_MANAGER's book."""
    kinds = sorted(RelationKind)

    def move_vars(dry: bool) -> Callable[[random.Random], dict[str, Any]]:
        # Parents at random: about half the moves change something, the rest are refused as
        # NO_OP (a move to the current parent) on both sides alike.
        def pick(rng: random.Random) -> dict[str, Any]:
            return {"dry": dry, "parent": rng.choice(("gd-ka", "gd-hq"))}

        return pick

    async def move(db: Db, v: dict[str, Any]) -> Any:
        try:
            return await org_operations.move_department(
                db, "bench", v["dry"], "gd-ka-east", v["parent"], None
            )
        except InvariantViolation as refused:  # the API answers it as InvariantViolationError
            if refused.invariant != "NO_OP":
                raise
            return refused

    async def exposure(db: Db, v: dict[str, Any]) -> Any:
        return await get_credit_exposure(db, v["id"], 4)

    def ids(rng: random.Random) -> dict[str, Any]:
        return {"id": _corporate(rng, clients)}

    return [
        Operation("client_page", CLIENT_PAGE, ids,
                  lambda db, v: get_client_page(db, v["id"], PageArgs(holdings_cap=20))),
        Operation("client_page_manager", CLIENT_PAGE, lambda rng: {"id": rng.choice(book)},
                  lambda db, v: get_client_page(db, v["id"], PageArgs(holdings_cap=20),
                                                visible_to=BENCH_MANAGER),
                  as_manager=True),
        Operation("relationship_graph_d2", GRAPH, ids,
                  lambda db, v: get_neighbourhood(db, v["id"], 2, kinds, 200)),
        Operation("credit_exposure_d4", EXPOSURE, ids, exposure),
        Operation("guarantee_circles", CIRCLES, lambda rng: {},
                  lambda db, v: find_guarantee_circles(db, 6, Decimal(0))),
        Operation("cross_sell_paths", CROSS_SELL, ids,
                  lambda db, v: get_cross_sell_paths(db, v["id"], 3, 10)),
        Operation("move_department_dry_run", MOVE, move_vars(True), move),
        Operation("move_department", MOVE, move_vars(False), move),
    ]  # fmt: skip


def summarise(latencies: list[float], seconds: float) -> dict[str, float]:
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return 1000 * ordered[min(len(ordered) - 1, int(p * len(ordered)))]

    return {
        "p50_ms": round(pct(0.50), 2),
        "p95_ms": round(pct(0.95), 2),
        "p99_ms": round(pct(0.99), 2),
        "rps": round(len(ordered) / seconds, 1),
        "requests": len(ordered),
    }


Timed = tuple[list[float], float]  # latencies, and the seconds they were gathered over


async def _drive(call: Callable[[int, random.Random], Awaitable[None]], concurrency: int,
                 seconds: float, warmup: int) -> Timed:  # fmt: skip
    """`concurrency` closed-loop clients (client n calls `call(n, rng)`) for `seconds`."""
    rng = random.Random(11)
    for _ in range(warmup):
        await call(0, rng)
    latencies: list[float] = []
    deadline = time.monotonic() + seconds

    async def worker(n: int) -> None:
        local = random.Random(n)
        while time.monotonic() < deadline:
            started = time.monotonic()
            await call(n, local)
            latencies.append(time.monotonic() - started)

    started = time.monotonic()
    await asyncio.gather(*(worker(n) for n in range(concurrency)))
    return latencies, time.monotonic() - started


async def drive_both(
    over_http: Callable[[int, random.Random], Awaitable[None]],
    raw: Callable[[int, random.Random], Awaitable[None]],
    concurrency: int,
    seconds: float,
    rounds: int = ROUNDS,
) -> tuple[dict[str, float], dict[str, float]]:
    """Each side `seconds` in all, in `rounds` alternating slices (GraphQL, raw, GraphQL, ...),
    so a slow minute of the machine, or caches still warming, weigh on both alike."""
    timed: dict[str, list[Timed]] = {"graphql": [], "raw": []}
    for _ in range(rounds):
        for name, call in (("graphql", over_http), ("raw", raw)):
            timed[name].append(await _drive(call, concurrency, seconds / rounds, 10))
    graphql, floor = (
        summarise([x for lat, _ in runs for x in lat], sum(t for _, t in runs))
        for runs in timed.values()
    )
    return graphql, floor


def _process_tree(pid: int) -> list[int]:
    """`pid` and its descendants."""
    found = [pid]
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                found.extend(_process_tree(int(child)))
    except FileNotFoundError:  # it ended while we looked
        pass
    return found


def _status_mb(pid: int, key: str) -> float:
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except FileNotFoundError:  # a process that just ended
        return 0.0
    for line in lines:
        if line.startswith(key):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mb(pids: list[int]) -> float:
    """The largest peak resident memory of any one of the API's processes."""
    tree = [p for pid in pids for p in _process_tree(pid)]
    return round(max((_status_mb(p, "VmHWM:") for p in tree), default=0.0), 1)


class MemorySampler:
    """The API's resident memory summed over all its processes, sampled every `interval` seconds
    while the benchmark runs; `peak` is the largest sum seen."""

    def __init__(self, pids: list[int], interval: float = 0.2) -> None:
        self.pids, self.interval, self.peak = pids, interval, 0.0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            tree = [p for pid in self.pids for p in _process_tree(pid)]
            total = sum(_status_mb(p, "VmRSS:") for p in tree)
            self.peak = max(self.peak, round(total, 1))
            await asyncio.sleep(self.interval)

    def __enter__(self) -> MemorySampler:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()


@contextmanager
def bench_neo4j() -> Iterator[Connection]:
    settings = Neo4jSettings()
    if settings.uri and settings.password:
        yield Connection(settings.uri, settings.user, settings.password)
        return
    state = PathsSettings().state_dir / "bench-neo4j"
    with LocalNeo4j(state, PathsSettings().cache_dir, Memory(page_cache="2g")) as conn:
        yield conn


# Every node and relationship with its properties, read once: a server just started has an empty
# page cache, and whichever side ran first would otherwise pay for reading the store from disk.
WARM_NODES: Final[LiteralString] = "MATCH (n) RETURN count(n) AS n, sum(size(keys(n))) AS p"
WARM_RELATIONSHIPS: Final[LiteralString] = (
    "MATCH ()-[r]->() RETURN count(r) AS n, sum(size(keys(r))) AS p"
)


async def warm_store(driver: AsyncDriver, database: str) -> None:
    for query in (WARM_NODES, WARM_RELATIONSHIPS):
        await driver.execute_query(query, database_=database, routing_=RoutingControl.READ)


def ensure_bank(conn: Connection, clients: int, seed: int) -> dict[str, Any]:
    database = Neo4jSettings().database
    with open_driver(conn.uri, conn.user, conn.password) as driver:
        migrate(driver, database)
        last = client_id(clients - 1)
        records, _, _ = driver.execute_query(
            "MATCH (c:Client {id: $id}) RETURN count(c) AS n", id=last, database_=database
        )
        if records[0]["n"]:
            return {"loaded_now": False}
        print(f"bench: loading the {clients:,}-client bank...", file=sys.stderr)
        started, rows = time.monotonic(), 0
        for chunk in chunks(clients, seed):
            load_bank(driver, database, chunk)
            rows += sum(chunk.counts().values())
        seconds = time.monotonic() - started
        return {"loaded_now": True, "rows": rows, "seconds": round(seconds, 1),
                "rows_per_s": round(rows / seconds)}  # fmt: skip


@contextmanager
def api_servers(conn: Connection, replicas: int) -> Iterator[list[tuple[int, int]]]:
    """`replicas` API processes, each one uvicorn worker on a port of its own: the deployment the
    README recommends (replicas behind a proxy that balances requests). Yields (port, pid)s."""
    env = {**os.environ, "NEO4J_URI": conn.uri, "NEO4J_USER": conn.user,
           "NEO4J_PASSWORD": conn.password, "RMGRAPH_JWT_SECRET": SECRET,
           "NEO4J_TX_TIMEOUT": "30"}  # fmt: skip
    started: list[tuple[int, subprocess.Popen[bytes]]] = []
    try:
        for _ in range(replicas):
            port = free_port()
            started.append((port, subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory", "--port",
                 str(port), "--log-level", "warning"],
                env=env,
            )))  # fmt: skip
        for port, _ in started:
            for _ in range(120):
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.5)
        yield [(port, proc.pid) for port, proc in started]
    finally:
        for _, proc in started:
            proc.terminate()
        for _, proc in started:
            proc.wait(timeout=30)


async def run(
    clients: int, seed: int, seconds: float, levels: list[int], replicas: int,
    only: set[str] | None = None,
) -> dict[str, Any]:  # fmt: skip
    with bench_neo4j() as conn:
        loading = ensure_bank(conn, clients, seed)
        driver = open_async_driver(conn.uri, conn.user, conn.password,
                                           max_connection_pool_size=64)  # fmt: skip
        db = Db(driver, Neo4jSettings().database, tx_timeout=30)
        await refresh_cross_sell(db, 0.005, 0.05)
        await warm_store(driver, db.database)
        token = issue_token(SECRET, Role.ADMIN, "bench", ttl=7200)
        manager_token = issue_token(SECRET, Role.MANAGER, "bench", BENCH_MANAGER, ttl=7200)
        sample = sorted({_corporate(random.Random(n), clients) for n in range(2000)})
        book = sorted(await get_visible_clients(db, BENCH_MANAGER, sample))
        if not book:
            raise RuntimeError(
                f"none of {len(sample)} sampled clients is in {BENCH_MANAGER}'s book"
            )
        results: dict[str, Any] = {}
        with (
            api_servers(conn, replicas) as servers,
            MemorySampler([p for _, p in servers]) as memory,
        ):
            headers = {"Authorization": f"Bearer {token}"}
            # Client n talks to replica n mod replicas, as a balancing proxy would spread them.
            connections = [
                JsonConnection("127.0.0.1", servers[n % len(servers)][0], headers)
                for n in range(max(levels))
            ]
            for op in operations(clients, book):
                if only and op.name not in only:
                    continue
                for connection in connections:
                    bearer = manager_token if op.as_manager else token
                    connection.headers["Authorization"] = f"Bearer {bearer}"
                results[op.name] = {}

                async def over_http(n: int, rng: random.Random, op: Operation = op) -> None:
                    body = {"query": op.query, "variables": op.variables(rng)}
                    status, data = await connections[n].post("/graphql", body)
                    if status != 200 or data.get("errors"):
                        raise RuntimeError(f"{op.name}: {status} {str(data)[:300]}")

                async def raw(n: int, rng: random.Random, op: Operation = op) -> None:
                    await op.raw(Db(driver, db.database, 30), op.variables(rng))

                # Neo4j compiles and caches as a query runs: the first hundreds of client pages
                # ran twice as slow as later ones. Both sides run a while before any is timed.
                for call in (over_http, raw):
                    await _drive(call, 2, WARMUP_SECONDS, 0)
                for level in levels:
                    graphql, floor = await drive_both(over_http, raw, level, seconds)
                    ratio = (
                        round(graphql["p95_ms"] / floor["p95_ms"], 2) if floor["p95_ms"] else None
                    )
                    results[op.name][str(level)] = {
                        "graphql": graphql,
                        "raw": floor,
                        "ratio": ratio,
                    }
                    print(f"{op.name:<26} c={level:<3} graphql p95 {graphql['p95_ms']:>8.1f} ms "
                          f"{graphql['rps']:>7.1f}/s   raw p95 {floor['p95_ms']:>8.1f} ms "
                          f"{floor['rps']:>7.1f}/s   ratio {ratio}", file=sys.stderr)  # fmt: skip
            breakdown = await where_the_time_goes(driver, db.database, connections[0], clients)
            print(f"client page, serial medians: {breakdown}", file=sys.stderr)
            peak, peak_per_process = memory.peak, peak_rss_mb([p for _, p in servers])
            for connection in connections:
                await connection.close()
        await driver.close()
    return {
        "machine": f"{platform.node()} ({os.cpu_count()} cores, {platform.machine()}, "
        f"Python {platform.python_version()}), managed Neo4j 5.26.30 heap 1g page cache 2g",
        "date": time.strftime("%Y-%m-%d"),
        "clients": clients,
        "window_seconds": seconds,
        "loading": loading,
        "api_replicas": replicas,
        "api_peak_rss_mb": peak,
        "api_peak_rss_mb_per_process": peak_per_process,
        "operations": results,
        "client_page_breakdown": breakdown,
    }


async def where_the_time_goes(
    driver: AsyncDriver,
    database: str,
    connection: JsonConnection,
    clients: int,
    requests: int = 500,
) -> dict[str, float]:
    """Serial medians for one client page, taken apart: the graph function alone (driver, Cypher,
    decoding, models), the same through GraphQL in this process (adds field resolution), and over
    HTTP (adds the web server, authentication and JSON), next to a trivial query over HTTP."""
    from api.context import Context
    from schema.build import schema

    principal = Principal("bench", Role.ADMIN)
    ids = [_corporate(random.Random(n), clients) for n in range(requests)]

    async def graph_function(client: str) -> None:
        await get_client_page(Db(driver, database, 30), client, PageArgs(holdings_cap=20))

    async def in_process(client: str) -> None:
        context = Context(db=Db(driver, database, 30), request_id="bench", principal=principal)
        result = await schema.execute(CLIENT_PAGE, {"id": client}, context_value=context)
        assert not result.errors, result.errors

    async def over_http(client: str) -> None:
        status, _ = await connection.post(
            "/graphql", {"query": CLIENT_PAGE, "variables": {"id": client}}
        )
        assert status == 200

    async def trivial(client: str) -> None:
        status, _ = await connection.post("/graphql", {"query": "{ __typename }"})
        assert status == 200

    # Interleaved, so that whatever else the machine does at a moment weighs on all four alike.
    calls = {"raw": graph_function, "gql": in_process, "http": over_http, "empty": trivial}
    times: dict[str, list[float]] = {name: [] for name in calls}
    for n, client in enumerate(ids):
        for name, call in calls.items():
            started = time.perf_counter()
            await call(client)
            if n >= 20:  # the first rounds warm up
                times[name].append(time.perf_counter() - started)
    raw, gql, http, empty = (round(1000 * sorted(t)[len(t) // 2], 2) for t in times.values())
    return {
        "graph_function_ms": raw,
        "graphql_in_process_ms": gql,
        "graphql_over_http_ms": http,
        "trivial_query_over_http_ms": empty,
        "field_resolution_ms": round(gql - raw, 2),
        "http_and_auth_ms": round(http - gql, 2),
    }


def print_table(report: dict[str, Any]) -> None:
    print(f"\n{report['clients']:,} clients; {report['machine']}")
    print(f"{'operation':<26}{'c':>4}{'gql p50':>9}{'p95':>8}{'p99':>8}{'req/s':>8}"
          f"{'raw p50':>9}{'p95':>8}{'p99':>8}{'req/s':>8}{'ratio':>7}")  # fmt: skip
    for name, levels in report["operations"].items():
        for level, r in levels.items():
            g, f = r["graphql"], r["raw"]
            print(f"{name:<26}{level:>4}{g['p50_ms']:>9}{g['p95_ms']:>8}{g['p99_ms']:>8}"
                  f"{g['rps']:>8}{f['p50_ms']:>9}{f['p95_ms']:>8}{f['p99_ms']:>8}{f['rps']:>8}"
                  f"{r['ratio']!s:>7}")  # fmt: skip
    print(f"API ({report['api_replicas']} replicas) peak resident memory: "
          f"{report['api_peak_rss_mb']} MB over all its processes at once, "
          f"{report['api_peak_rss_mb_per_process']} MB the largest process; "
          f"loading: {report['loading']}")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=4.0, help="timed window per run")
    parser.add_argument("--concurrency", default="1,8,32")
    parser.add_argument(
        "--replicas",
        type=int,
        default=os.cpu_count() or 1,
        help="API processes, one uvicorn worker each (default: cores)",
    )
    parser.add_argument("--only", default="", help="comma-separated operations (default: all)")
    parser.add_argument(
        "--output", type=Path, default=RESULTS, help="where the JSON goes (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    levels = [int(x) for x in args.concurrency.split(",")]
    only = {x for x in args.only.split(",") if x} or None
    # The same event loop as the API's (uvicorn picks uvloop when installed) for the raw floor.
    report = uvloop.run(run(args.clients, args.seed, args.seconds, levels, args.replicas, only))
    args.output.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print_table(report)


if __name__ == "__main__":
    main()
