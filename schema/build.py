"""The assembled schema: root types merged from each feature, with the API's extensions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import strawberry
from strawberry.extensions import (
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from api.settings import ApiSettings
from schema.admin import AdminMutation, AdminQuery
from schema.client360 import Client360Query
from schema.cross_sell import CrossSellMutation, CrossSellQuery
from schema.data_in import DataInMutation
from schema.errors import MaskInternalErrors
from schema.permissions import PermissionExtension
from schema.query import CoreQuery
from schema.risk import RiskMutation, RiskQuery

SDL_PATH = Path(__file__).with_name("schema.graphql")

Query = merge_types("Query", (CoreQuery, Client360Query, RiskQuery, CrossSellQuery, AdminQuery))
Mutation = merge_types("Mutation", (RiskMutation, CrossSellMutation, AdminMutation, DataInMutation))


def build_schema(settings: ApiSettings) -> strawberry.Schema:
    """The schema with its limits: depth, aliases, tokens, batch size; introspection optional."""
    extensions: list[Callable[[], SchemaExtension]] = [
        lambda: QueryDepthLimiter(max_depth=settings.max_query_depth),
        lambda: MaxAliasesLimiter(max_alias_count=settings.max_aliases),
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        PermissionExtension,
        MaskInternalErrors,
    ]
    if not settings.introspection:
        extensions.append(DisableIntrospection)
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        extensions=extensions,
        config=StrawberryConfig(batching_config={"max_operations": settings.max_batch}),
    )


schema = build_schema(ApiSettings())


def export_sdl() -> str:
    return schema.as_str() + "\n"
