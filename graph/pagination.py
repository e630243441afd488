"""Keyset pagination on `id`: opaque cursors that stay valid when rows are added elsewhere."""

from __future__ import annotations

import base64
import binascii
from typing import Final, Protocol, TypeVar

from graph.errors import InvalidInput
from graph.models import Page, PageInfo

MAX_PAGE_SIZE: Final = 100
_PREFIX: Final = "id:"


def encode_cursor(node_id: str) -> str:
    return base64.urlsafe_b64encode(f"{_PREFIX}{node_id}".encode()).decode()


def decode_cursor(cursor: str | None, field: str = "after") -> str | None:
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidInput(field, "is not a cursor returned by this API") from exc
    if not raw.startswith(_PREFIX):
        raise InvalidInput(field, "is not a cursor returned by this API")
    return raw.removeprefix(_PREFIX)


def check_page_size(first: int, field: str = "first", cap: int = MAX_PAGE_SIZE) -> int:
    if not 1 <= first <= cap:
        raise InvalidInput(field, f"must be between 1 and {cap}, got {first}")
    return first


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


R = TypeVar("R", bound=_HasId)


def build_page(rows: list[R], first: int, total: int) -> Page[R]:
    """`rows` was fetched with one extra row, which only tells whether another page follows."""
    items = rows[:first]
    return Page(
        items=items,
        total_count=total,
        page_info=PageInfo(
            has_next_page=len(rows) > first,
            end_cursor=encode_cursor(items[-1].id) if items else None,
        ),
    )
