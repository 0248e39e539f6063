"""A raw HTTP/1.1 client on asyncio streams, for keep-alive request/response traffic.

Why not httpx: at thousands of connections on a 2-core machine that the server shares, a
client's own CPU use distorts what it measures. One request here costs one write and a few
buffered reads. Only what parlour and the baselines answer is understood: Content-Length or
chunked bodies, no pipelining, no redirects, no TLS.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

# Every wait on the network is bounded: a benchmark must never hang (it runs in CI).
DEFAULT_TIMEOUT_SECONDS = 30.0


class HttpError(Exception):
    """The peer answered something this client cannot read, or closed the connection."""


@dataclass(slots=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    sent_at: float
    """time.monotonic() just before the request was written."""
    received_at: float
    """time.monotonic() once the whole response was read."""
    cookies: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def seconds(self) -> float:
        return self.received_at - self.sent_at


def build_request(
    method: str,
    path: str,
    host: str,
    *,
    body: bytes | None = None,
    cookie: str | None = None,
    extra_headers: dict[str, str] | None = None,
) -> bytes:
    """The bytes of one request; a body is always sent as JSON."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    if cookie:
        lines.append(f"Cookie: {cookie}")
    for name, value in (extra_headers or {}).items():
        lines.append(f"{name}: {value}")
    if body is not None:
        lines.append("Content-Type: application/json")
        lines.append(f"Content-Length: {len(body)}")
    elif method == "POST":
        lines.append("Content-Length: 0")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode()
    return head + body if body else head


def parse_head(head: bytes) -> tuple[int, dict[str, str], dict[str, str]]:
    """Status, headers (lower-case names; a repeated header keeps its last value) and the
    cookies set by Set-Cookie (name → value)."""
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise HttpError(f"not an HTTP/1.x status line: {lines[0]!r}")
    headers: dict[str, str] = {}
    cookies: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, _, value = line.partition(":")
        name, value = name.strip().lower(), value.strip()
        headers[name] = value
        if name == "set-cookie":
            pair = value.split(";", 1)[0]
            cookie_name, _, cookie_value = pair.partition("=")
            cookies[cookie_name.strip()] = cookie_value.strip()
    return int(parts[1]), headers, cookies


class Connection:
    """One keep-alive connection; requests on it run one at a time."""

    def __init__(
        self, host: str, port: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.host = host
        self.port = port
        self._reader = reader
        self._writer = writer
        self._host_header = f"{host}:{port}"
        self.closed = False

    @classmethod
    async def open(
        cls, host: str, port: int, limit_seconds: float = DEFAULT_TIMEOUT_SECONDS
    ) -> Connection:
        async with asyncio.timeout(limit_seconds):
            reader, writer = await asyncio.open_connection(host, port, limit=1 << 20)
        return cls(host, port, reader, writer)

    async def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        cookie: str | None = None,
        limit_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> Response:
        body = None if json_body is None else json.dumps(json_body).encode()
        data = build_request(method, path, self._host_header, body=body, cookie=cookie)
        return await self.send(data, limit_seconds=limit_seconds)

    async def send(
        self, data: bytes, *, limit_seconds: float = DEFAULT_TIMEOUT_SECONDS
    ) -> Response:
        """Write prepared request bytes and read the whole response."""
        if self.closed:
            raise HttpError("the connection is closed")
        try:
            return await self._exchange(data, limit_seconds)
        except TimeoutError:
            self.closed = True  # a response may still be on its way: never reuse this one
            self._writer.close()
            raise

    async def _exchange(self, data: bytes, limit_seconds: float) -> Response:
        async with asyncio.timeout(limit_seconds):
            if self._reader.at_eof():
                # The server closed it while idle (uvicorn does after 5 s): nothing was sent
                # on it, so a new connection is safe, even for a POST.
                await self._reconnect()
            sent_at = time.monotonic()
            self._writer.write(data)
            try:
                head = await self._reader.readuntil(b"\r\n\r\n")
                status, headers, cookies = parse_head(head)
                body = await self._read_body(headers)
            except (asyncio.IncompleteReadError, ConnectionError) as e:
                self.closed = True
                raise HttpError(f"connection lost: {e!r}") from e
            received_at = time.monotonic()
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return Response(status, headers, body, sent_at, received_at, cookies)

    async def _read_body(self, headers: dict[str, str]) -> bytes:
        length = headers.get("content-length")
        if length is not None:
            return await self._reader.readexactly(int(length))
        if headers.get("transfer-encoding", "").lower() == "chunked":
            pieces: list[bytes] = []
            while True:
                size_line = await self._reader.readuntil(b"\r\n")
                size = int(size_line.split(b";", 1)[0], 16)
                if size == 0:
                    await self._reader.readuntil(b"\r\n")  # no trailers are ever sent
                    return b"".join(pieces)
                chunk = await self._reader.readexactly(size + 2)
                pieces.append(chunk[:-2])
        return b""

    async def _reconnect(self) -> None:
        self._writer.close()
        self._reader, self._writer = await asyncio.open_connection(
            self.host, self.port, limit=1 << 20
        )

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._writer.close()
        try:
            async with asyncio.timeout(2):
                await self._writer.wait_closed()
        except (TimeoutError, ConnectionError):
            pass
