"""`rmgraph`: run the API with its own Neo4j, or do one set-up step at a time."""

from __future__ import annotations

import argparse
import contextlib
import getpass
import logging
import os
import signal
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Final

from api.auth import Role, dev_secret, issue_token, load_keys
from api.settings import ApiSettings
from graph.csv_validation import BATCH
from graph.db import open_driver
from graph.errors import (
    DatabaseUnavailable,
    ExportInProgress,
    FxRateMissing,
    ImportConflict,
    InvalidInput,
    QueryTooLarge,
)
from graph.input_checks import require_text
from graph.local_server import Connection
from graph.migrations import migrate
from graph.provision import provide_neo4j
from graph.settings import Neo4jSettings, PathsSettings

if TYPE_CHECKING:
    from graph.csv_import import ImportReport

log = logging.getLogger("rmgraph")


def _export_env(conn: Connection) -> None:
    """The app reads its database from the environment, like any deployment would."""
    os.environ["NEO4J_URI"] = conn.uri
    os.environ["NEO4J_USER"] = conn.user
    os.environ["NEO4J_PASSWORD"] = conn.password


def _prepare(conn: Connection, seed: bool) -> None:
    from seeds.loader import load_demo

    database = Neo4jSettings().database
    with open_driver(conn.uri, conn.user, conn.password) as driver:
        migrate(driver, database)
        if seed:
            print("rmgraph: importing the demo bank's CSV set (idempotent)...", file=sys.stderr)
            load_demo(driver, database, activity=True)


INTERRUPTED: Final = 143  # 128 + SIGTERM, as a shell reports a command it terminated


def _exit_on_sigterm(status: int = 0) -> None:
    """SIGTERM unwinds like Ctrl-C, so the Neo4j this process started is stopped in order (and
    an export's staging folder removed).

    uvicorn handles SIGTERM itself and re-raises it after its own shutdown; this handler then
    turns it into SystemExit instead of an abrupt death that would orphan Neo4j. A server
    stopped this way exits 0; an import or export cut short, with `status`."""

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(status)

    signal.signal(signal.SIGTERM, stop)


@contextlib.contextmanager
def _sigterm_exits(status: int) -> Iterator[None]:
    """`_exit_on_sigterm(status)` while the block runs, and the handler before it after (a test
    calling `main` must leave its own in place)."""
    previous = signal.getsignal(signal.SIGTERM)
    _exit_on_sigterm(status)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _signing_secret() -> str:
    """The configured HS256 secret, or a generated one kept in the state folder for local use.
    With a public key configured the server checks RS256 only (whatever secret is set too), so
    an HS256 token would never be accepted: none is issued."""
    settings = ApiSettings()
    if settings.jwt_public_key:
        raise SystemExit(
            "rmgraph: RMGRAPH_JWT_PUBLIC_KEY is set, so the API accepts RS256 tokens only: "
            "they are issued by your identity provider"
        )
    if settings.jwt_secret:
        try:
            load_keys(settings)  # the server's own checks of the secret
        except RuntimeError as exc:
            raise SystemExit(f"rmgraph: {exc}") from None
        return settings.jwt_secret
    secret = dev_secret(PathsSettings().state_dir)
    os.environ["RMGRAPH_JWT_SECRET"] = secret
    return secret


def cmd_token(args: argparse.Namespace) -> None:
    role = Role(args.role)
    settings = ApiSettings()
    print(issue_token(
        _signing_secret(), role, args.subject, args.manager_id, args.ttl,
        audience=settings.jwt_audience, issuer=settings.jwt_issuer,
    ))  # fmt: skip


# A token cannot be revoked before it expires: local tokens live a week at most.
MAX_TOKEN_TTL: Final = 7 * 24 * 3600


def _ttl(value: str) -> int:
    if not value.strip().isdigit() or not 1 <= int(value) <= MAX_TOKEN_TTL:
        raise argparse.ArgumentTypeError(
            f"a whole number of seconds from 1 to {MAX_TOKEN_TTL:,} (a week), not {value!r}"
        )
    return int(value)


def _share(value: str) -> float:
    """A threshold of the cross-sell refresh: a share from 0 to 1."""
    try:
        share = float(value)
    except ValueError:
        share = -1.0
    if not 0.0 <= share <= 1.0:  # NaN fails this too
        raise argparse.ArgumentTypeError(f"a share from 0 to 1, not {value!r}")
    return share


def local_admin_token() -> str | None:
    """`rmgraph run` with no key configured is development: GraphiQL and introspection on, and
    an admin token (12 h) to paste into GraphiQL, signed with the generated local secret. With a
    secret or public key configured it is a deployment: its settings hold (production unless
    RMGRAPH_ENV says otherwise) and no token is minted, which the real secret would sign and the
    logs keep."""
    settings = ApiSettings()
    if settings.jwt_secret or settings.jwt_public_key:
        return None
    os.environ.setdefault("RMGRAPH_ENV", "development")
    return issue_token(
        _signing_secret(), Role.ADMIN, "make-run-admin", ttl=12 * 3600,
        audience=settings.jwt_audience, issuer=settings.jwt_issuer,
    )  # fmt: skip


def cmd_run(args: argparse.Namespace) -> None:
    import uvicorn

    _exit_on_sigterm()
    admin_token = local_admin_token()
    with provide_neo4j() as conn:
        _export_env(conn)
        _prepare(conn, seed=not args.no_seed)
        from api.app import create_app

        if admin_token:
            print(
                "rmgraph: admin token for GraphiQL (valid 12 h); add the header\n"
                f'  {{"Authorization": "Bearer {admin_token}"}}',
                file=sys.stderr,
            )
        print(
            f"rmgraph: Neo4j at {conn.uri}; GraphiQL on http://{args.host}:{args.port}/graphql",
            file=sys.stderr,
        )
        uvicorn.run(create_app(), host=args.host, port=args.port, log_level="info")


def cmd_neo4j(args: argparse.Namespace) -> None:
    """Start (or reuse) the database and keep it up until interrupted."""
    with provide_neo4j() as conn:
        _prepare(conn, seed=not args.no_seed)
        print(f"NEO4J_URI={conn.uri}\nNEO4J_USER={conn.user}", flush=True)
        print("rmgraph: Neo4j is up; Ctrl-C stops it.", file=sys.stderr, flush=True)
        _exit_on_sigterm()
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                signal.pause()


def cmd_migrate(args: argparse.Namespace) -> None:
    """What a deployment runs before starting (or upgrading) the API on its own database: the API
    itself changes no schema. Idempotent."""
    with provide_neo4j() as conn:
        _prepare(conn, seed=False)
    print(
        "rmgraph: constraints, indexes, settings and reference data are in place", file=sys.stderr
    )


def cmd_refresh_cross_sell(args: argparse.Namespace) -> None:
    import asyncio

    from graph.cross_sell_refresh import refresh_cross_sell
    from graph.db import Db, open_async_driver

    async def refresh(conn: Connection) -> None:
        settings = Neo4jSettings()
        driver = open_async_driver(conn.uri, conn.user, conn.password)
        try:
            db = Db(driver, settings.database, tx_timeout=600)
            done = await refresh_cross_sell(db, args.min_support, args.min_confidence)
        finally:
            await driver.close()
        print(
            f"cross-sell links: {done.links} from {done.clients} clients; "
            f"{done.removed} old links removed, {done.pinned_kept} pinned kept"
        )

    with provide_neo4j() as conn:
        asyncio.run(refresh(conn))


def cmd_grade_clients(args: argparse.Namespace) -> None:
    """gradeClients for a bank whose grading outlasts an HTTP request: no request time limit,
    each transaction up to 600 s."""
    import asyncio
    from collections import Counter

    from graph.db import Db, open_async_driver
    from graph.key_accounts import grade_clients

    async def grade(conn: Connection) -> None:
        driver = open_async_driver(conn.uri, conn.user, conn.password)
        try:
            db = Db(driver, Neo4jSettings().database, tx_timeout=600)
            changed = await grade_clients(db, args.actor or default_actor(), args.dry_run)
        finally:
            await driver.close()
        moves = Counter(f"{r.before or '-'} → {r.after or '-'}" for r in changed)
        verb = "would change" if args.dry_run else "changed"
        print(f"grades {verb}: {len(changed):,}" + "".join(
            f"\n  {move}: {n:,}" for move, n in sorted(moves.items())
        ))  # fmt: skip

    with provide_neo4j() as conn:
        asyncio.run(grade(conn))


def _print_report(report: ImportReport) -> None:
    verb = "would be" if report.dry_run else "were"
    print(f"{'file':<22}{'read':>9}{'created':>9}{'updated':>9}{'unchanged':>10}{'rejected':>9}")
    for f in report.files:
        print(
            f"{f.file:<22}{f.read:>9}{f.created:>9}{f.updated:>9}{f.unchanged:>10}{f.rejected:>9}"
        )
    problems = report.problems
    if not problems:
        done = "checked; nothing written (dry run)" if report.dry_run else "imported"
        print(f"rmgraph: {report.folder} {done}; counts are rows that {verb} created/updated.")
        return
    for problem in problems.kept:
        print(problem, file=sys.stderr)
    if problems.total > len(problems.kept):
        print(f"... and {problems.total - len(problems.kept)} more problems", file=sys.stderr)
    print(
        f"rmgraph: {report.folder} rejected: {problems.total} problem(s); nothing was written.",
        file=sys.stderr,
    )


def _actor(value: str) -> str:
    """An audit record's actor, shown as it is: one line of 1-200 characters."""
    try:
        return require_text("actor", value, 200)
    except InvalidInput as exc:
        raise argparse.ArgumentTypeError(exc.message) from None


# Larger batches mean fewer transactions but more memory in each (the server stops one past
# db.memory.transaction.max); the cap keeps a typo from asking for one transaction of millions.
MAX_BATCH_SIZE: Final = 50_000


def _batch_size(value: str) -> int:
    """Rows per import transaction: a whole number from 1 to MAX_BATCH_SIZE."""
    if not value.strip().isdigit() or not 1 <= int(value) <= MAX_BATCH_SIZE:
        raise argparse.ArgumentTypeError(
            f"a whole number of rows from 1 to {MAX_BATCH_SIZE:,}, not {value!r}"
        )
    return int(value)


def default_actor() -> str:
    """Who the import's audit records name when `--actor` is not given: the OS account, taken
    from the environment ($LOGNAME, $USER) and so held to the same rules as `--actor`."""
    try:
        return _actor(f"cli:{getpass.getuser()}")
    except (KeyError, OSError, argparse.ArgumentTypeError):
        return "cli:unknown"


def cmd_import(args: argparse.Namespace) -> None:
    with _sigterm_exits(INTERRUPTED):
        _import(args)


def _import(args: argparse.Namespace) -> None:
    from graph.csv_import import import_csv
    from graph.progress import Progress

    progress: list[Progress] = []

    def phase(name: str, total: int) -> None:
        if progress:
            progress[-1].finish()
        print(f"rmgraph: {name} {args.folder}", file=sys.stderr)
        progress.append(Progress(total, quiet=args.quiet))

    def advance(file: str, rows: int) -> None:
        progress[-1](file, rows)

    with (
        provide_neo4j() as conn,
        open_driver(conn.uri, conn.user, conn.password) as driver,
    ):
        database = Neo4jSettings().database
        migrate(driver, database)
        report = import_csv(
            driver, database, Path(args.folder), args.dry_run, advance, phase,
            actor=args.actor or default_actor(), batch_size=args.batch_size,
        )  # fmt: skip
    if progress:
        progress[-1].finish()
    _print_report(report)
    if not report.accepted:
        raise SystemExit(1)


def cmd_export(args: argparse.Namespace) -> None:
    with _sigterm_exits(INTERRUPTED):
        _export(args)


def _export(args: argparse.Namespace) -> None:
    from graph.csv_export import count_audited_writes, export_csv

    database = Neo4jSettings().database
    with (
        provide_neo4j() as conn,
        open_driver(conn.uri, conn.user, conn.password) as driver,
    ):
        before = count_audited_writes(driver, database)
        written = export_csv(driver, database, Path(args.folder))
        during = count_audited_writes(driver, database) - before
    for file, rows in written.items():
        print(f"{file:<22}{rows:>9}")
    print(f"rmgraph: exported to {args.folder}", file=sys.stderr)
    if during:
        # The tables were read a chunk at a time: a write in between may show in one file and
        # not in another.
        print(
            f"rmgraph: warning: {during} write(s) through the API or an import during the "
            "export; the files "
            "may not fit together: export again while the graph is quiet",
            file=sys.stderr,
        )


def cmd_export_schema(args: argparse.Namespace) -> None:
    from schema.build import SDL_PATH, export_sdl

    SDL_PATH.write_text(export_sdl(), encoding="utf-8")
    print(f"wrote {SDL_PATH}", file=sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rmgraph", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="Neo4j, migrations, demo bank, then the API (make run)")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8000)
    run.add_argument("--no-seed", action="store_true", help="do not load the demo bank")
    run.set_defaults(func=cmd_run)
    neo = sub.add_parser("neo4j", help="start the database (and demo bank) and wait")
    neo.add_argument("--no-seed", action="store_true")
    neo.set_defaults(func=cmd_neo4j)
    mig = sub.add_parser("migrate", help="constraints, indexes, settings, reference data; exit")
    mig.set_defaults(func=cmd_migrate)

    token = sub.add_parser("token", help="issue a signed token for local use (HS256)")
    token.add_argument("--role", required=True, choices=[r.value for r in Role])
    token.add_argument("--subject", default="local-user")
    token.add_argument("--manager-id", default=None, help="required for --role MANAGER")
    token.add_argument(
        "--ttl", type=_ttl, default=3600, help="seconds (default 3600, at most a week)"
    )
    token.set_defaults(func=cmd_token)
    cross = sub.add_parser("refresh-cross-sell", help="recompute cross-sell links from holdings")
    cross.add_argument("--min-support", type=_share, default=0.02)
    cross.add_argument("--min-confidence", type=_share, default=0.1)
    cross.set_defaults(func=cmd_refresh_cross_sell)
    grade = sub.add_parser(
        "grade-clients", help="regrade every client against the key-account thresholds"
    )
    grade.add_argument("--dry-run", action="store_true", help="count the changes; write nothing")
    grade.add_argument(
        "--actor", default=None, type=_actor,
        help="who the audit records name (default cli:<your OS user name>)",
    )  # fmt: skip
    grade.set_defaults(func=cmd_grade_clients)
    imp = sub.add_parser("import", help="check, then upsert a folder of CSV files (README)")
    imp.add_argument("folder", help="folder holding departments.csv, clients.csv, ...")
    imp.add_argument("--dry-run", action="store_true", help="check and count; write nothing")
    imp.add_argument("--quiet", action="store_true", help="no progress line")
    imp.add_argument(
        "--actor",
        default=None,
        help="who the audit records name (default cli:<your OS user name>)",
        type=_actor,
    )
    imp.add_argument(
        "--batch-size",
        default=BATCH,
        type=_batch_size,
        help=f"rows per transaction and audit record (default {BATCH:,}; smaller if a batch "
        "passes the server's memory limit for one transaction)",
    )
    imp.set_defaults(func=cmd_import)
    exp = sub.add_parser("export", help="write the graph as the import CSV set")
    exp.add_argument("folder", help="created if missing; files in it are replaced")
    exp.set_defaults(func=cmd_export)
    export = sub.add_parser("export-schema", help="write schema/schema.graphql from the code")
    export.set_defaults(func=cmd_export_schema)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # "Constraint already exists" and similar notes of idempotent set-up are not news.
    logging.getLogger("neo4j.notifications").setLevel(logging.WARNING)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "token" and args.role == Role.MANAGER.value and not args.manager_id:
        parser.error("--role MANAGER needs --manager-id (the manager whose book it reads)")
    try:
        args.func(args)
    except (
        DatabaseUnavailable,
        ExportInProgress,
        FileExistsError,
        FxRateMissing,
        ImportConflict,
        QueryTooLarge,
    ) as exc:
        print(f"rmgraph: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc
    except KeyboardInterrupt:
        # Ctrl-C stops a server as it should; an import or export it cuts short has failed.
        if args.func in (cmd_import, cmd_export):
            print("rmgraph: interrupted", file=sys.stderr)
            raise SystemExit(130) from None


if __name__ == "__main__":
    main()
