"""`rmgraph token` and the refresh's thresholds: bad arguments end in a usage error (exit 2)
before anything is issued or started, never a traceback."""

from __future__ import annotations

import os
from pathlib import Path

import jwt
import pytest

from api.auth import Principal, Role, TokenKeys, decode_token
from api.cli import local_admin_token, main

SECRET = "a-test-secret-of-at-least-thirty-two-bytes"


@pytest.fixture(autouse=True)
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RMGRAPH_JWT_SECRET", SECRET)
    monkeypatch.delenv("RMGRAPH_JWT_PUBLIC_KEY", raising=False)


def _issue(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    main(["token", *args])
    return capsys.readouterr().out.strip()


def test_a_token_is_issued_for_the_configured_secret(capsys: pytest.CaptureFixture[str]) -> None:
    token = _issue(capsys, "--role", "MANAGER", "--manager-id", "m-1", "--ttl", "60")
    keys = TokenKeys("HS256", SECRET, SECRET)
    assert decode_token(token, keys) == Principal("local-user", Role.MANAGER, "m-1")
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert claims["exp"] - claims["iat"] == 60


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["token", "--role", "MANAGER"], "--role MANAGER needs --manager-id"),
        (["token", "--role", "ADMIN", "--ttl", "0"], "a whole number of seconds from 1"),
        (["token", "--role", "ADMIN", "--ttl", "-5"], "a whole number of seconds from 1"),
        (["token", "--role", "ADMIN", "--ttl", "999999999"], "(a week)"),
        (["refresh-cross-sell", "--min-support", "5"], "a share from 0 to 1, not '5'"),
        (["refresh-cross-sell", "--min-confidence", "nan"], "a share from 0 to 1, not 'nan'"),
    ],
)
def test_bad_arguments_are_usage_errors(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(args)
    assert exit_.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == "" and message in captured.err


def test_no_hs256_token_when_the_api_checks_rs256(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The server prefers the public key whatever secret is also set: such a token would never
    # be accepted.
    monkeypatch.setenv("RMGRAPH_JWT_PUBLIC_KEY", "-----BEGIN PUBLIC KEY-----\n...")
    with pytest.raises(SystemExit) as exit_:
        main(["token", "--role", "ADMIN"])
    assert "RS256 tokens only" in str(exit_.value.code)
    assert capsys.readouterr().out == ""


def test_a_short_secret_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The server would not start with it either (api.auth.load_keys).
    monkeypatch.setenv("RMGRAPH_JWT_SECRET", "x" * 31)
    with pytest.raises(SystemExit) as exit_:
        main(["token", "--role", "ADMIN"])
    assert "at least 32 bytes" in str(exit_.value.code)
    assert capsys.readouterr().out == ""


def test_run_mints_a_development_token_only_without_a_configured_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """With the deployment's own secret set, `rmgraph run` keeps production's settings and
    prints no admin token (the real secret would sign it, the logs would keep it)."""
    monkeypatch.setenv("RMGRAPH_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("RMGRAPH_ENV", "")  # so that the delenv below is undone after the test
    monkeypatch.delenv("RMGRAPH_ENV")
    assert local_admin_token() is None
    assert "RMGRAPH_ENV" not in os.environ
    monkeypatch.delenv("RMGRAPH_JWT_SECRET")
    token = local_admin_token()
    assert token is not None
    assert os.environ["RMGRAPH_ENV"] == "development"
    generated = os.environ["RMGRAPH_JWT_SECRET"]  # the local secret, kept in the state folder
    assert (tmp_path / "jwt-secret").read_text().strip() == generated
    keys = TokenKeys("HS256", generated, generated)
    assert decode_token(token, keys) == Principal("make-run-admin", Role.ADMIN, None)
    # With an audience and issuer required, the printed token carries them.
    monkeypatch.setenv("RMGRAPH_JWT_AUDIENCE", "rmgraph")
    monkeypatch.setenv("RMGRAPH_JWT_ISSUER", "local")
    monkeypatch.delenv("RMGRAPH_JWT_SECRET")
    named = local_admin_token()
    assert named is not None
    strict = TokenKeys("HS256", generated, generated, audience="rmgraph", issuer="local")
    assert decode_token(named, strict).role is Role.ADMIN
