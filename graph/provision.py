"""Which Neo4j: `NEO4J_URI` when set, else Docker when it answers, else the managed server."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
from collections.abc import Iterator
from pathlib import Path

from graph.errors import DatabaseUnavailable
from graph.local_server import OPTIONS_HINT, Connection, LocalNeo4j
from graph.settings import Neo4jSettings, PathsSettings

log = logging.getLogger(__name__)

DOCKER_IMAGE = "neo4j:5.26-community"


def docker_answers(timeout: float = 1.0) -> bool:
    """Ping the daemon's socket ourselves: testcontainers is imported only when this is true."""
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    if not host.startswith("unix://"):
        return False
    path = host.removeprefix("unix://")
    if not Path(path).exists():
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(path)
            sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            return b" 200 " in sock.recv(256)
    except OSError:
        return False


@contextlib.contextmanager
def _docker_neo4j() -> Iterator[Connection]:
    try:
        from testcontainers.neo4j import Neo4jContainer
    except ImportError as exc:
        raise DatabaseUnavailable(
            f"a Docker daemon answers but testcontainers is not installed ({exc}). {OPTIONS_HINT}"
        ) from exc
    with Neo4jContainer(DOCKER_IMAGE) as container:
        yield Connection(container.get_connection_url(), container.username, container.password)


@contextlib.contextmanager
def provide_neo4j(state_dir: Path | None = None) -> Iterator[Connection]:
    """Yield a reachable Neo4j for as long as the block runs; stop what this call started."""
    settings = Neo4jSettings()
    if settings.uri:
        if settings.password is None:
            raise DatabaseUnavailable("NEO4J_URI is set but NEO4J_PASSWORD is not.")
        log.info("using Neo4j at %s (NEO4J_URI)", settings.uri)
        yield Connection(settings.uri, settings.user, settings.password)
        return
    if docker_answers():
        log.info("using Neo4j in Docker (testcontainers)")
        with _docker_neo4j() as conn:
            yield conn
        return
    paths = PathsSettings()
    server = LocalNeo4j(state_dir or paths.state_dir / "neo4j", paths.cache_dir)
    log.info("using the managed local Neo4j in %s", server.state)
    with server as conn:
        yield conn
