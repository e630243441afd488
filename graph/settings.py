"""Connection settings, read from the environment."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_cache() -> Path:
    return Path.home() / ".cache" / "rmgraph"


def _default_state() -> Path:
    return Path.home() / ".local" / "state" / "rmgraph"


class Neo4jSettings(BaseSettings):
    """Where the database is. With no `NEO4J_URI`, rmgraph finds or starts one itself."""

    model_config = SettingsConfigDict(env_prefix="NEO4J_", extra="ignore")

    uri: str | None = None
    user: str = "neo4j"
    password: str | None = None
    database: str = "neo4j"
    # Seconds a single Cypher transaction may run before the server cancels it.
    tx_timeout: float = Field(default=5.0, gt=0, le=600)


class PathsSettings(BaseSettings):
    """Folders outside git for the Neo4j jars (GPLv3, never committed) and the managed server."""

    model_config = SettingsConfigDict(env_prefix="RMGRAPH_", extra="ignore")

    cache_dir: Path = Field(default_factory=_default_cache)
    state_dir: Path = Field(default_factory=_default_state)
