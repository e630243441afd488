"""Typed errors that mutations return in their result unions (never as GraphQL `errors`).

Graph functions raise `graph.errors.GraphError` subclasses inside the transaction, which rolls it
back; resolvers turn them into these types with `to_error_type`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import strawberry

from graph import errors

T = TypeVar("T")
S = TypeVar("S")


@strawberry.type(description="A node the mutation refers to does not exist.")
class NotFoundError:
    message: str
    kind: str
    id: strawberry.ID


@strawberry.type(description="An input field is malformed or out of range.")
class ValidationError:
    message: str
    field: str


@strawberry.type(description="The change would break an invariant of the graph.")
class InvariantViolationError:
    message: str
    invariant: str
    node_ids: list[strawberry.ID]


@strawberry.type(description="The node changed since it was read (optimistic concurrency).")
class VersionConflictError:
    message: str
    id: strawberry.ID
    expected_version: int
    actual_version: int


@strawberry.type(description="A node or link with this identity already exists.")
class DuplicateError:
    message: str
    id: strawberry.ID


MutationError = (
    NotFoundError
    | ValidationError
    | InvariantViolationError
    | VersionConflictError
    | DuplicateError
)


def to_error_type(exc: errors.GraphError) -> MutationError:
    """The typed error for a graph error; unexpected kinds are re-raised (and masked)."""
    match exc:
        case errors.NotFound():
            return NotFoundError(message=str(exc), kind=exc.kind, id=strawberry.ID(exc.node_id))
        case errors.InvalidInput():
            return ValidationError(message=exc.message, field=exc.field)
        case errors.InvariantViolation():
            return InvariantViolationError(
                message=exc.message,
                invariant=exc.invariant,
                node_ids=[strawberry.ID(i) for i in exc.node_ids],
            )
        case errors.VersionConflict():
            return VersionConflictError(
                message=str(exc),
                id=strawberry.ID(exc.node_id),
                expected_version=exc.expected,
                actual_version=exc.actual,
            )
        case errors.Duplicate():
            return DuplicateError(message=str(exc), id=strawberry.ID(exc.node_id))
    raise exc


async def attempt(run: Awaitable[T], done: Callable[[T], S]) -> S | MutationError:
    """Run a graph change; its value through `done`, or the typed error it raised."""
    try:
        value = await run
    except errors.GraphError as exc:
        return to_error_type(exc)
    return done(value)
