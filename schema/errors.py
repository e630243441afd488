"""Errors a client may see. Everything else is masked as an internal error with a request id."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any, Final, TypeVar

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from graph.errors import FxRateMissing, InvalidInput, QueryTimeout, QueryTooLarge
from graph.input_checks import ID_PATTERN

log = logging.getLogger("rmgraph.errors")

BAD_USER_INPUT: Final = "BAD_USER_INPUT"
K = TypeVar("K")


class BadInput(GraphQLError):
    """An argument is malformed or out of range; names the argument."""

    def __init__(self, argument: str, message: str) -> None:
        super().__init__(
            f"Argument '{argument}' {message}",
            extensions={"code": BAD_USER_INPUT, "argument": argument},
        )


def check_id(value: str, argument: str = "id") -> str:
    if not ID_PATTERN.match(value):
        raise BadInput(argument, "is not a well-formed id (1-64 of A-Z a-z 0-9 _ . : -)")
    return value


def check_range(value: int, low: int, high: int, argument: str) -> int:
    if not low <= value <= high:
        raise BadInput(argument, f"must be between {low} and {high}, got {value}")
    return value


def check_kinds(kinds: list[K] | None, argument: str = "kinds") -> list[K] | None:
    """An empty filter would match nothing, or (read as left out) everything: neither is what
    was meant."""
    if kinds is not None and not kinds:
        raise BadInput(argument, "is empty: name at least one kind, or leave it out for all")
    return kinds


def bad_input_from(exc: InvalidInput) -> BadInput:
    return BadInput(exc.field, exc.message)


def is_public(error: GraphQLError) -> bool:
    """Parse and validation errors have no original error; ours are `BadInput`s."""
    original = error.original_error
    return original is None or isinstance(original, GraphQLError)


class MaskInternalErrors(SchemaExtension):
    """Replaces every non-public error with 'Internal error' and the request id, and logs it."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is None or not result.errors:
            return
        request_id = getattr(self.execution_context.context, "request_id", "-")
        result.errors = [_masked(error, request_id) for error in result.errors]


def _masked(error: GraphQLError, request_id: str) -> GraphQLError:
    public = _public_form(error, request_id)
    return public if public is not None else _internal(error, request_id)


def _internal(error: GraphQLError, request_id: str) -> GraphQLError:
    log.error("internal error in request %s at %s", request_id, error.path,
              exc_info=error.original_error)  # fmt: skip
    return _as(
        error,
        f"Internal error (request id {request_id})",
        {"code": "INTERNAL_ERROR", "requestId": request_id},
    )


def _as(error: GraphQLError, message: str, extensions: dict[str, Any]) -> GraphQLError:
    return GraphQLError(message, nodes=error.nodes, path=error.path, extensions=extensions)


def _public_form(error: GraphQLError, request_id: str) -> GraphQLError | None:
    """What a client may be told of `error`: itself when public already, a named error for the
    failures we name, or None for an internal error."""
    original = error.original_error
    if isinstance(original, QueryTimeout):
        log.warning("timeout in request %s at %s", request_id, error.path)
        return _as(
            error,
            f"Timeout: {original} (request id {request_id})",
            {"code": "TIMEOUT", "requestId": request_id},
        )
    if isinstance(original, QueryTooLarge):
        log.warning("memory limit in request %s at %s", request_id, error.path)
        return _as(
            error,
            f"Memory limit: {original} (request id {request_id}); ask for less (a smaller "
            "depth, first or limit)",
            {"code": "MEMORY_LIMIT", "requestId": request_id},
        )
    if isinstance(original, FxRateMissing):
        # Not the client's fault, nor internal: the settings lack a rate an admin sets.
        return _as(
            error, str(original), {"code": "FX_RATE_MISSING", "currencies": original.currencies}
        )
    if isinstance(original, InvalidInput):
        # Raised below the resolver (e.g. a malformed cursor met in a DataLoader): still the
        # client's argument, and named as such.
        bad = bad_input_from(original)
        return _as(error, bad.message, dict(bad.extensions or {}))
    if isinstance(original, UnicodeEncodeError):
        # A lone surrogate (JSON allows "\ud800") met the driver, which sends UTF-8: the
        # client's text, refused before anything was written.
        return _as(
            error,
            "Text must be valid Unicode: a lone surrogate (U+D800-U+DFFF) cannot be stored or "
            "searched for",
            {"code": BAD_USER_INPUT},
        )
    return error if is_public(error) else None
