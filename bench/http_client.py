"""The benchmark's load generator: one keep-alive HTTP/1.1 connection per simulated client.

The benchmark runs on the same two cores as the API and Neo4j, so whatever the load generator
spends is taken from them. httpx spent 1-2 ms of CPU per request (more than a third of what the
API itself spends on a client page); this client writes one request and reads one
`Content-Length` response, about a tenth of that, so the figures measure the API rather than the
load generator. It is not a general client: no redirects, no chunked bodies, no TLS.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from typing import Any


class ProtocolError(Exception):
    pass


class StaleConnection(ProtocolError):
    """The connection was closed before any response."""


@dataclass
class JsonConnection:
    host: str
    port: int
    headers: dict[str, str] = field(default_factory=dict)
    _reader: asyncio.StreamReader | None = None
    _writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: Any) -> tuple[int, Any]:
        """POST `body` as JSON; the status and the decoded JSON response."""
        payload = json.dumps(body).encode()
        extra = "".join(f"{k}: {v}\r\n" for k, v in self.headers.items())
        request = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n{extra}\r\n"
        ).encode("latin-1") + payload
        reused = self._reader is not None
        reader = await self._send(request)
        try:
            status, length, close = await self._read_head(reader)
        except StaleConnection:
            # The server closed an idle kept-alive connection (uvicorn does after 5 s) before
            # reading this request: send it again once on a fresh connection.
            if not reused:
                raise
            await self.close()
            reader = await self._send(request)
            status, length, close = await self._read_head(reader)
        data = json.loads(await reader.readexactly(length))
        if close:
            await self.close()
        return status, data

    async def _send(self, request: bytes) -> asyncio.StreamReader:
        if self._reader is None or self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        self._writer.write(request)
        return self._reader

    @staticmethod
    async def _read_head(reader: asyncio.StreamReader) -> tuple[int, int, bool]:
        try:
            status_line = await reader.readline()
        except ConnectionResetError as exc:
            raise StaleConnection from exc
        if not status_line:
            raise StaleConnection
        parts = status_line.split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
            raise ProtocolError(f"not an HTTP/1.x response: {status_line[:80]!r}")
        length: int | None = None
        close = False
        while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value.strip())
            elif name == b"transfer-encoding":
                raise ProtocolError("chunked responses are not supported")
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
        if length is None:
            raise ProtocolError("response without Content-Length")
        return int(parts[1]), length, close

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(ConnectionError):
                await self._writer.wait_closed()
        self._reader = self._writer = None
