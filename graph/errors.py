"""The one root exception of the graph layer, and its small subclasses.

Resolvers turn these into typed GraphQL errors; anything else is an internal error and is masked.
"""

from __future__ import annotations

from collections.abc import Sequence


class GraphError(Exception):
    """Root of every error the graph layer raises on purpose."""


class DatabaseUnavailable(GraphError):
    """No Neo4j could be found, started or reached."""


class NotFound(GraphError):
    def __init__(self, kind: str, node_id: str) -> None:
        super().__init__(f"{kind} {node_id!r} not found")
        self.kind = kind
        self.node_id = node_id


class InvalidInput(GraphError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class InvariantViolation(GraphError):
    def __init__(self, invariant: str, message: str, node_ids: list[str] | None = None) -> None:
        super().__init__(message)
        self.invariant = invariant
        self.message = message
        self.node_ids = node_ids or []


def require(condition: bool, invariant: str, message: str, ids: Sequence[str]) -> None:
    """A write's invariant: InvariantViolation (naming the nodes) unless it holds."""
    if not condition:
        raise InvariantViolation(invariant, message, list(ids))


class VersionConflict(GraphError):
    def __init__(self, node_id: str, expected: int, actual: int) -> None:
        super().__init__(f"{node_id!r} is at version {actual}, not {expected}")
        self.node_id = node_id
        self.expected = expected
        self.actual = actual


class Duplicate(GraphError):
    def __init__(self, kind: str, node_id: str) -> None:
        super().__init__(f"{kind} {node_id!r} already exists")
        self.kind = kind
        self.node_id = node_id


class QueryTimeout(GraphError):
    """The database cancelled a transaction that ran past its time limit."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"the query ran past its {seconds:g} s limit and was cancelled")
        self.seconds = seconds


class QueryTooLarge(GraphError):
    """The database stopped a transaction that needed more memory than it may use. `where` says
    which part of a longer job (an import's file and batch) and what to do about it."""

    def __init__(self, where: str | None = None) -> None:
        message = "the query needed more memory than the database allows one query and was stopped"
        super().__init__(f"{message}: {where}" if where else message)
        self.where = where


class ExportInProgress(GraphError):
    """Another export is writing into the same folder."""

    def __init__(self, folder: str) -> None:
        super().__init__(f"another export is writing into {folder}; try again when it is done")
        self.folder = folder


class FxRateMissing(GraphError):
    """Amounts in these currencies cannot be added up: the risk settings hold no rate for them."""

    def __init__(self, currencies: list[str], reporting: str) -> None:
        super().__init__(
            f"no exchange rate from {', '.join(currencies)} to {reporting}: set it with "
            "setRiskSettings(fxRates)"
        )
        self.currencies = currencies
        self.reporting = reporting


class ImportConflict(GraphError):
    """A change committed after the import was checked makes a batch break what the check held
    (a department restated under a parent it has left, a manager for a department archived
    meanwhile): the batch is rolled back and the import stops there."""

    def __init__(self, file: str, invariant: str, ids: list[str]) -> None:
        super().__init__(
            f"{file}: the batch would break {invariant} ({', '.join(ids[:20])}), after a change "
            "committed since the import was checked: nothing of this batch was written; check "
            "the import again"
        )
        self.file = file
        self.invariant = invariant
        self.ids = ids
