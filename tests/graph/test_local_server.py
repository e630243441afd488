"""The managed server's generated configuration and secrets (the server itself runs the suite)."""

from __future__ import annotations

import stat
from pathlib import Path

from graph.local_server import LocalNeo4j, Memory, check_java, render_conf, resolve_jars
from graph.settings import PathsSettings


def test_conf_listens_on_loopback_only_with_http_off(tmp_path: Path) -> None:
    conf = render_conf(tmp_path, 7777, Memory())
    lines = set(conf.splitlines())
    assert "server.default_listen_address=127.0.0.1" in lines
    assert "server.bolt.listen_address=127.0.0.1:7777" in lines
    assert "server.http.enabled=false" in lines
    assert "server.https.enabled=false" in lines
    assert "dbms.security.auth_enabled=true" in lines
    assert f"server.directories.data={tmp_path / 'data'}" in lines


def test_conf_bounds_each_transactions_memory_below_the_pool(tmp_path: Path) -> None:
    lines = set(render_conf(tmp_path, 7777, Memory(tx_total="512m", tx_max="256m")).splitlines())
    assert "dbms.memory.transaction.total.max=512m" in lines
    assert "db.memory.transaction.max=256m" in lines


def test_generated_password_is_private_and_stable(tmp_path: Path) -> None:
    server = LocalNeo4j(tmp_path, PathsSettings().cache_dir)
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "neo4j.conf").write_text(render_conf(tmp_path, 7778, Memory()))
    java = check_java()
    jars = resolve_jars(PathsSettings().cache_dir)
    first = server._password(java, jars)
    assert len(first) >= 24 and first != "neo4j"
    assert stat.S_IMODE(server.password_file.stat().st_mode) == 0o600
    assert (tmp_path / "data" / "dbms" / "auth.ini").exists()
    assert server._password(java, jars) == first
