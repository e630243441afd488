"""The Starlette app: GraphQL at /graphql (GraphiQL in a browser), /healthz and /readyz.

One `AsyncDriver` for the process, opened and verified in the lifespan and closed on shutdown;
each request gets its own `Context` (its `Db`, DataLoaders and request id).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any, Final

from cross_web import HTTPException
from graphql import GraphQLError
from neo4j import AsyncDriver
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLRequestData
from strawberry.types import ExecutionResult

from api.auth import AuthMiddleware, BodyLimitMiddleware, Principal, load_keys
from api.context import Context
from api.settings import ApiSettings
from graph.db import WRITES, Db, WriteTally, open_async_driver
from graph.plan_warmup import warm_key_plans
from graph.settings import Neo4jSettings
from schema.build import build_schema

log = logging.getLogger("rmgraph.api")


@contextlib.contextmanager
def frozen_startup_heap() -> Iterator[None]:
    """Keep what the process built to start (modules, the schema, the driver: ~100k objects)
    out of the cyclic garbage collector while it serves.

    Requests leave reference cycles (graphql-core's and Strawberry's execution state, the
    DataLoaders), so the collector must run; but each full collection also walked the whole
    startup heap, taking 100-150 ms at a time under load and ~1.3 s per process in a
    benchmark run (0.4 s frozen), which showed as the p99 of every read."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


# A caller's X-Request-Id is kept when it is a plain token; anything else (a newline that would
# forge a log line, a megabyte of text) is replaced by one of ours.
REQUEST_ID: Final = re.compile(r"\A[A-Za-z0-9._:-]{1,64}\Z")


def request_id_from(header: str | None) -> str:
    if header is not None and REQUEST_ID.match(header):
        return header
    return uuid.uuid4().hex[:16]


async def _warm_plans(db: Db) -> None:
    # Only a head start: a read that fails here is planned on its first request instead.
    try:
        seconds = await warm_key_plans(db)
    except Exception:
        log.warning("planning the key reads at start-up failed", exc_info=True)
    else:
        log.info("key read plans ready in %.1f s", seconds)


def _wrongly_typed(item: GraphQLRequestData) -> str | None:
    """What is wrong with a batched request's members, if anything."""
    if not isinstance(item.query, str):
        return "query must be a string"
    for member, value, kind, name in (
        ("variables", item.variables, dict, "an object"),
        ("extensions", item.extensions, dict, "an object"),
        ("operationName", item.operation_name, str, "a string"),
    ):
        if value is not None and not isinstance(value, kind):
            return f"{member} must be {name} or null"
    return None


class RmGraphQL(GraphQL[Context, None]):
    def __init__(
        self, settings: Neo4jSettings, request_timeout: float = 30.0,
        max_request_transactions: int = 8, **kwargs: Any,
    ) -> None:  # fmt: skip
        super().__init__(**kwargs)
        self.settings = settings
        self.request_timeout = request_timeout
        self.max_request_transactions = max_request_transactions

    async def execute_single(
        self, request: Any, request_adapter: Any, sub_response: Any, context: Context,
        root_value: Any, request_data: Any,
    ) -> ExecutionResult:  # fmt: skip
        """Each transaction has its own time limit; a whole operation (many aliases, each up
        to that limit) has this one: past it the operation is cancelled and answers TIMEOUT.
        A mutation's fields run one after another, each its own transaction: those committed
        before the limit stand, and the answer says how many, so that a client reads back
        rather than repeating them (a drawing repeated is drawn twice)."""
        tally = WriteTally()
        token = WRITES.set(tally)
        try:
            async with asyncio.timeout(self.request_timeout):
                return await super().execute_single(
                    request, request_adapter, sub_response, context, root_value, request_data
                )
        except TimeoutError:
            committed = tally.committed
            log.warning(
                "request %s ran past %s s (%d writes committed)",
                context.request_id, self.request_timeout, committed,
            )  # fmt: skip
            message = (
                f"Timeout: the request ran past its {self.request_timeout:g} s limit and was "
                f"cancelled (request id {context.request_id})"
            )
            if committed or tally.cut_short:
                message += (
                    f"; at least {committed} of its writes had committed and stand (audited), "
                    "and one in flight may have: read back before retrying"
                    if tally.cut_short
                    else f"; {committed} of its writes had committed and stand (audited), the "
                    "rest did not run: read back before retrying"
                )
            extensions = {"code": "TIMEOUT", "requestId": context.request_id}
            error = GraphQLError(message, extensions={**extensions, "committedWrites": committed})
            return ExecutionResult(data=None, errors=[error])
        finally:
            WRITES.reset(token)

    def decode_json(self, data: str | bytes) -> object:
        """A body that is not UTF-8, nests too deep to decode, or is JSON but not a request
        (`5`, `[1]`) made Strawberry answer 500; as a JSONDecodeError it is answered 400."""
        try:
            parsed = json.loads(data)
        except (UnicodeDecodeError, RecursionError) as exc:
            raise json.JSONDecodeError(f"not JSON text: {exc}", "", 0) from exc
        items = parsed if isinstance(parsed, list) else [parsed]
        if not all(isinstance(item, dict) for item in items):
            raise json.JSONDecodeError("not a request object or a list of them", "", 0)
        return parsed

    async def parse_http_body(self, request: Any) -> Any:
        """Strawberry checks a request's members' types in a single request only: in a batch, a
        `variables` of "x" or a `query` of 5 failed inside it, and its message reached the
        client unmasked. (Not in `decode_json`, which also decodes a GET's `variables`.)"""
        parsed = await super().parse_http_body(request)
        for item in parsed if isinstance(parsed, list) else []:
            wrong = _wrongly_typed(item)
            if wrong:
                raise HTTPException(400, f"A request's {wrong}.")
        return parsed

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        driver: AsyncDriver = request.app.state.driver
        request_id = request_id_from(request.headers.get("x-request-id"))
        db = Db(
            driver, self.settings.database, self.settings.tx_timeout,
            slots=asyncio.Semaphore(self.max_request_transactions),
        )  # fmt: skip
        principal: Principal | None = getattr(request.state, "principal", None)
        return Context(
            db=db,
            request_id=request_id,
            principal=principal,
            request=request if isinstance(request, Request) else None,
            whole_bank=request.app.state.whole_bank,
        )


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


READY_TIMEOUT_SECONDS: Final = 2.0


async def readyz(request: Request) -> JSONResponse:
    driver: AsyncDriver = request.app.state.driver
    try:
        # A server that accepts connections and never answers would hold each probe for the
        # driver's own timeouts (30 s and more): a probe that slow means not ready.
        async with asyncio.timeout(READY_TIMEOUT_SECONDS):
            await driver.verify_connectivity()
    except Exception as exc:
        log.warning("readiness check failed: %s", exc)
        return JSONResponse({"status": "unavailable"}, status_code=503)
    return JSONResponse({"status": "ready"})


def create_app(
    settings: Neo4jSettings | None = None, api_settings: ApiSettings | None = None
) -> Starlette:
    settings = settings or Neo4jSettings()
    api_settings = api_settings or ApiSettings()
    keys = load_keys(api_settings)
    if not settings.uri or settings.password is None:
        raise RuntimeError("NEO4J_URI and NEO4J_PASSWORD must be set (`rmgraph run` sets them).")
    uri, user, password = settings.uri, settings.user, settings.password

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        driver = open_async_driver(uri, user, password)
        try:
            await driver.verify_connectivity()
            if api_settings.warm_plans:
                await _warm_plans(Db(driver, settings.database, api_settings.warm_plans_timeout))
            app.state.driver = driver
            app.state.whole_bank = asyncio.Semaphore(api_settings.max_whole_bank_searches)
            with frozen_startup_heap():
                yield
        finally:
            await driver.close()

    graphql = RmGraphQL(
        settings,
        request_timeout=api_settings.request_timeout,
        max_request_transactions=api_settings.max_request_transactions,
        schema=build_schema(api_settings),
        graphql_ide="graphiql" if api_settings.graphiql else None,
    )
    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/graphql", graphql, methods=["GET", "POST"]),
        ],
        middleware=[
            Middleware(BodyLimitMiddleware, max_bytes=api_settings.max_body_bytes),
            Middleware(AuthMiddleware, keys=keys, graphiql=api_settings.graphiql),
        ],
        lifespan=lifespan,
    )
