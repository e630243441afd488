"""The assembled schema: root types merged from each feature, with the API's extensions."""

from __future__ import annotations

from pathlib import Path

import strawberry
from strawberry.tools import merge_types

from schema.client360 import Client360Query
from schema.errors import MaskInternalErrors
from schema.query import CoreQuery
from schema.risk import RiskMutation, RiskQuery

SDL_PATH = Path(__file__).with_name("schema.graphql")

Query = merge_types("Query", (CoreQuery, Client360Query, RiskQuery))
Mutation = merge_types("Mutation", (RiskMutation,))

schema = strawberry.Schema(query=Query, mutation=Mutation, extensions=[MaskInternalErrors])


def export_sdl() -> str:
    return schema.as_str() + "\n"
