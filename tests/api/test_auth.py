"""Authentication and request limits at the HTTP edge, before any resolver runs."""

from __future__ import annotations

import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from neo4j import Driver
from starlette.testclient import TestClient

from api.app import create_app
from api.auth import InvalidToken, Principal, Role, decode_token, issue_token, load_keys
from api.settings import ApiSettings
from graph.local_server import Connection
from tests.conftest import TEST_SECRET, bearer

QUERY = {"query": "{ clients(first: 1) { totalCount } }"}


def _post(api: TestClient, headers: dict[str, str], json: object = QUERY) -> tuple[int, object]:
    response = api.post("/graphql", json=json, headers=headers)
    return response.status_code, response.json()


@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        ("", "missing bearer token"),
        ("Basic dXNlcjpwYXNz", "missing bearer token"),
        ("Bearer not.a.jwt", "invalid token"),
        ("Bearer " + jwt.encode({"sub": "x", "role": "ADMIN", "exp": 2**31}, "w" * 64),
         "invalid token"),
        ("Bearer " + jwt.encode({"sub": "x", "role": "ADMIN", "exp": int(time.time()) - 60},
                                TEST_SECRET), "token expired"),
        ("Bearer " + jwt.encode({"sub": "x", "role": "ADMIN"}, TEST_SECRET), "invalid token"),
        ("Bearer " + jwt.encode({"sub": "x", "role": "ROOT", "exp": 2**31}, TEST_SECRET),
         "token has no valid role"),
        ("Bearer " + jwt.encode({"sub": "x", "role": "MANAGER", "exp": 2**31}, TEST_SECRET),
         "a MANAGER token needs managerId"),
        ("Bearer " + jwt.encode({"sub": "x", "role": "ADMIN", "exp": 2**31}, TEST_SECRET,
                                algorithm="HS512"), "invalid token"),
    ],
)  # fmt: skip
def test_requests_without_a_valid_token_get_401(
    api: TestClient, authorization: str, message: str
) -> None:
    status, body = _post(api, {"Authorization": authorization})
    assert status == 401
    assert body == {"error": message}


def test_health_checks_need_no_token(api: TestClient) -> None:
    for path in ("/healthz", "/readyz"):
        assert api.get(path, headers={"Authorization": ""}).status_code == 200


def test_graphiql_page_loads_without_token_but_queries_do_not(api: TestClient) -> None:
    page = api.get("/graphql", headers={"Authorization": "", "Accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()
    query = api.get("/graphql?query={clients{totalCount}}", headers={"Authorization": ""})
    assert query.status_code == 401


def test_each_role_token_is_accepted(api: TestClient, demo_bank: Driver) -> None:
    for headers in (bearer(Role.VIEWER), bearer(Role.RISK_OFFICER), bearer(Role.ADMIN),
                    bearer(Role.MANAGER, "mgr-001")):  # fmt: skip
        status, body = _post(api, headers)
        assert status == 200 and "errors" not in body, body  # type: ignore[operator]


def test_oversized_body_is_refused(api: TestClient) -> None:
    padding = "#" + "x" * (256 * 1024)
    status, body = _post(api, bearer(), {"query": "{ clients(first: 1) { totalCount } }" + padding})
    assert status == 413
    assert body == {"error": "request body over 262144 bytes"}


def test_batches_are_capped_at_five(api: TestClient, demo_bank: Driver) -> None:
    status, body = _post(api, bearer(), [QUERY] * 5)
    assert status == 200 and isinstance(body, list) and len(body) == 5
    response = api.post("/graphql", json=[QUERY] * 6, headers=bearer())
    assert response.status_code == 400
    assert "Too many operations" in response.text


@pytest.mark.parametrize(
    ("secret", "says"),
    [(None, "Set RMGRAPH_JWT_SECRET"), ("x" * 31, "at least 32 bytes")],
)
def test_the_api_does_not_start_without_a_strong_key(
    neo4j_conn: Connection, secret: str | None, says: str
) -> None:
    """No secret, or one an offline guess could find from a single token: the app is not built."""
    with pytest.raises(RuntimeError, match=says):
        create_app(api_settings=ApiSettings(jwt_secret=secret, jwt_public_key=None))
    assert create_app(api_settings=ApiSettings(jwt_secret="x" * 32)) is not None


def test_audience_and_issuer_when_configured_must_match() -> None:
    """With RMGRAPH_JWT_AUDIENCE / _ISSUER set, a token the same identity provider signed for
    another service (or with neither claim) is refused; `issue_token` writes both in."""
    keys = load_keys(ApiSettings(jwt_secret=TEST_SECRET, jwt_audience="rmgraph",
                                 jwt_issuer="https://sso.bank"))  # fmt: skip
    good = issue_token(TEST_SECRET, Role.VIEWER, "u", audience="rmgraph", issuer="https://sso.bank")
    assert decode_token(good, keys) == Principal("u", Role.VIEWER)
    for audience, issuer in (("payments", "https://sso.bank"), ("rmgraph", "https://other"),
                             (None, "https://sso.bank"), ("rmgraph", None)):  # fmt: skip
        token = issue_token(TEST_SECRET, Role.VIEWER, "u", audience=audience, issuer=issuer)
        with pytest.raises(InvalidToken):
            decode_token(token, keys)
    # Not configured: a token without them is taken, as before.
    plain = load_keys(ApiSettings(jwt_secret=TEST_SECRET))
    assert decode_token(issue_token(TEST_SECRET, Role.VIEWER, "u"), plain).subject == "u"


def test_a_public_key_that_is_no_key_stops_the_start() -> None:
    """Not a key, or the private key (whose tokens every request would then fail on)."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()  # fmt: skip
    for key in ("-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n", private):
        with pytest.raises(RuntimeError, match="not an RSA public key"):
            load_keys(ApiSettings(jwt_public_key=key))


def test_an_empty_audience_or_issuer_is_unset() -> None:
    keys = load_keys(ApiSettings(jwt_secret=TEST_SECRET, jwt_audience="", jwt_issuer=""))
    assert (keys.audience, keys.issuer) == (None, None)
    assert decode_token(issue_token(TEST_SECRET, Role.VIEWER, "u"), keys).subject == "u"
