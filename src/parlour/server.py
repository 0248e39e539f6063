"""Running parlour's app on uvicorn: the server and protocol, signals, logging, `serve`.

`parlour serve` (cli.py) parses its flags into a Config and hands it here. uvicorn's HTTP
protocol is subclassed, not patched, for what uvicorn does not offer: a deadline and a size
limit for request heads, problem documents for requests it cannot parse, and a way for a
stream to abort its connection (see docs/architecture.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import signal
import socket
import struct
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

import httptools
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

from parlour.app import create_app
from parlour.config import TEST_CHEAP_HASHES_ENV, Config
from parlour.errors import StartupRefused
from parlour.http.errors import (
    HeadTooLarge,
    HttpProblem,
    UnknownMethod,
    UnparsableRequest,
    raw_answer,
)
from parlour.http.sse import ABORT_EXTENSION, WRITE_EXTENSION

log = logging.getLogger("parlour")

# Streams end at once on shutdown and requests take milliseconds, so this only bounds the
# wait for connections that cannot close (a stream whose reader stopped reading, not yet
# dropped, cannot flush its unsent bytes). Writes already queued are committed by the
# store's close() whatever happens here.
GRACEFUL_SHUTDOWN_SECONDS = 3
# A client must send a whole request head within this long of connecting (or of the answer
# to its previous request). uvicorn bounds only a connection idle between requests, so one
# that sends nothing, or trickles its head a byte at a time (slowloris), would otherwise hold
# its connection for ever (issue 6). Ten seconds is plenty for a head of a few kilobytes.
REQUEST_HEAD_SECONDS = 10
# The most a request head (request line and headers, up to the blank line) may take
# (docs/api/index.md). httptools buffers a header whole before handing it over, so without a
# limit one 64 MiB header was read into memory, and eight of them took 530 MB (issue 10).
# 64 KiB holds any cookie and URL parlour gives out, many times over.
HEAD_LIMIT_BYTES = 64 * 1024
# The exit status when the store can no longer write (docs/operations.md): not 0, so that a
# supervisor restarts the process.
FATAL_EXIT = 1


def run(config: Config) -> int:
    """Serve until a shutdown signal, on uvloop where it is installed; the exit status.

    Raises StartupRefused when the database or the address cannot be used.
    """
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        return runner.run(serve(config))


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency except on Windows
        return None
    return uvloop.new_event_loop


class ParlourServer(uvicorn.Server):
    """uvicorn's server, telling parlour when a shutdown signal arrives.

    uvicorn runs lifespan shutdown only after every connection has closed, and event streams
    never close by themselves, so the streams must hear of the signal first.
    """

    def __init__(self, config: uvicorn.Config, on_exit: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_exit = on_exit

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        self._on_exit()


class ParlourHttpProtocol(HttpToolsProtocol):
    """uvicorn's HTTP/1.1 protocol, plus a deadline and a size limit for request heads,
    problem documents for requests it cannot parse, and a way to abort.

    The deadline runs from the connection's start, and again from each complete answer,
    until the next request's head is complete; a long answer (an event stream) is not
    bounded by it. The size limit counts every byte of a head, from the end of the previous
    request (or the connection's start) to the head's end; bytes that follow a complete
    request within one read count from the next read on, so at most one read more is ever
    buffered. The app may abort its connection through the scope extension ABORT_EXTENSION
    (see http/sse.py).

    uvicorn's hooks are overridden, not patched; pyproject.toml declares the uvicorn versions
    that have them, and tests/api/test_server.py fails loudly if one goes missing.
    """

    _head_deadline: asyncio.TimerHandle | None = None
    # Bytes of the request head being read so far; None while a body is being read.
    _head_bytes: int | None = 0
    _heads_read = 0

    # Narrower than asyncio.Protocol's BaseTransport, exactly as uvicorn's own override is.
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_head()

    def data_received(self, data: bytes) -> None:
        """Hands uvicorn's parser at most HEAD_LIMIT_BYTES of any one head; 431 beyond."""
        if self._head_bytes is None:
            super().data_received(data)
            return
        room = HEAD_LIMIT_BYTES - self._head_bytes
        if len(data) <= room:
            self._head_bytes += len(data)
            super().data_received(data)
            return
        # The head must end within `room`: feed that much, and see.
        heads_read = self._heads_read
        super().data_received(data[:room])
        if self.transport.is_closing():
            return
        if self._heads_read == heads_read:
            self._refuse(HeadTooLarge(HEAD_LIMIT_BYTES))
            return
        self.data_received(data[room:])

    def on_headers_complete(self) -> None:
        self._head_arrived()
        self._head_bytes = None
        self._heads_read += 1
        # Before super(), which hands the scope to the app.
        scope = self.scope
        extensions = scope.setdefault("extensions", {})
        extensions[ABORT_EXTENSION] = {"abort": self._abort}
        super().on_headers_complete()
        # The cycle uvicorn made for this request (none for an upgrade), whose app task has
        # not started yet: it will find the extension in its scope.
        cycle = self.cycle
        if cycle is not None and cycle.scope is scope:
            extensions[WRITE_EXTENSION] = {"write": functools.partial(write_now, cycle)}

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._head_bytes = 0  # what follows is the next request's head

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # A pipelined request already has its head; a closing connection needs none.
        if not self.pipeline and not self.transport.is_closing():
            self._await_head()

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to a request its parser refuses (it calls this from inside its
        `except HttpParserError`): a problem document, not its plain text; 501 for a method
        HTTP does not define (issue 10)."""
        error = sys.exception()
        if isinstance(error, httptools.HttpParserInvalidMethodError):
            self._refuse(UnknownMethod())
        else:
            self._refuse(UnparsableRequest(str(error or msg).rstrip(".")))

    def connection_lost(self, exc: Exception | None) -> None:
        self._head_arrived()
        super().connection_lost(exc)

    def _refuse(self, problem: HttpProblem) -> None:
        """Answer a request the app never sees, and close the connection. Only close, when
        an answer to an earlier (pipelined) request is still going out: the two would mix."""
        if self.cycle is None or self.cycle.response_complete:
            self.transport.write(raw_answer(problem, self.server_state.default_headers))
        self.transport.close()

    def _await_head(self) -> None:
        self._head_arrived()
        self._head_deadline = self.loop.call_later(REQUEST_HEAD_SECONDS, self._head_late)

    def _head_arrived(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _abort(self) -> None:
        """Drop the connection now, with the bytes still queued for it: a reset, because a
        FIN would wait behind those bytes, and the kernel would keep them for minutes."""
        sock = self.transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.transport.abort()

    def _head_late(self) -> None:
        self._head_deadline = None
        if not self.transport.is_closing():
            self.transport.close()


async def serve(config: Config) -> int:
    running = await create_app(config)
    try:
        sock = _listen(config.address, config.port)
    except OSError as e:
        await running.close()
        raise StartupRefused(f"cannot listen on {config.address}:{config.port}: {e}") from e
    loop = asyncio.get_running_loop()
    server = ParlourServer(
        uvicorn.Config(
            running.asgi,
            lifespan="off",
            http=ParlourHttpProtocol,
            ws="none",
            access_log=False,
            server_header=False,
            log_config=_log_config(),
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
            # The client's address (the login throttle counts by it) is the peer's, or the one
            # a proxy listed in --trusted-proxies reports in X-Forwarded-For: uvicorn's
            # ProxyHeadersMiddleware puts it in the scope. uvicorn's own default believes
            # 127.0.0.1 and ::1 (or $FORWARDED_ALLOW_IPS), so with no trusted proxy it is
            # switched off, and the header is ignored from everyone.
            proxy_headers=bool(config.trusted_proxies),
            forwarded_allow_ips=list(config.trusted_proxies),
        ),
        on_exit=lambda: _call_soon(loop, running.begin_shutdown),
    )
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    print(f"parlour: listening on http://{shown}:{port}", flush=True)  # noqa: T201
    if config.cheap_password_hashes:
        log.warning(
            "passwords are hashed with argon2's cheapest parameters (%s=1), which makes them"
            " cheap to guess: for parlour's test suite only, never a server people use",
            TEST_CHEAP_HASHES_ENV,
        )
    running.start_background()

    def stop_serving() -> None:
        server.should_exit = True

    running.on_fatal = stop_serving
    # uvicorn re-raises the signal that stopped it once it has restored the handlers it
    # found; ignoring those here lets a graceful shutdown exit with status 0.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _ignore)
    try:
        await server.serve(sockets=[sock])
    finally:
        running.begin_shutdown()
        await running.close()
    if running.fatal is not None:
        # A supervisor (systemd's Restart=on-failure) starts a fresh process.
        log.critical("parlour stopped: %s", running.fatal)
        return FATAL_EXIT
    log.info("parlour stopped cleanly")
    return 0


def _call_soon(loop: asyncio.AbstractEventLoop, fn: Callable[[], None]) -> None:
    loop.call_soon_threadsafe(fn)


def _ignore(sig: int, frame: FrameType | None) -> None:
    del sig, frame


def _listen(address: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.create_server((address, port), family=family, backlog=2048)
    sock.set_inheritable(True)
    return sock


class _DropAbandonedStreamNotice(logging.Filter):
    """uvicorn reports a response left incomplete as an error; parlour does that on purpose
    when it drops a stream whose reader stopped reading (docs/api/events.md, guarantee 6),
    and after an unexpected error mid-answer, which http/errors.py has logged already."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != "ASGI callable returned without completing response."


def _log_config() -> dict[str, Any]:
    config: dict[str, Any] = {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"abandoned": {"()": _DropAbandonedStreamNotice}},
        "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "plain",
                "filters": ["abandoned"],
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
            "parlour": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        },
    }
    return config


def write_now(cycle: RequestResponseCycle, data: bytes) -> bool:
    """Writes `data` as one chunk of a started, chunked response's body, if the connection
    takes it without waiting; False if it cannot (its writing is paused because the reader is
    slow, or it is closing, or the response is not chunked or is over): the caller then sends
    it through ASGI, which waits. What uvicorn's own `send` does for a body chunk, less the
    wait (ParlourHttpProtocol's docstring says how its hooks are kept honest)."""
    if (
        cycle.disconnected
        or cycle.flow.write_paused
        or not cycle.response_started
        or cycle.response_complete
        or cycle.chunked_encoding is not True
        or cycle.transport.is_closing()
    ):
        return False
    cycle.transport.write(b"%x\r\n%b\r\n" % (len(data), data))
    return True
