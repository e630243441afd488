"""The assembled schema: root types merged from each feature, with the API's extensions."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Final

import strawberry
from graphql import GraphQLError, OperationDefinitionNode
from graphql.validation.rules import overlapping_fields_can_be_merged
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from api.context import Context
from api.settings import ApiSettings
from schema.admin import AdminMutation, AdminQuery
from schema.client360 import Client360Query
from schema.cross_sell import CrossSellMutation, CrossSellQuery
from schema.data_in import DataInMutation
from schema.document_limits import document_limits
from schema.errors import MaskInternalErrors
from schema.executor import RmGraphExecutor
from schema.managers_system import ManagersMutation, ManagersQuery
from schema.permissions import guard_fields
from schema.query import CoreQuery
from schema.risk import RiskMutation, RiskQuery

SDL_PATH = Path(__file__).with_name("schema.graphql")
DOCUMENT_CACHE: Final = 256  # distinct query documents kept parsed and validated
# Work graphql-core's check that same-named fields can be merged may do on one document before
# it gives up ("Validation aborted."). Its default, 500,000, let one document of 400 repeats
# of a field hold a worker for about a second of CPU that no time limit can cut (validation
# does not yield); this lets about a twentieth of that. Documents that name each field once,
# as clients write them, spend almost none of it (the README's and the benchmark's: under 10).
VALIDATION_BUDGET: Final = 20_000
overlapping_fields_can_be_merged.MAX_COMPLEXITY_BUDGET = VALIDATION_BUDGET

Query = merge_types(
    "Query", (CoreQuery, Client360Query, RiskQuery, CrossSellQuery, AdminQuery, ManagersQuery)
)
Mutation = merge_types(
    "Mutation",
    (RiskMutation, CrossSellMutation, AdminMutation, DataInMutation, ManagersMutation),
)


class RmGraphSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Strawberry would log every error with its traceback at ERROR, a client's bad argument
        or forbidden field as loudly as a bug. Client mistakes are the client's to see, not the
        operator's; `MaskInternalErrors` logs internal errors (with the request id) and
        timeouts."""


class OperationNameWhenSeveral(SchemaExtension):
    """A document of several operations names the one to run (the spec's GetOperation);
    Strawberry would silently run the first."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        # Strawberry fills `operation_name` from the first operation; what the client sent:
        provided = getattr(context, "_provided_operation_name", context.operation_name)
        if document is not None and provided is None:
            operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
            if len(operations) > 1:
                raise GraphQLError(
                    "Must provide operation name if query contains multiple operations."
                )
        yield


class ReleaseLoaders(SchemaExtension):
    """Frees the request's DataLoaders as soon as its operation is done (`Loaders.release`)."""

    def on_operation(self) -> Iterator[None]:
        yield
        context = self.execution_context.context
        if isinstance(context, Context):
            context.loaders.release()


def build_schema(settings: ApiSettings, fast_leaves: bool = True) -> strawberry.Schema:
    """The schema with its limits: depth, aliases, estimated size (`schema.document_limits`),
    tokens, batch size; introspection optional.

    Parsing and validating a document cost more than running a typical query, and clients send
    the same few documents again and again, so both are cached (LRU, bounded: a stream of unique
    documents cannot grow memory). Validation results are keyed by the rule classes too, so the
    limits rule is built once here rather than per request.

    Every field of the built schema is then wrapped with its permission rule (`guard_fields`),
    and plain leaf fields are read by `RmGraphExecutor`'s short path."""
    limits = (document_limits(settings.max_query_depth, settings.max_aliases, settings.max_fields),)
    extensions: list[Callable[[], SchemaExtension]] = [
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        lambda: ParserCache(maxsize=DOCUMENT_CACHE),
        OperationNameWhenSeveral,
        lambda: AddValidationRules(list(limits)),
        lambda: ValidationCache(maxsize=DOCUMENT_CACHE),
        MaskInternalErrors,
        ReleaseLoaders,
    ]
    if not settings.introspection:
        extensions.append(DisableIntrospection)
    built = RmGraphSchema(
        query=Query,
        mutation=Mutation,
        extensions=extensions,
        config=StrawberryConfig(batching_config={"max_operations": settings.max_batch}),
        # graphql-core's own executor when asked: the reference the short path is tested against
        execution_context_class=RmGraphExecutor if fast_leaves else None,
    )
    guard_fields(built._schema)
    return built


schema = build_schema(ApiSettings())


def export_sdl() -> str:
    return schema.as_str() + "\n"
