"""The one way the app talks to Neo4j: reads routed to readers, writes in one transaction each.

A `Db` is cheap and made per request around the app's single `AsyncDriver`; it counts its round
trips (tests assert on the count) and gives every transaction the configured timeout, after which
the server cancels the work.

The driver retries a transaction that fails with a transient error for up to 30 s. Running out of
transaction memory is reported as transient, but a query that needed too much memory will need it
again: each retry would fill the memory pool anew, failing every other query meanwhile. So that
error is not retried; it is raised at once as `QueryTooLarge`.

Reads and writes share the driver's bookmark manager, so on a cluster a read sees the writes this
process made before it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, LiteralString, TypeVar

from neo4j import (
    AsyncDriver,
    AsyncGraphDatabase,
    AsyncManagedTransaction,
    AsyncSession,
    Driver,
    GraphDatabase,
    NotificationDisabledClassification,
    Record,
    unit_of_work,
)
from neo4j.exceptions import ClientError, TransientError

from graph.errors import QueryTimeout, QueryTooLarge

T = TypeVar("T")

# Raised when a transaction would pass its own limit (`db.memory.transaction.max`) or the
# server's pool for all transactions (`dbms.memory.transaction.total.max`).
OUT_OF_MEMORY: Final = "Neo.TransientError.General.MemoryPoolOutOfMemoryError"

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
        """One read transaction on a reader; the records, eagerly."""
        self.round_trips += 1

        async def fetch(tx: AsyncManagedTransaction) -> list[Record]:
            result = await tx.run(query, dict(params or {}))
            return [record async for record in result]

        with self._timeouts():
            async with self._slot(), self._session() as session:
                return await session.execute_read(self._unit(fetch))

    async def write(self, work: Callable[[AsyncManagedTransaction], Awaitable[T]]) -> T:
        """Run `work` as one write transaction (retried on transient errors: keep it pure)."""
        self.round_trips += 1
        with self._timeouts():
            async with self._slot(), self._session() as session:
                return await session.execute_write(self._unit(work))

    def _session(self) -> AsyncSession:
        return self.driver.session(
            database=self.database,
            bookmark_manager=self.driver.execute_query_bookmark_manager,
        )

    def _unit(
        self, work: Callable[[AsyncManagedTransaction], Awaitable[T]]
    ) -> Callable[[AsyncManagedTransaction], Awaitable[T]]:
        """`work` with the transaction timeout, raising `QueryTooLarge` (which the driver does
        not retry) where the database ran out of transaction memory."""

        @unit_of_work(timeout=self.tx_timeout)
        async def unit(tx: AsyncManagedTransaction) -> T:
            try:
                return await work(tx)
            except TransientError as exc:
                if exc.code == OUT_OF_MEMORY:
                    raise QueryTooLarge() from exc
                raise

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
