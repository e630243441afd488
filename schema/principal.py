"""Who is asking, as mutations need it: the actor their audit records name, and the manager
whose book bounds what they may change."""

from __future__ import annotations

from graphql import GraphQLError

from api.auth import Role
from schema.types import CtxInfo


def actor_of(info: CtxInfo) -> str:
    principal = info.context.principal
    return principal.subject if principal else "unknown"


def book_of(info: CtxInfo) -> str | None:
    """The manager whose book bounds the request, or None for roles not bound to one."""
    principal = info.context.principal
    if principal is not None and principal.role is Role.MANAGER:
        return principal.manager_id or ""
    return None


def require_self(info: CtxInfo, manager_id: str, argument: str) -> None:
    """A MANAGER reads and acts for themselves only; other roles for anyone. Asking about
    another manager is FORBIDDEN, as a field the role may not read is."""
    book = book_of(info)
    if book is not None and book != manager_id:
        raise GraphQLError(
            f"Argument '{argument}': a manager may only ask about themselves",
            extensions={"code": "FORBIDDEN"},
        )
