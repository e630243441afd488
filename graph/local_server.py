"""The managed local Neo4j: Community 5.26 from Maven Central, run on the machine's Java 17.

Used when neither `NEO4J_URI` nor a Docker daemon is available. The jars are resolved once with
`mvn dependency:copy-dependencies` into a cache folder outside git (they are GPLv3), and the server
runs from a state folder that holds its generated `neo4j.conf`, data, logs and a generated
password (mode 0600). Bolt listens on loopback only; HTTP is off.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Final

from neo4j import GraphDatabase
from neo4j.exceptions import AuthError, ServiceUnavailable

from graph.errors import DatabaseUnavailable

log = logging.getLogger(__name__)

NEO4J_VERSION: Final = "5.26.30"
ENTRY_POINT: Final = "org.neo4j.server.CommunityEntryPoint"
ADMIN_TOOL: Final = "org.neo4j.cli.AdminTool"
# Neo4j 5 reaches into these JDK internals; without the flags it fails at start on Java 17.
JVM_FLAGS: Final = (
    "-XX:+ExitOnOutOfMemoryError",
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dfile.encoding=UTF-8",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-opens=java.base/java.lang=ALL-UNNAMED",
    "--add-opens=java.base/java.util=ALL-UNNAMED",
    "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
    "--enable-native-access=ALL-UNNAMED",
)
OPTIONS_HINT: Final = (
    "rmgraph needs a Neo4j. Choose one of: (1) set NEO4J_URI, NEO4J_USER and NEO4J_PASSWORD to "
    "an existing Neo4j 5; (2) start a Docker daemon (testcontainers runs Neo4j in it); (3) install "
    "OpenJDK 17 and Maven so rmgraph can run its managed local Neo4j Community "
    f"{NEO4J_VERSION} (e.g. `apt-get install openjdk-17-jdk-headless maven`)."
)


@dataclass(frozen=True)
class Memory:
    """Sized for a 2-core, 24 GiB machine; the issue caps the heap at 1 GiB."""

    heap: str = "1g"
    page_cache: str = "512m"
    tx_total: str = "512m"
    # One transaction's share of tx_total: a runaway query is stopped before it can starve the
    # rest (Neo4j's default lets one transaction take the whole pool).
    tx_max: str = "256m"


@dataclass(frozen=True)
class Connection:
    uri: str
    user: str
    password: str


def jar_dir(cache_dir: Path) -> Path:
    return cache_dir / f"neo4j-{NEO4J_VERSION}" / "lib"


def _require_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise DatabaseUnavailable(f"`{name}` was not found on PATH. {OPTIONS_HINT}")
    return path


def check_java() -> str:
    java = _require_tool("java")
    out = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
    match = re.search(r'version "(\d+)', out.stderr + out.stdout)
    major = int(match.group(1)) if match else 0
    if major < 17:
        raise DatabaseUnavailable(
            f"Java 17 or newer is needed, found {major or 'unknown'}. {OPTIONS_HINT}"
        )
    return java


def resolve_jars(cache_dir: Path) -> Path:
    """Fetch Neo4j's runtime closure from Maven Central once; later starts reuse the cache."""
    target = jar_dir(cache_dir)
    done = target / ".complete"
    if done.exists():
        return target
    mvn = _require_tool("mvn")
    target.mkdir(parents=True, exist_ok=True)
    with resources.as_file(resources.files("graph") / "neo4j" / "pom.xml") as pom:
        cmd = [
            mvn, "-B", "-f", str(pom),
            "-Dorg.slf4j.simpleLogger.log.org.apache.maven.cli.transfer.Slf4jMavenTransferListener=info",
            "dependency:copy-dependencies",
            f"-DoutputDirectory={target}", "-DincludeScope=runtime", "-Dmdep.overWriteIfNewer=true",
        ]  # fmt: skip
        print(
            f"rmgraph: first start, resolving Neo4j {NEO4J_VERSION} from Maven Central into "
            f"{target} (about 125 MB; later starts reuse it)...",
            file=sys.stderr,
            flush=True,
        )
        returncode, tail = _run_showing_downloads(cmd)
    if returncode != 0:
        raise DatabaseUnavailable(
            f"mvn could not resolve org.neo4j:neo4j:{NEO4J_VERSION}:\n" + "\n".join(tail)
        )
    done.write_text(NEO4J_VERSION)
    return target


def _run_showing_downloads(cmd: list[str]) -> tuple[int, list[str]]:
    """Run Maven, printing one progress line per downloaded artifact; return code and log tail."""
    tail: list[str] = []
    fetched = 0
    with subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            tail = [*tail[-24:], line.rstrip()]
            if "Downloaded from" in line and line.rstrip().endswith(")"):
                fetched += 1
                name = line.rsplit("/", 1)[-1].split(" ")[0]
                print(f"\r  maven: {fetched:>4} files fetched  {name[:60]:<60}", end="",
                      file=sys.stderr, flush=True)  # fmt: skip
        returncode = proc.wait()
    print(f"\n  maven: done, {fetched} files fetched", file=sys.stderr, flush=True)
    return returncode, tail


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def render_conf(state: Path, port: int, memory: Memory) -> str:
    return "\n".join(
        [
            "# Generated by rmgraph (graph/local_server.py); rewritten at every start.",
            "server.default_listen_address=127.0.0.1",
            "server.default_advertised_address=127.0.0.1",
            f"server.bolt.listen_address=127.0.0.1:{port}",
            f"server.bolt.advertised_address=127.0.0.1:{port}",
            "server.http.enabled=false",
            "server.https.enabled=false",
            f"server.directories.data={state / 'data'}",
            f"server.directories.logs={state / 'logs'}",
            f"server.directories.run={state / 'run'}",
            f"server.directories.plugins={state / 'plugins'}",
            f"server.directories.import={state / 'import'}",
            f"server.directories.lib={state / 'lib-unused'}",
            f"server.memory.pagecache.size={memory.page_cache}",
            f"dbms.memory.transaction.total.max={memory.tx_total}",
            f"db.memory.transaction.max={memory.tx_max}",
            "dbms.security.auth_enabled=true",
            "dbms.usage_report.enabled=false",
            "db.transaction.timeout=60s",
            "",
        ]
    )


class LocalNeo4j:
    """One managed server bound to one state folder. Use as a context manager, or start/stop."""

    def __init__(self, state_dir: Path, cache_dir: Path, memory: Memory | None = None) -> None:
        self.state = state_dir
        self.cache = cache_dir
        self.memory = memory or Memory()
        self._proc: subprocess.Popen[bytes] | None = None
        self.connection: Connection | None = None

    @property
    def password_file(self) -> Path:
        return self.state / "password"

    def _password(self, java: str, jars: Path) -> str:
        if self.password_file.exists():
            return self.password_file.read_text().strip()
        # A leading "-" would be read by neo4j-admin as an option (1 start in 64 used to fail).
        password = "rm" + secrets.token_urlsafe(24)
        # The initial password only takes effect before the first start; a fresh state is needed.
        shutil.rmtree(self.state / "data", ignore_errors=True)
        env = {**os.environ, "NEO4J_HOME": str(self.state), "NEO4J_CONF": str(self.state / "conf")}
        proc = subprocess.run(
            [java, "-cp", f"{jars}/*", ADMIN_TOOL, "dbms", "set-initial-password", password],
            env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if proc.returncode != 0:
            raise DatabaseUnavailable(f"could not set the Neo4j password: {proc.stderr[-2000:]}")
        fd = os.open(self.password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(password)
        return password

    def _running_instance(self) -> Connection | None:
        """Another process (say `make run`) already serves this state folder: reuse it."""
        pid_file, port_file = self.state / "rmgraph.pid", self.state / "port"
        if not (pid_file.exists() and port_file.exists() and self.password_file.exists()):
            return None
        try:
            os.kill(int(pid_file.read_text()), 0)
        except (OSError, ValueError):
            return None
        conn = Connection(
            f"bolt://127.0.0.1:{int(port_file.read_text())}",
            "neo4j",
            self.password_file.read_text().strip(),
        )
        try:
            with GraphDatabase.driver(conn.uri, auth=(conn.user, conn.password)) as drv:
                drv.verify_connectivity()
        except Exception:
            return None
        return conn

    def start(self, timeout: float = 180.0) -> Connection:
        java = check_java()
        self.state.mkdir(parents=True, exist_ok=True)
        existing = self._running_instance()
        if existing is not None:
            log.info("reusing the managed Neo4j already running at %s", existing.uri)
            self.connection = existing
            return existing
        jars = resolve_jars(self.cache)
        for sub in ("conf", "data", "logs", "run", "plugins", "import"):
            (self.state / sub).mkdir(exist_ok=True)
        port_file = self.state / "port"
        port = int(port_file.read_text()) if port_file.exists() else 0
        if not port or not port_is_free(port):
            port = free_port()
        (self.state / "conf" / "neo4j.conf").write_text(render_conf(self.state, port, self.memory))
        password = self._password(java, jars)
        cmd = [
            java, f"-Xms{self.memory.heap}", f"-Xmx{self.memory.heap}", *JVM_FLAGS,
            "-cp", f"{jars}/*", ENTRY_POINT,
            f"--home-dir={self.state}", f"--config-dir={self.state / 'conf'}", "--console-mode",
        ]  # fmt: skip
        console = open(self.state / "logs" / "console.log", "ab")  # noqa: SIM115
        # A session of its own: Ctrl-C in the terminal reaches rmgraph, which stops Neo4j in order.
        self._proc = subprocess.Popen(
            cmd, stdout=console, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
            env={**os.environ, "NEO4J_HOME": str(self.state)},
        )  # fmt: skip
        console.close()
        port_file.write_text(str(port))
        (self.state / "rmgraph.pid").write_text(str(self._proc.pid))
        conn = Connection(f"bolt://127.0.0.1:{port}", "neo4j", password)
        self._await_ready(conn, timeout)
        self.connection = conn
        return conn

    def _await_ready(self, conn: Connection, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        with GraphDatabase.driver(conn.uri, auth=(conn.user, conn.password)) as drv:
            while time.monotonic() < deadline:
                if self._proc is not None and self._proc.poll() is not None:
                    raise DatabaseUnavailable(
                        f"Neo4j exited with code {self._proc.returncode} while starting:\n"
                        f"{self.log_tail()}"
                    )
                try:
                    drv.verify_connectivity()
                    return
                except AuthError as exc:
                    self.stop()
                    raise DatabaseUnavailable(
                        f"Neo4j rejected the generated password in {self.password_file}; delete "
                        f"{self.state} to start afresh ({exc})"
                    ) from exc
                except (ServiceUnavailable, OSError) as exc:
                    last = exc
                    time.sleep(0.5)
        self.stop()
        raise DatabaseUnavailable(
            f"Neo4j did not answer within {timeout:.0f}s ({last}):\n{self.log_tail()}"
        )

    def log_tail(self, lines: int = 30) -> str:
        path = self.state / "logs" / "console.log"
        if not path.exists():
            return "(no log)"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, timeout: float = 60.0) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        with contextlib.suppress(FileNotFoundError):
            (self.state / "rmgraph.pid").unlink()

    def __enter__(self) -> Connection:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
