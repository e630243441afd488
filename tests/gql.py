"""Helpers for tests that talk GraphQL, over HTTP or straight to the schema."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from api.auth import Principal, Role
from api.context import Context
from graph.db import Db
from schema.build import schema


def post(api: TestClient, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    response = api.post("/graphql", json={"query": query, "variables": variables or {}})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


ADMIN = Principal(subject="test-admin", role=Role.ADMIN)


async def execute(
    db: Db,
    query: str,
    variables: dict[str, Any] | None = None,
    principal: Principal | None = ADMIN,
) -> tuple[dict[str, Any] | None, list[Any], Context]:
    """Run against the schema with a fresh context; returns data, errors and the context."""
    ctx = Context(db=db, request_id="test", principal=principal)
    result = await schema.execute(query, variable_values=variables, context_value=ctx)
    return result.data, list(result.errors or []), ctx
