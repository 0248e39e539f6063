"""The server layer: what parlour.server's uvicorn protocol and the app's outer boundary do.

Most of these talk raw HTTP/1.1 over a socket, to say exactly what goes on the wire.

Regressions (issue 10):
* an unexpected error was logged twice, with two tracebacks: by the app's handler, which ran
  inside Starlette's error middleware, and again by uvicorn, to which that middleware
  re-raised it.
* request heads had no size limit: one 64 MiB header was read whole, and eight at once grew
  the process by half a gigabyte, before any login.
* what uvicorn answered itself (an unknown method, raw bytes in the path, a URL over 64 KiB,
  a request cut off by shutdown) was plain text without the headers every answer carries.
* HEAD /api/events never finished: the stream ran on with its body discarded, and the
  connection could serve nothing else.
* an HTTP/1.0 request for the stream got a chunked answer, which HTTP/1.0 cannot read.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import inspect
import logging
import re
import signal
import socket
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
import uvicorn
from packaging.requirements import Requirement
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle
from uvicorn.server import ServerState

from conftest import ServerProcess
from parlour.app import create_app
from parlour.config import Config
from parlour.server import HEAD_LIMIT_BYTES, ParlourHttpProtocol, ParlourServer
from parlour_client import assert_problem
from raw_http import connect, exchange, read_answer, read_head


class Records(logging.Handler):
    """Every record logged under the loggers it is attached to."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def fail(request: Request) -> Response:
    raise RuntimeError("a bug in a handler")


@asynccontextmanager
async def uvicorn_serving(database: Path) -> AsyncIterator[str]:
    """parlour's app, plus a route that fails, on uvicorn with parlour's protocol, in this
    process (so the test can add the route and watch uvicorn's own logging); its URL."""
    running = await create_app(Config(database=str(database)))
    cast(Starlette, running.asgi.app).router.routes.insert(0, Route("/fail", fail))
    server = uvicorn.Server(
        uvicorn.Config(
            running.asgi,
            http=ParlourHttpProtocol,
            lifespan="off",
            ws="none",
            access_log=False,
            log_config=None,  # leave this process's logging alone; Records is attached
        )
    )
    sock = socket.create_server(("127.0.0.1", 0))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            assert not task.done(), "uvicorn did not start"
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        await running.close()
        sock.close()


@pytest.mark.sqlite_only
def test_an_unexpected_error_is_logged_once_and_answered_with_one_500_problem(
    tmp_path: Path,
) -> None:
    records = Records()
    loggers = [logging.getLogger("parlour"), logging.getLogger("uvicorn")]
    for logger in loggers:
        logger.addHandler(records)

    async def scenario() -> tuple[httpx.Response, httpx.Response]:
        async with (
            uvicorn_serving(tmp_path / "parlour.db") as url,
            httpx.AsyncClient(base_url=url) as client,
        ):
            failed = await client.get("/fail")
            after = await client.get("/api/openapi.json")
            return failed, after

    try:
        failed, after = asyncio.run(scenario())
    finally:
        for logger in loggers:
            logger.removeHandler(records)
    body = assert_problem(failed, 500)
    assert "a bug" not in body["detail"], "the client learns nothing of the server's code"
    assert failed.headers["x-content-type-options"] == "nosniff"
    assert after.status_code == 200, "the server goes on serving"
    tracebacks = [r for r in records.records if r.exc_info is not None]
    assert len(tracebacks) == 1, [f"{r.name}: {r.getMessage()}" for r in tracebacks]
    errors = [r for r in records.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, [f"{r.name}: {r.getMessage()}" for r in errors]
    assert tracebacks[0].name.startswith("parlour")


# --- raw HTTP ------------------------------------------------------------------------------


def get_with_headers(path: str, headers: list[tuple[str, str]]) -> bytes:
    lines = [f"GET {path} HTTP/1.1", "Host: parlour.test", *(f"{n}: {v}" for n, v in headers)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def padded_get(head_bytes: int) -> bytes:
    """A GET whose head (request line to blank line) is exactly `head_bytes` long."""
    bare = len(get_with_headers("/api/openapi.json", [("X-Pad", "")]))
    return get_with_headers("/api/openapi.json", [("X-Pad", "p" * (head_bytes - bare))])


# --- the request head's size -----------------------------------------------------------------


def test_a_head_of_60_kib_is_served(unset_server: ServerProcess) -> None:
    one_header = get_with_headers("/api/openapi.json", [("X-Big", "b" * 60 * 1024)])
    assert exchange(unset_server.url, one_header).status == 200
    many = [(f"X-Small-{i}", "s" * 600) for i in range(100)]
    assert exchange(unset_server.url, get_with_headers("/api/openapi.json", many)).status == 200


def test_a_header_of_65_kib_gets_431_and_the_connection_closes(
    unset_server: ServerProcess,
) -> None:
    request = get_with_headers("/", [("X-Big", "b" * 65 * 1024)])
    answer = exchange(unset_server.url, request, then_closed=True)
    answer.problem(431)
    assert answer.closed


def test_many_headers_summing_over_64_kib_get_431(unset_server: ServerProcess) -> None:
    many = [(f"X-Small-{i}", "s" * 700) for i in range(100)]
    answer = exchange(unset_server.url, get_with_headers("/", many), then_closed=True)
    answer.problem(431)
    assert answer.closed


def test_the_limit_is_64_kib_to_the_byte_for_request_line_and_headers(
    unset_server: ServerProcess,
) -> None:
    assert len(padded_get(HEAD_LIMIT_BYTES)) == HEAD_LIMIT_BYTES == 65_536
    assert exchange(unset_server.url, padded_get(HEAD_LIMIT_BYTES)).status == 200
    exchange(unset_server.url, padded_get(HEAD_LIMIT_BYTES + 1)).problem(431)


def test_a_url_over_64_kib_gets_431(unset_server: ServerProcess) -> None:
    path = "/api/openapi.json?q=" + "u" * 66_000
    exchange(unset_server.url, get_with_headers(path, [])).problem(431)


def test_a_head_trickled_in_small_pieces_counts_all_its_bytes(
    unset_server: ServerProcess,
) -> None:
    request = get_with_headers("/", [(f"X-Small-{i}", "s" * 700) for i in range(100)])
    with connect(unset_server.url) as sock:
        for start in range(0, len(request), 4096):
            try:
                sock.sendall(request[start : start + 4096])
            except (BrokenPipeError, ConnectionResetError):
                break
            time.sleep(0.001)
        read_answer(sock).problem(431)


def test_a_second_request_on_a_connection_has_a_limit_of_its_own(
    unset_server: ServerProcess,
) -> None:
    with connect(unset_server.url) as sock:
        sock.sendall(padded_get(60 * 1024))
        assert read_answer(sock).status == 200
        sock.sendall(padded_get(60 * 1024))
        assert read_answer(sock).status == 200
        sock.sendall(padded_get(HEAD_LIMIT_BYTES + 1))
        answer = read_answer(sock, then_closed=True)
    answer.problem(431)
    assert answer.closed


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def send_huge_header(server: ServerProcess, size: int) -> None:
    """Send one header of `size` bytes (the server may hang up long before the end)."""
    piece = b"h" * (1024 * 1024)
    with connect(server.url) as sock, suppress(OSError):
        sock.sendall(b"GET / HTTP/1.1\r\nHost: parlour.test\r\nX-Huge: ")
        for _ in range(size // len(piece)):
            sock.sendall(piece)


def test_huge_headers_sent_at_once_do_not_grow_the_server(unset_server: ServerProcess) -> None:
    assert unset_server.proc is not None
    before = rss_bytes(unset_server.proc.pid)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: send_huge_header(unset_server, 32 * 1024 * 1024), range(8)))
    grown = rss_bytes(unset_server.proc.pid) - before
    assert grown < 32 * 1024 * 1024, f"the server grew by {grown / 2**20:.0f} MiB"
    assert exchange(unset_server.url, get_with_headers("/api/openapi.json", [])).status == 200


# --- Content-Length --------------------------------------------------------------------------


def post_setup_with_length(declared: str, body: bytes = b"{}") -> bytes:
    return (
        b"POST /api/setup HTTP/1.1\r\nHost: parlour.test\r\n"
        b"Content-Type: application/json\r\nContent-Length: %s\r\n\r\n%s"
        % (declared.encode(), body)
    )


@pytest.mark.parametrize(
    "declared",
    ["0" * 4400 + "2", "18446744073709551615", "9" * 25],
    ids=["4401-digits", "2^64-1", "overflows-64-bits"],
)
def test_a_content_length_of_too_many_digits_answers_400(
    unset_server: ServerProcess, declared: str
) -> None:
    """Regression (issue 10): int() of over 4,300 digits raised ValueError: a 500."""
    exchange(unset_server.url, post_setup_with_length(declared), then_closed=True).problem(400)


def test_a_content_length_over_the_body_limit_answers_413(unset_server: ServerProcess) -> None:
    exchange(unset_server.url, post_setup_with_length(str(2**63 - 1))).problem(413)


# --- requests uvicorn's parser refuses -------------------------------------------------------


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET /\xff\x01 HTTP/1.1\r\nHost: parlour.test\r\n\r\n",
        b"GET / HTTP/1.1\r\nHo st: parlour.test\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: parlour.test\r\nContent-Length: 1x\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
    ],
    ids=["raw-bytes-in-path", "space-in-header-name", "bad-content-length", "tls-hello"],
)
def test_a_request_that_cannot_be_parsed_gets_a_400_problem(
    unset_server: ServerProcess, request_bytes: bytes
) -> None:
    answer = exchange(unset_server.url, request_bytes, then_closed=True)
    if answer.status == 501:  # a TLS hello, say, fails on its first byte: the method
        answer.problem(501)
    else:
        answer.problem(400)
    assert answer.closed


def test_an_unknown_method_gets_a_501_problem(unset_server: ServerProcess) -> None:
    request = b"FROBNICATE /api/boot HTTP/1.1\r\nHost: parlour.test\r\n\r\n"
    answer = exchange(unset_server.url, request, then_closed=True)
    assert "GET" in answer.problem(501)["detail"]
    assert answer.closed
    r = httpx.request("FROBNICATE", unset_server.url + "/api/boot")
    assert_problem(r, 501)


# --- the event stream over HTTP ------------------------------------------------------------


def member_cookie(server: ServerProcess) -> str:
    return f"identity={server.set_up().token}"


def test_head_on_the_event_stream_answers_its_headers_and_ends(start_server: Any) -> None:
    server: ServerProcess = start_server()
    cookie = member_cookie(server)
    with connect(server.url) as sock:
        sock.settimeout(5)
        sock.sendall(
            b"HEAD /api/events?resume_point=0 HTTP/1.1\r\nHost: parlour.test\r\n"
            b"Cookie: %s\r\n\r\n" % cookie.encode()
        )
        status, head, rest = read_head(sock)
        assert status == 200
        assert rest == b""
        # The connection is free again: the next request on it is answered.
        sock.sendall(b"GET /api/openapi.json HTTP/1.1\r\nHost: parlour.test\r\n\r\n")
        assert read_answer(sock).status == 200
    with httpx.Client(base_url=server.url, headers={"Cookie": cookie}) as client:
        with client.stream("GET", "/api/events", params={"resume_point": 0}) as stream:
            get = dict(stream.headers)
        for varying in ("date", "transfer-encoding"):
            get.pop(varying, None)
            head.pop(varying, None)
        assert head == get


def test_an_http_1_0_request_for_the_stream_gets_a_505_it_can_read(start_server: Any) -> None:
    server: ServerProcess = start_server()
    cookie = member_cookie(server)
    for credentials in (b"Cookie: %s\r\n" % cookie.encode(), b""):
        answer = exchange(
            server.url, b"GET /api/events?resume_point=0 HTTP/1.0\r\n%s\r\n" % credentials
        )
        assert "transfer-encoding" not in answer.headers
        assert "HTTP/1.1" in answer.problem(505)["detail"]
    # The rest of the API answers HTTP/1.0 as ever, with a length and no chunks.
    answer = exchange(server.url, b"GET /api/openapi.json HTTP/1.0\r\n\r\n", then_closed=True)
    assert answer.status == 200
    assert answer.closed
    assert "transfer-encoding" not in answer.headers


# --- shutdown --------------------------------------------------------------------------------


def test_a_request_cut_off_by_shutdown_gets_a_503_problem(start_server: Any) -> None:
    """A body that never finishes holds its request past the graceful shutdown (3 s), when
    uvicorn cancels it: the client still gets a problem document, not plain text."""
    server: ServerProcess = start_server()
    with connect(server.url) as sock:
        sock.sendall(
            b"POST /api/setup HTTP/1.1\r\nHost: parlour.test\r\n"
            b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
        )
        time.sleep(0.5)
        assert server.proc is not None
        server.proc.send_signal(signal.SIGTERM)
        read_answer(sock).problem(503)
    assert server.stop() == 0


# --- uvicorn's internals that parlour.server relies on -----------------------------------------

# ParlourHttpProtocol overrides these hooks of uvicorn's HttpToolsProtocol...
OVERRIDDEN_HOOKS = [
    "connection_made",
    "data_received",
    "on_headers_complete",
    "on_message_complete",
    "on_response_complete",
    "send_400_response",
    "connection_lost",
]
# ...and reads these attributes of it (and `response_complete` of its current cycle).
USED_ATTRIBUTES = ["loop", "transport", "pipeline", "scope", "cycle", "server_state"]
# parlour.server.write_now reads these of a RequestResponseCycle, and writes the chunk as
# uvicorn's own send() does.
CYCLE_ATTRIBUTES = [
    "disconnected", "flow", "response_started", "response_complete", "chunked_encoding",
    "transport", "scope",
]  # fmt: skip


def test_the_installed_uvicorn_is_in_the_range_pyproject_declares() -> None:
    """The range in pyproject.toml's dependencies is what a plain `pip install` honours."""
    declared = [
        Requirement(r) for r in importlib.metadata.requires("parlour") or [] if "uvicorn" in r
    ]
    assert len(declared) == 1, declared
    assert declared[0].specifier, "uvicorn needs a version range: parlour.server subclasses it"
    assert declared[0].specifier.contains(uvicorn.__version__), uvicorn.__version__


def test_the_uvicorn_hooks_parlour_overrides_are_all_there() -> None:
    """Fails loudly, naming the hook, when a uvicorn upgrade drops or reshapes one."""
    for name in OVERRIDDEN_HOOKS:
        theirs = getattr(HttpToolsProtocol, name, None)
        assert callable(theirs), f"uvicorn's HttpToolsProtocol has no {name}()"
        ours = getattr(ParlourHttpProtocol, name)
        assert ours is not theirs, f"ParlourHttpProtocol no longer overrides {name}()"
        assert list(inspect.signature(ours).parameters) == list(
            inspect.signature(theirs).parameters
        ), f"uvicorn's {name}() takes other parameters now"
    # send_400_response reads the parser's error from inside data_received's except clause.
    receiving = inspect.getsource(HttpToolsProtocol.data_received)
    assert "except httptools.HttpParserError" in receiving
    assert "self.send_400_response(" in receiving
    cycle_init = inspect.getsource(RequestResponseCycle.__init__)
    assert "self.response_complete = False" in cycle_init
    for attribute in CYCLE_ATTRIBUTES:
        assert re.search(rf"self\.{attribute}(: [^=]+)? = ", cycle_init), attribute
    sending = inspect.getsource(RequestResponseCycle.send)
    assert "self.flow.write_paused" in sending
    assert 'content = [b"%x\\r\\n" % len(body), body, b"\\r\\n"]' in sending
    assert list(inspect.signature(uvicorn.Server.handle_exit).parameters) == list(
        inspect.signature(ParlourServer.handle_exit).parameters
    )

    async def build() -> HttpToolsProtocol:
        config = uvicorn.Config(lambda *_: None, http=ParlourHttpProtocol, log_config=None)
        config.load()
        return ParlourHttpProtocol(config=config, server_state=ServerState(), app_state={})

    protocol = asyncio.run(build())
    for attribute in USED_ATTRIBUTES:
        assert hasattr(protocol, attribute), f"uvicorn's HttpToolsProtocol has no {attribute}"
    assert isinstance(protocol.server_state.default_headers, list)
