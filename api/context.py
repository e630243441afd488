"""The typed per-request context: the request's `Db`, principal, DataLoaders and request id."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from starlette.requests import Request

from api.auth import Principal, Role
from api.loaders import Loaders
from graph.db import Db
from graph.errors import QueryTimeout


@dataclass
class Context:
    db: Db
    request_id: str
    principal: Principal | None = None  # None: nothing is allowed
    request: Request | None = None
    # Shared by the worker's requests: bounds concurrent whole-bank searches (None: unbounded).
    whole_bank: asyncio.Semaphore | None = None
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        manager_id = (
            self.principal.manager_id
            if self.principal is not None and self.principal.role is Role.MANAGER
            else None
        )
        self.loaders = Loaders(self.db, visible_to=manager_id)

    @contextlib.asynccontextmanager
    async def whole_bank_slot(self) -> AsyncIterator[None]:
        """Hold one of the worker's whole-bank search slots; `QueryTimeout` when none frees up
        within the transaction timeout."""
        if self.whole_bank is None:
            yield
            return
        try:
            await asyncio.wait_for(self.whole_bank.acquire(), timeout=self.db.tx_timeout)
        except TimeoutError:
            raise QueryTimeout(self.db.tx_timeout) from None
        try:
            yield
        finally:
            self.whole_bank.release()
