"""API settings from the environment (prefix RMGRAPH_), with the limits every request obeys."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Switched on by default only where the API is developed (`rmgraph run` / `make run`).
DEVELOPMENT_ONLY = ("graphiql", "introspection")


class ApiSettings(BaseSettings):
    """Each limit within a range: a typo (0, -1, nan, inf) stops the API at start-up rather than
    quietly removing a bound or refusing every request."""

    model_config = SettingsConfigDict(env_prefix="RMGRAPH_", extra="ignore")

    env: Literal["development", "production"] = Field(
        default="production",
        description="GraphiQL and introspection default to on only in development",
    )
    jwt_secret: str | None = None
    jwt_public_key: str | None = Field(default=None, description="PEM text or a path (RS256)")
    # A token's `aud` and `iss` must be these, when set (`rmgraph token` writes them in).
    jwt_audience: str | None = None
    jwt_issuer: str | None = None
    graphiql: bool = False
    introspection: bool = False
    max_query_depth: int = Field(default=10, ge=1, le=100)
    max_aliases: int = Field(default=30, ge=1, le=1000)
    # Estimated fields an operation may answer, lists counted at their page sizes
    # (schema.document_limits): the client page is about 1,400, a page of 100 clients with
    # their links about 98,000.
    max_fields: int = Field(default=100_000, ge=1, le=10_000_000)
    max_tokens: int = Field(default=3000, ge=10, le=100_000)
    max_body_bytes: int = Field(default=256 * 1024, ge=1024, le=64 * 1024 * 1024)
    max_batch: int = Field(default=5, ge=1, le=100)
    # Whole-bank searches (guarantee circles, largest exposures) at once per worker; more wait
    # for a slot (up to the transaction timeout), so a burst cannot exhaust memory or CPU.
    max_whole_bank_searches: int = Field(default=2, ge=1, le=64)
    # Transactions one HTTP request (all its aliases, all operations of a batch) runs at once;
    # the rest wait their turn, within the request's time limit, so that one request cannot take
    # the driver's whole connection pool (100) from the others.
    max_request_transactions: int = Field(default=8, ge=1, le=100)  # the driver's pool: 100
    # A whole operation's time limit (each transaction also has NEO4J_TX_TIMEOUT's).
    request_timeout: float = Field(default=30.0, gt=0, le=3600, allow_inf_nan=False)
    # Plan the key reads at start-up (graph.plan_warmup), so first requests do not pay for it.
    warm_plans: bool = True
    # Seconds each warm-up read may take, planning included.
    warm_plans_timeout: float = Field(default=60.0, gt=0, le=3600, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _development_defaults(cls, values: Any) -> Any:
        if isinstance(values, dict) and values.get("env") == "development":
            for key in DEVELOPMENT_ONLY:
                values.setdefault(key, True)
        return values
