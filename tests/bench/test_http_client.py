"""The benchmark's keep-alive client against small servers speaking just enough HTTP/1.1."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest

from bench.http_client import JsonConnection, ProtocolError

Handler = Callable[[bytes, bytes], bytes]


@asynccontextmanager
async def serve(
    respond: Handler, per_connection_max: int = 1000
) -> AsyncIterator[tuple[int, list[int]]]:
    """A server answering each request on a connection with `respond(head, body)`; yields its
    port and the number of requests seen per connection."""
    per_connection: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        per_connection.append(0)
        index = len(per_connection) - 1
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                break
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            body = await reader.readexactly(length)
            per_connection[index] += 1
            writer.write(respond(head, body))
            await writer.drain()
            if per_connection[index] >= per_connection_max:
                break
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield port, per_connection
    finally:
        server.close()
        await server.wait_closed()


def json_response(payload: object, status: str = "200 OK", extra: bytes = b"") -> bytes:
    body = json.dumps(payload).encode()
    return (
        f"HTTP/1.1 {status}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\n".encode()
        + extra
        + b"\r\n"
        + body
    )


async def test_posts_json_and_reuses_the_connection() -> None:
    def echo(head: bytes, body: bytes) -> bytes:
        assert head.startswith(b"POST /graphql HTTP/1.1\r\n")
        assert b"Authorization: Bearer t" in head
        return json_response({"data": json.loads(body), "中": "文"})

    async with serve(echo) as (port, per_connection):
        conn = JsonConnection("127.0.0.1", port, {"Authorization": "Bearer t"})
        for n in range(3):
            status, data = await conn.post("/graphql", {"query": "{ x }", "n": n})
            assert status == 200
            assert data == {"data": {"query": "{ x }", "n": n}, "中": "文"}
        await conn.close()
    assert per_connection == [3]


async def test_reports_the_status_and_reconnects_after_connection_close() -> None:
    def refuse(head: bytes, body: bytes) -> bytes:
        return json_response({"error": "no"}, "401 Unauthorized", b"connection: close\r\n")

    async with serve(refuse) as (port, per_connection):
        conn = JsonConnection("127.0.0.1", port)
        assert await conn.post("/graphql", {}) == (401, {"error": "no"})
        assert await conn.post("/graphql", {}) == (401, {"error": "no"})
        await conn.close()
    assert per_connection == [1, 1]


async def test_sends_again_once_when_an_idle_connection_was_closed() -> None:
    # The server closes each connection after one answer without saying so, as uvicorn closes a
    # kept-alive connection after 5 idle seconds.
    async with serve(lambda head, body: json_response({"ok": True}), per_connection_max=1) as (
        port,
        per_connection,
    ):
        conn = JsonConnection("127.0.0.1", port)
        for _ in range(3):
            assert await conn.post("/graphql", {}) == (200, {"ok": True})
            await asyncio.sleep(0.05)
        await conn.close()
    assert per_connection == [1, 1, 1]


@pytest.mark.parametrize(
    "response",
    [
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n",
        b"SSH-2.0-OpenSSH\r\n\r\n",
    ],
)
async def test_refuses_what_it_cannot_read(response: bytes) -> None:
    async with serve(lambda head, body: response) as (port, _):
        conn = JsonConnection("127.0.0.1", port)
        with pytest.raises(ProtocolError):
            await conn.post("/graphql", {})
        await conn.close()
