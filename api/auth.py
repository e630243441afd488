"""Who is asking: signed JWTs (HS256 with a shared secret, or RS256 with a public key), checked
before any resolver runs, and the roles they carry."""

from __future__ import annotations

import json
import os
import secrets
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from jwt.algorithms import RSAAlgorithm
from starlette.types import ASGIApp, Receive, Scope, Send

from api.settings import ApiSettings

LEEWAY_SECONDS: Final = 10


class Role(StrEnum):
    VIEWER = "VIEWER"
    MANAGER = "MANAGER"
    RISK_OFFICER = "RISK_OFFICER"
    ADMIN = "ADMIN"


@dataclass(frozen=True)
class Principal:
    subject: str
    role: Role
    manager_id: str | None = None


class InvalidToken(Exception):
    pass


@dataclass(frozen=True)
class TokenKeys:
    algorithm: str
    verify_key: str
    signing_key: str | None  # only HS256 can also issue
    # When set, a token must name them (`aud`, `iss`): an identity provider that signs tokens
    # for other services too cannot have theirs taken here.
    audience: str | None = None
    issuer: str | None = None


MIN_SECRET_BYTES: Final = 32


def load_keys(settings: ApiSettings) -> TokenKeys:
    # Empty means unset: an empty audience would be required of every token and match none.
    named = {"audience": settings.jwt_audience or None, "issuer": settings.jwt_issuer or None}
    if settings.jwt_public_key:
        key = settings.jwt_public_key
        if not key.lstrip().startswith("-----BEGIN"):
            key = Path(key).read_text()
        try:  # at start-up, not as a 401 (or, for a private key, a 500) on every request
            prepared = RSAAlgorithm(RSAAlgorithm.SHA256).prepare_key(key)
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            raise RuntimeError(f"RMGRAPH_JWT_PUBLIC_KEY is not an RSA public key: {exc}") from exc
        if not isinstance(prepared, RSAPublicKey):
            raise RuntimeError("RMGRAPH_JWT_PUBLIC_KEY is not an RSA public key: a private key")
        return TokenKeys("RS256", key, None, **named)
    if not settings.jwt_secret:
        raise RuntimeError("Set RMGRAPH_JWT_SECRET (HS256) or RMGRAPH_JWT_PUBLIC_KEY (RS256).")
    if len(settings.jwt_secret.encode()) < MIN_SECRET_BYTES:
        # An HS256 key shorter than its hash can be guessed offline from any one token.
        raise RuntimeError(
            f"RMGRAPH_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes "
            "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))')."
        )
    return TokenKeys("HS256", settings.jwt_secret, settings.jwt_secret, **named)


def dev_secret(state_dir: Path) -> str:
    """A generated secret for local use, kept (mode 0600) beside the managed Neo4j's state."""
    path = state_dir / "jwt-secret"
    if path.exists():
        return path.read_text().strip()
    state_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value)
    return value


def issue_token(
    secret: str, role: Role, subject: str, manager_id: str | None = None, ttl: int = 3600,
    audience: str | None = None, issuer: str | None = None,
) -> str:  # fmt: skip
    if role is Role.MANAGER and not manager_id:
        raise ValueError("a MANAGER token needs a manager id")
    now = int(time.time())
    claims: dict[str, Any] = {"sub": subject, "role": role.value, "iat": now, "exp": now + ttl}
    if manager_id:
        claims["managerId"] = manager_id
    if audience:
        claims["aud"] = audience
    if issuer:
        claims["iss"] = issuer
    return jwt.encode(claims, secret, algorithm="HS256")


def decode_token(token: str, keys: TokenKeys) -> Principal:
    try:
        required = ["exp", "sub"]
        required += ["aud"] if keys.audience else []
        required += ["iss"] if keys.issuer else []
        claims = jwt.decode(
            token,
            keys.verify_key,
            algorithms=[keys.algorithm],
            options={"require": required},
            audience=keys.audience,
            issuer=keys.issuer,
            leeway=LEEWAY_SECONDS,
        )
    except jwt.ExpiredSignatureError as exc:
        raise InvalidToken("token expired") from exc
    except jwt.PyJWTError as exc:
        raise InvalidToken("invalid token") from exc
    try:
        role = Role(str(claims.get("role")))
    except ValueError as exc:
        raise InvalidToken("token has no valid role") from exc
    manager_id = claims.get("managerId")
    if role is Role.MANAGER and not isinstance(manager_id, str):
        raise InvalidToken("a MANAGER token needs managerId")
    return Principal(subject=str(claims["sub"]), role=role, manager_id=manager_id)


OPEN_PATHS: Final = frozenset({"/healthz", "/readyz"})


async def _reject(send: Send, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"www-authenticate", b"Bearer"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class AuthMiddleware:
    """Every request but health checks (and the GraphiQL page itself) needs a valid token."""

    def __init__(self, app: ASGIApp, keys: TokenKeys, graphiql: bool) -> None:
        self.app = app
        self.keys = keys
        self.graphiql = graphiql

    def _is_ide_page(self, scope: Scope) -> bool:
        headers = dict(scope.get("headers") or [])
        return (
            self.graphiql
            and scope["method"] == "GET"
            and not scope.get("query_string")
            and b"text/html" in headers.get(b"accept", b"")
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan" or (
            scope["type"] == "http" and (scope["path"] in OPEN_PATHS or self._is_ide_page(scope))
        ):
            await self.app(scope, receive, send)
            return
        header = dict(scope.get("headers") or []).get(b"authorization", b"").decode("latin-1")
        scheme, _, token = header.partition(" ")
        try:
            if scheme.lower() != "bearer" or not token:
                raise InvalidToken("missing bearer token")
            principal = decode_token(token.strip(), self.keys)
        except InvalidToken as exc:
            if scope["type"] == "http":
                await _reject(send, 401, str(exc))
            else:  # a websocket (or anything else) is refused before it is accepted
                await send({"type": "websocket.close", "code": 1008, "reason": str(exc)})
            return
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)


class BodyLimitMiddleware:
    """Refuses request bodies above the limit, whether announced or streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _reject(send, 413, f"request body over {self.max_bytes} bytes")
            return
        seen = 0

        async def limited() -> Any:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise BodyTooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except BodyTooLarge:
            await _reject(send, 413, f"request body over {self.max_bytes} bytes")


class BodyTooLarge(Exception):
    pass
