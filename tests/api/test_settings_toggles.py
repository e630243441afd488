"""RS256 tokens, and GraphiQL and introspection switched off by settings."""

from __future__ import annotations

import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from neo4j import Driver
from pydantic import ValidationError
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from api.app import create_app
from api.settings import ApiSettings
from graph.local_server import Connection
from graph.settings import Neo4jSettings
from seeds.demo import build_demo_bank

INTROSPECTION = {"query": "{ __schema { queryType { name } } }"}


def _settings(conn: Connection) -> Neo4jSettings:
    return Neo4jSettings(uri=conn.uri, user=conn.user, password=conn.password)


def test_rs256_tokens_are_verified_with_the_public_key(
    neo4j_conn: Connection, demo_bank: Driver
) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    claims = {"sub": "sso-user", "role": "VIEWER", "exp": int(time.time()) + 60}
    good = jwt.encode(claims, key, algorithm="RS256")
    forged = jwt.encode(claims, "a-shared-secret-that-is-long-enough-for-hs256-0123456789abcdef",
                        algorithm="HS256")  # fmt: skip
    app = create_app(_settings(neo4j_conn), ApiSettings(jwt_public_key=public))
    with TestClient(app) as client:
        ok = client.post("/graphql", json={"query": "{ clients(first: 1) { totalCount } }"},
                         headers={"Authorization": f"Bearer {good}"})  # fmt: skip
        assert ok.status_code == 200 and "errors" not in ok.json()
        bad = client.post(
            "/graphql", json=INTROSPECTION, headers={"Authorization": f"Bearer {forged}"}
        )
        assert bad.status_code == 401


def test_graphiql_and_introspection_can_be_turned_off(
    neo4j_conn: Connection, demo_bank: Driver
) -> None:
    secret = "toggle-secret-" + "t" * 64
    token = jwt.encode({"sub": "a", "role": "ADMIN", "exp": int(time.time()) + 60}, secret)
    headers = {"Authorization": f"Bearer {token}"}
    on = create_app(_settings(neo4j_conn), ApiSettings(env="development", jwt_secret=secret))
    off = create_app(
        _settings(neo4j_conn),
        ApiSettings(env="development", jwt_secret=secret, graphiql=False, introspection=False),
    )
    with TestClient(on) as client:
        assert client.get("/graphql", headers={"Accept": "text/html"}).status_code == 200
        assert client.post("/graphql", json=INTROSPECTION, headers=headers).json()["data"]
    with TestClient(off) as client:
        assert client.get("/graphql", headers={"Accept": "text/html"}).status_code == 401
        assert client.get("/graphql", headers={"Accept": "text/html", **headers}).status_code == 404
        body = client.post("/graphql", json=INTROSPECTION, headers=headers).json()
        assert body.get("data") is None and "introspection" in body["errors"][0]["message"].lower()


def test_graphiql_and_introspection_are_on_by_default_only_in_development(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for key in ("RMGRAPH_ENV", "RMGRAPH_GRAPHIQL", "RMGRAPH_INTROSPECTION"):
        monkeypatch.delenv(key, raising=False)
    production = ApiSettings()
    assert (production.env, production.graphiql, production.introspection) == (
        "production", False, False,
    )  # fmt: skip
    development = ApiSettings(env="development")
    assert (development.graphiql, development.introspection) == (True, True)
    monkeypatch.setenv("RMGRAPH_ENV", "development")
    monkeypatch.setenv("RMGRAPH_INTROSPECTION", "false")
    assert (ApiSettings().graphiql, ApiSettings().introspection) == (True, False)
    monkeypatch.setenv("RMGRAPH_ENV", "production")
    monkeypatch.setenv("RMGRAPH_GRAPHIQL", "true")
    assert (ApiSettings().graphiql, ApiSettings().introspection) == (True, False)


def test_production_app_has_no_graphiql_and_no_introspection(
    neo4j_conn: Connection, demo_bank: Driver
) -> None:
    secret = "prod-secret-" + "p" * 64
    token = jwt.encode({"sub": "a", "role": "ADMIN", "exp": int(time.time()) + 60}, secret)
    headers = {"Authorization": f"Bearer {token}"}
    app = create_app(_settings(neo4j_conn), ApiSettings(env="production", jwt_secret=secret))
    with TestClient(app) as client:
        assert client.get("/graphql", headers={"Accept": "text/html"}).status_code == 401
        body = client.post("/graphql", json=INTROSPECTION, headers=headers).json()
        assert body.get("data") is None and "introspection" in body["errors"][0]["message"].lower()
        ok = client.post("/graphql", json={"query": "{ clients(first: 1) { totalCount } }"},
                         headers=headers)  # fmt: skip
        total = len(build_demo_bank().clients)
        assert ok.json() == {"data": {"clients": {"totalCount": total}}}


def test_websockets_need_a_token_too(neo4j_conn: Connection, demo_bank: Driver) -> None:
    secret = "ws-secret-" + "w" * 64
    app = create_app(_settings(neo4j_conn), ApiSettings(env="development", jwt_secret=secret))
    with (
        TestClient(app) as client,
        pytest.raises(WebSocketDisconnect) as refused,
        client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]),
    ):
        pass
    assert refused.value.code == 1008


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("RMGRAPH_REQUEST_TIMEOUT", "nan"),  # every request would time out at once
        ("RMGRAPH_REQUEST_TIMEOUT", "inf"),  # no time limit at all
        ("RMGRAPH_REQUEST_TIMEOUT", "0"),
        ("RMGRAPH_WARM_PLANS_TIMEOUT", "-1"),
        ("RMGRAPH_MAX_QUERY_DEPTH", "-1"),
        ("RMGRAPH_MAX_ALIASES", "0"),
        ("RMGRAPH_MAX_FIELDS", "0"),
        ("RMGRAPH_MAX_TOKENS", "0"),
        ("RMGRAPH_MAX_BODY_BYTES", "-1"),
        ("RMGRAPH_MAX_BATCH", "0"),
        ("RMGRAPH_MAX_WHOLE_BANK_SEARCHES", "0"),
        ("RMGRAPH_MAX_REQUEST_TRANSACTIONS", "1000"),  # more than the driver's pool
    ],
)
def test_a_limit_out_of_range_stops_the_settings_loading(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as refused:
        ApiSettings()
    assert refused.value.errors()[0]["loc"] == (name.removeprefix("RMGRAPH_").lower(),)
