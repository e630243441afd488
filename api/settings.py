"""API settings from the environment (prefix RMGRAPH_), with the limits every request obeys."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Switched on by default only where the API is developed (`rmgraph run` / `make run`).
DEVELOPMENT_ONLY = ("graphiql", "introspection")


class ApiSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RMGRAPH_", extra="ignore")

    env: Literal["development", "production"] = Field(
        default="production",
        description="GraphiQL and introspection default to on only in development",
    )
    jwt_secret: str | None = None
    jwt_public_key: str | None = Field(default=None, description="PEM text or a path (RS256)")
    graphiql: bool = False
    introspection: bool = False
    max_query_depth: int = 10
    max_aliases: int = 30
    # Estimated fields an operation may answer, lists counted at their page sizes
    # (schema.document_limits): the client page is about 1,400, a page of 100 clients with
    # their links about 98,000.
    max_fields: int = 100_000
    max_tokens: int = 3000
    max_body_bytes: int = 256 * 1024
    max_batch: int = 5
    # Whole-bank searches (guarantee circles, largest exposures) at once per worker; more wait
    # for a slot (up to the transaction timeout), so a burst cannot exhaust memory or CPU.
    max_whole_bank_searches: int = 2
    # Transactions one HTTP request (all its aliases, all operations of a batch) runs at once;
    # the rest wait their turn, within the request's time limit, so that one request cannot take
    # the driver's whole connection pool (100) from the others.
    max_request_transactions: int = Field(default=8, ge=1)
    # A whole operation's time limit (each transaction also has NEO4J_TX_TIMEOUT's).
    request_timeout: float = 30.0
    # Plan the key reads at start-up (graph.plan_warmup), so first requests do not pay for it.
    warm_plans: bool = True
    warm_plans_timeout: float = 60.0  # seconds each warm-up read may take, planning included

    @model_validator(mode="before")
    @classmethod
    def _development_defaults(cls, values: Any) -> Any:
        if isinstance(values, dict) and values.get("env") == "development":
            for key in DEVELOPMENT_ONLY:
                values.setdefault(key, True)
        return values
