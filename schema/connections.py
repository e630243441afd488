"""Relay-style connections over keyset pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

import strawberry

from graph.models import Page
from graph.pagination import encode_cursor

N = TypeVar("N")
M = TypeVar("M")


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[N]):
    cursor: str
    node: N


@strawberry.type
class Connection(Generic[N]):
    edges: list[Edge[N]]
    page_info: PageInfo
    total_count: int


def to_connection(
    page: Page[M], convert: Callable[[M], N], key: Callable[[M], str]
) -> Connection[N]:
    return Connection(
        edges=[Edge(cursor=encode_cursor(key(item)), node=convert(item)) for item in page.items],
        page_info=PageInfo(
            has_next_page=page.page_info.has_next_page, end_cursor=page.page_info.end_cursor
        ),
        total_count=page.total_count,
    )
