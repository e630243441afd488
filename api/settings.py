"""API settings from the environment (prefix RMGRAPH_), with the limits every request obeys."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ApiSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RMGRAPH_", extra="ignore")

    jwt_secret: str | None = None
    jwt_public_key: str | None = Field(default=None, description="PEM text or a path (RS256)")
    graphiql: bool = True
    introspection: bool = True
    max_query_depth: int = 10
    max_aliases: int = 30
    max_tokens: int = 3000
    max_body_bytes: int = 256 * 1024
    max_batch: int = 5
