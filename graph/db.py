"""The one way the app talks to Neo4j: reads routed to readers, writes in one transaction each.

A `Db` is cheap and made per request around the app's single `AsyncDriver`; it counts its round
trips (tests assert on the count) and gives every transaction the configured timeout, after which
the server cancels the work.

The driver retries a transaction that fails with a transient error for up to 30 s. A transaction
that passed its own memory limit (`db.memory.transaction.max`) is reported as transient too, but
it will need that memory again: each retry would take it from the pool anew, starving the other
queries meanwhile. So that error is not retried; it is raised at once as `QueryTooLarge`. The
pool of all transactions running full (`dbms.memory.transaction.total.max`) is retried: other
queries' memory frees up as they end.

Reads and writes share the driver's bookmark manager, so on a cluster a read sees the writes this
process made before it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Final, LiteralString, TypeVar

from neo4j import (
    AsyncDriver,
    AsyncGraphDatabase,
    AsyncManagedTransaction,
    AsyncResult,
    AsyncSession,
    Driver,
    GraphDatabase,
    NotificationDisabledClassification,
    Query,
    Record,
    RoutingControl,
    unit_of_work,
)
from neo4j.exceptions import ClientError, TransientError

from graph.errors import QueryTimeout, QueryTooLarge

T = TypeVar("T")

# Raised when a transaction would pass its own limit or the pool of all transactions; the message
# names the setting that stopped it.
OUT_OF_MEMORY: Final = "Neo.TransientError.General.MemoryPoolOutOfMemoryError"
TRANSACTION_LIMIT: Final = "db.memory.transaction.max"


def is_too_large(code: str | None, message: str | None) -> bool:
    """Whether an error says the transaction passed its own memory limit (not the pool's, nor
    anything else transient)."""
    return code == OUT_OF_MEMORY and TRANSACTION_LIMIT in (message or "")


@contextlib.contextmanager
def too_large_is_final() -> Iterator[None]:
    """Raises `QueryTooLarge`, which the driver does not retry, where the transaction passed its
    own memory limit."""
    try:
        yield
    except TransientError as exc:
        if is_too_large(exc.code, exc.message):
            raise QueryTooLarge() from exc
        raise


async def _records(result: AsyncResult) -> list[Record]:
    with too_large_is_final():
        return [record async for record in result]


# Optional properties (a corporate's industry, a prospect's potential) can be absent from a whole
# database; the server would then warn "property key does not exist" on every query that reads
# them and the driver would log each warning with the full query text: megabytes of log per
# minute under load and a measurable share of each request's time. Other notifications
# (performance, deprecation) are kept.
DRIVER_OPTIONS: Final[dict[str, Any]] = {
    "notifications_disabled_classifications": [NotificationDisabledClassification.UNRECOGNIZED],
}


def open_async_driver(uri: str, user: str, password: str, **options: Any) -> AsyncDriver:
    """The app's driver: one per process, with the options every rmgraph driver shares."""
    return AsyncGraphDatabase.driver(uri, auth=(user, password), **DRIVER_OPTIONS, **options)


def open_driver(uri: str, user: str, password: str, **options: Any) -> Driver:
    """A blocking driver for the CLI, loaders and tests, with the same options."""
    return GraphDatabase.driver(uri, auth=(user, password), **DRIVER_OPTIONS, **options)


@dataclass
class WriteTally:
    """The write transactions of one GraphQL operation: those committed, and whether one was
    cancelled before its answer came (it may have committed)."""

    committed: int = 0
    cut_short: bool = False


# Set by the API for each operation (a batch's operations run at once and share one Db): the
# operation's resolvers, and the tasks they start, count their writes into it.
WRITES: ContextVar[WriteTally | None] = ContextVar("rmgraph_writes", default=None)


@dataclass
class Db:
    driver: AsyncDriver
    database: str
    tx_timeout: float = 5.0
    round_trips: int = field(default=0)
    # Transactions this Db runs at once: a request of many aliases (or a batch of operations)
    # takes turns on these rather than the driver's whole connection pool. None: no cap.
    slots: asyncio.Semaphore | None = None

    async def read(
        self, query: LiteralString, params: Mapping[str, Any] | None = None
    ) -> list[Record]:
        """One auto-committed read on a reader; the records, eagerly."""
        self.round_trips += 1
        with self._timeouts():
            async with self._slot():
                # A QueryTooLarge from the transformer ends the transaction without a retry.
                return await self.driver.execute_query(
                    Query(query, timeout=self.tx_timeout),
                    parameters_=dict(params or {}),
                    routing_=RoutingControl.READ,
                    database_=self.database,
                    result_transformer_=_records,
                )

    async def write(self, work: Callable[[AsyncManagedTransaction], Awaitable[T]]) -> T:
        """Run `work` as one write transaction (retried on transient errors: keep it pure)."""
        self.round_trips += 1
        with self._timeouts():
            async with self._slot(), self._session() as session:
                tally = WRITES.get()
                try:
                    result = await session.execute_write(self._unit(work))
                except asyncio.CancelledError:
                    # Cancelled while waiting for the commit's answer, it may have committed.
                    if tally is not None:
                        tally.cut_short = True
                    raise
        if tally is not None:
            tally.committed += 1
        return result

    def _session(self) -> AsyncSession:
        # execute_query's bookmark manager, which the reads use
        return self.driver.session(
            database=self.database,
            bookmark_manager=self.driver.execute_query_bookmark_manager,
        )

    def _unit(
        self, work: Callable[[AsyncManagedTransaction], Awaitable[T]]
    ) -> Callable[[AsyncManagedTransaction], Awaitable[T]]:
        """`work` with the transaction timeout, and a memory limit's error final."""

        @unit_of_work(timeout=self.tx_timeout)
        async def unit(tx: AsyncManagedTransaction) -> T:
            with too_large_is_final():
                return await work(tx)

        return unit

    @contextlib.asynccontextmanager
    async def _slot(self) -> AsyncIterator[None]:
        if self.slots is None:
            yield
            return
        async with self.slots:
            yield

    @contextlib.contextmanager
    def _timeouts(self) -> Iterator[None]:
        try:
            yield
        except ClientError as exc:
            if "TransactionTimedOut" in (exc.code or ""):
                raise QueryTimeout(self.tx_timeout) from exc
            raise
