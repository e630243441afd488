"""The typed per-request context: the request's `Db`, principal, DataLoaders and request id."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import Request

from api.auth import Principal, Role
from api.loaders import Loaders
from graph.db import Db


@dataclass
class Context:
    db: Db
    request_id: str
    principal: Principal | None = None  # None: nothing is allowed
    request: Request | None = None
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        manager_id = (
            self.principal.manager_id
            if self.principal is not None and self.principal.role is Role.MANAGER
            else None
        )
        self.loaders = Loaders(self.db, visible_to=manager_id)
