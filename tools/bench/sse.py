"""Server-Sent-Events readers as asyncio Protocols: thousands of streams in one process.

Why a Protocol and not a StreamReader task per stream: with 1,000 readers each message
wakes 1,000 sockets, and a callback per read (no task switch, no per-line await) keeps the
load generator's CPU share, which the server on the same two cores pays for, small. The
receipt time is taken once per read, as the bytes come off the socket.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import cast

from bench.http1 import HttpError, build_request, parse_head

# One parsed SSE message: its `id:` (None when absent), its `event:` (None when absent), its
# data lines joined, and the monotonic time of the read that completed it.
FrameHandler = Callable[[int | None, bytes | None, bytes, float], None]


class ChunkedDecoder:
    """Turns an HTTP/1.1 chunked body, fed in arbitrary pieces, back into its payload."""

    __slots__ = ("_buffer", "_remaining", "_skip", "finished")

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._remaining = 0  # payload bytes left in the current chunk
        self._skip = 0  # bytes of a chunk's trailing CRLF still to drop
        self.finished = False

    def feed(self, data: bytes) -> bytes:
        buffer = self._buffer
        buffer += data
        out: list[bytes] = []
        pos = 0
        end = len(buffer)
        while pos < end and not self.finished:
            if self._skip:
                dropped = min(self._skip, end - pos)
                self._skip -= dropped
                pos += dropped
            elif self._remaining:
                taken = min(self._remaining, end - pos)
                out.append(bytes(buffer[pos : pos + taken]))
                self._remaining -= taken
                pos += taken
                if not self._remaining:
                    self._skip = 2
            else:
                newline = buffer.find(b"\r\n", pos)
                if newline < 0:
                    break
                size = int(bytes(buffer[pos:newline]).split(b";", 1)[0], 16)
                pos = newline + 2
                if size == 0:
                    self.finished = True
                else:
                    self._remaining = size
        del buffer[:pos]
        return b"".join(out)


def parse_frame(frame: bytes) -> tuple[int | None, bytes | None, bytes]:
    """The id, event type and data of one SSE message (the text between blank lines)."""
    seq: int | None = None
    event: bytes | None = None
    data: list[bytes] = []
    for line in frame.split(b"\n"):
        if not line or line[:1] == b":":
            continue
        name, _, value = line.partition(b":")
        if value[:1] == b" ":
            value = value[1:]
        if name == b"id":
            seq = int(value) if value.isdigit() else None
        elif name == b"data":
            data.append(value)
        elif name == b"event":
            event = value
    return seq, event, b"\n".join(data)


class SseReader(asyncio.Protocol):
    """One GET /api/events connection: parses the response head, then every SSE message."""

    def __init__(self, request: bytes, on_frame: FrameHandler) -> None:
        self._request = request
        self._on_frame = on_frame
        self._head = bytearray()
        self._decoder: ChunkedDecoder | None = None
        self._text = bytearray()
        self._in_body = False
        self.transport: asyncio.Transport | None = None
        self.status = 0
        self.error_body = b""
        self.opened: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.ended: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        # A failure nobody awaits any more (the opener timed out) is not worth a warning.
        self.opened.add_done_callback(lambda f: f.cancelled() or f.exception())
        self.sent_at = 0.0
        self.frames = 0
        self.heartbeats = 0
        self.last_heartbeat_at = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio.Transport, but behave as one.
        self.transport = cast(asyncio.Transport, transport)
        self.sent_at = time.monotonic()
        self.transport.write(self._request)

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        if not self._in_body:
            self._head += data
            end = self._head.find(b"\r\n\r\n")
            if end < 0:
                return
            status, headers, _ = parse_head(bytes(self._head[: end + 4]))
            data = bytes(self._head[end + 4 :])
            self._head.clear()
            self._in_body = True
            self.status = status
            if headers.get("transfer-encoding", "").lower() == "chunked":
                self._decoder = ChunkedDecoder()
            if status != 200:
                self.error_body = data
                self._resolve_opened()
                self.close()
                return
            self._resolve_opened()
        payload = self._decoder.feed(data) if self._decoder is not None else data
        if not payload:
            return
        text = self._text
        text += payload
        if b"\r" in payload:
            text[:] = text.replace(b"\r\n", b"\n")
        start = 0
        while True:
            end = text.find(b"\n\n", start)
            if end < 0:
                break
            seq, event, body = parse_frame(bytes(text[start:end]))
            start = end + 2
            if event == b"heartbeat":
                self.heartbeats += 1
                self.last_heartbeat_at = now
            elif seq is not None:
                self.frames += 1
            self._on_frame(seq, event, body, now)
        del text[:start]

    def _resolve_opened(self) -> None:
        if not self.opened.done():
            self.opened.set_result(self.status)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(
                HttpError(f"stream connection lost before a response: {exc!r}")
            )
        if not self.ended.done():
            self.ended.set_result(repr(exc) if exc else "closed")

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()

    @property
    def is_open(self) -> bool:
        return self.status == 200 and not self.ended.done()


async def open_stream(
    host: str,
    port: int,
    path: str,
    on_frame: FrameHandler,
    *,
    cookie: str | None = None,
    limit_seconds: float = 30.0,
) -> SseReader:
    """Connect and wait for the response head. Raises HttpError for any status but 200."""
    request = build_request(
        "GET", path, f"{host}:{port}", cookie=cookie, extra_headers={"Accept": "text/event-stream"}
    )
    loop = asyncio.get_running_loop()
    reader = SseReader(request, on_frame)
    try:
        async with asyncio.timeout(limit_seconds):
            await loop.create_connection(lambda: reader, host, port)
            status = await reader.opened
    except BaseException:
        reader.close()
        raise
    if status != 200:
        raise HttpError(f"GET {path} answered {status}: {reader.error_body[:200]!r}")
    return reader


def ignore_frame(seq: int | None, event: bytes | None, data: bytes, at: float) -> None:
    """A FrameHandler for streams whose messages are only counted (idle streams)."""
    del seq, event, data, at
