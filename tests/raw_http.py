"""HTTP/1.1 over a plain socket, for tests that must say exactly what goes on the wire.

httpx cannot send a malformed request, trickle a head byte by byte, or show whether the server
closed the connection after an answer; these helpers can. Everything else talks to the server
through tests/parlour_client.py.
"""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from parlour.http.headers import SECURITY_HEADERS

READ_SECONDS = 10.0


def address_of(url: str) -> tuple[str, int]:
    """The host and port of a server's URL."""
    parts = urlsplit(url)
    assert parts.hostname is not None
    assert parts.port is not None
    return parts.hostname, parts.port


def connect(url: str, timeout: float = READ_SECONDS) -> socket.socket:
    return socket.create_connection(address_of(url), timeout=timeout)


def read_head(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """An answer's status and (lower-cased) headers, and whatever arrived after them."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"the connection closed before an answer: {data!r}"
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {n.strip().lower(): v.strip() for n, _, v in (h.partition(":") for h in lines)}
    return int(status_line.split()[1]), headers, rest


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    closed: bool
    """Whether the server closed the connection after answering (when asked to look)."""

    def problem(self, status: int) -> dict[str, Any]:
        """Assert a problem document with this status and the headers every answer has
        (docs/api/errors.md); return it."""
        assert self.status == status, (self.status, self.headers, self.body[:300])
        assert self.headers["content-type"] == "application/problem+json", self.headers
        assert self.headers["cache-control"] == "no-store", self.headers
        for name, value in SECURITY_HEADERS:
            assert self.headers[name.decode()] == value.decode(), name
        assert int(self.headers["content-length"]) == len(self.body)
        document: dict[str, Any] = json.loads(self.body)
        assert document["status"] == status
        assert document["type"] == "about:blank"
        assert document["title"].strip()
        assert document["detail"].strip()
        return document


def read_answer(sock: socket.socket, then_closed: bool = False) -> Answer:
    """One answer with a Content-Length body; with `then_closed`, wait to see whether the
    server closes the connection after it (a connection kept open is used again instead)."""
    status, headers, body = read_head(sock)
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "the connection closed mid-body"
        body += chunk
    closed = False
    if then_closed:
        try:
            closed = sock.recv(1) == b""
        except TimeoutError:
            closed = False
        except ConnectionResetError:
            closed = True
    return Answer(status, headers, body[:length], closed)


def exchange(url: str, request: bytes, then_closed: bool = False) -> Answer:
    """Send one request on a new connection and read its answer (see read_answer)."""
    with connect(url) as sock:
        sock.sendall(request)
        return read_answer(sock, then_closed)
