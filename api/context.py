"""The typed per-request context: the request's `Db`, its DataLoaders and its request id."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import Request

from api.loaders import Loaders
from graph.db import Db


@dataclass
class Context:
    db: Db
    request_id: str
    request: Request | None = None
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.db)
