"""`parlour serve` and `parlour backup`: flags and environment → Config, then run."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import socket
import struct
import sys
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from parlour import __version__
from parlour.app import create_app
from parlour.config import Config, format_duration, parse_duration
from parlour.errors import StartupRefused, StorageError
from parlour.http.sse import ABORT_EXTENSION
from parlour.store import backup_database, copy_to_postgres, is_postgres_url

log = logging.getLogger("parlour")

USAGE_ERROR = 2
STARTUP_ERROR = 1
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

DEFAULTS = Config()


class Parser(argparse.ArgumentParser):
    """Reports a usage error as one line on stderr and exit status 2 (no usage dump)."""

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE_ERROR, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _env(name: str) -> str:
    return "PARLOUR_" + name.upper().replace("-", "_")


def _port(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise ValueError
    return int(text)


_port.__name__ = "port number (0-65535)"


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise ValueError
    return int(text)


_positive_int.__name__ = "whole number of at least 1"


def _duration(text: str) -> timedelta:
    try:
        return parse_duration(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from e


def _flag(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise argparse.ArgumentTypeError(f"{text!r} is not on/off (use 1/0, true/false, yes/no)")


def _add(
    parser: argparse.ArgumentParser,
    name: str,
    kind: Callable[[str], Any],
    default: str,
    help_text: str,
    metavar: str,
) -> None:
    env = _env(name)
    parser.add_argument(
        f"--{name}",
        type=kind,
        default=os.environ.get(env, default),
        metavar=metavar,
        help=f"{help_text} (env {env}; default {default})",
    )


def _database_option(parser: argparse.ArgumentParser, help_text: str) -> None:
    _add(parser, "database", str, DEFAULTS.database, help_text, "PATH-or-URL")


def build_parser() -> Parser:
    parser = Parser(prog="parlour", description="A small self-hosted group-chat server.")
    parser.add_argument("--version", action="version", version=f"parlour {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    serve = commands.add_parser(
        "serve",
        help="run the server",
        description="Run the parlour server. Every flag can also be set by an environment "
        "variable. Durations are whole numbers with s, m, h or d (e.g. 30s, 90d).",
    )
    _database_option(
        serve,
        "the SQLite database file, created if missing; a postgresql:// URL selects PostgreSQL",
    )
    _add(serve, "address", str, DEFAULTS.address, "the address to listen on", "ADDRESS")
    _add(serve, "port", _port, str(DEFAULTS.port), "the TCP port (0: any free port)", "PORT")
    for name, default, what in (
        ("message-expiry", DEFAULTS.message_expiry, "messages are deleted this long after sending"),
        ("channel-expiry", DEFAULTS.channel_expiry,
         "an empty channel is deleted once idle this long"),
        ("invite-expiry", DEFAULTS.invite_expiry, "invitations expire this long after issue"),
        ("session-expiry", DEFAULTS.session_expiry, "a session ends after this long unused"),
        ("heartbeat", DEFAULTS.heartbeat, "event streams hear a heartbeat after this silence"),
        ("expiry-interval", DEFAULTS.expiry_interval, "how often expired things are removed"),
        ("login-window", DEFAULTS.login_window, "failed logins are counted over this window"),
    ):  # fmt: skip
        _add(serve, name, _duration, format_duration(default), what, "DURATION")
    _add(
        serve,
        "login-failures",
        _positive_int,
        str(DEFAULTS.login_failures),
        "failed logins for one name within the window before logins for it get 429",
        "N",
    )
    env = _env("behind-https")
    serve.add_argument(
        "--behind-https",
        type=_flag,
        nargs="?",
        const=True,
        default=os.environ.get(env, "off"),
        metavar="on|off",
        help="the server is reached through HTTPS (a proxy): mark the cookie Secure "
        f"(env {env}; default off)",
    )

    move = commands.add_parser(
        "migrate-to-postgres",
        help="copy a SQLite community into an empty PostgreSQL database",
        description="Copy every user, session, invitation, channel and message, with their "
        "ids and sequence numbers, from the SQLite database into an empty PostgreSQL "
        "database. Stop the server first: changes made during the copy would not be copied.",
    )
    _database_option(move, "the SQLite database file to copy from")
    move.add_argument("url", metavar="URL", help="the PostgreSQL database (postgresql://…)")

    backup = commands.add_parser(
        "backup",
        help="write an online backup of the database",
        description="Write a consistent copy of a (possibly running) server's database to DEST.",
    )
    _database_option(backup, "the SQLite database file of the server to back up")
    backup.add_argument("dest", metavar="DEST", help="where to write the backup (replaced)")
    return parser


def config_from(args: argparse.Namespace, parser: Parser) -> Config:
    config = Config(
        database=args.database,
        address=args.address,
        port=args.port,
        message_expiry=args.message_expiry,
        channel_expiry=args.channel_expiry,
        invite_expiry=args.invite_expiry,
        session_expiry=args.session_expiry,
        heartbeat=args.heartbeat,
        expiry_interval=args.expiry_interval,
        behind_https=args.behind_https,
        login_failures=args.login_failures,
        login_window=args.login_window,
    )
    check_database_location(config.database, parser)
    return config


def check_database_location(database: str, parser: Parser) -> None:
    if is_postgres_url(database):
        return
    path = Path(database)
    folder = path.parent
    if not folder.is_dir():
        parser.error(f"argument --database: the folder {folder} does not exist")
    if path.is_dir():
        parser.error(f"argument --database: {path} is a folder, not a file")
    if not os.access(folder, os.W_OK | os.X_OK):
        parser.error(f"argument --database: the folder {folder} is not writable")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "backup":
        return run_backup(args, parser)
    if args.command == "migrate-to-postgres":
        return run_migrate_to_postgres(args, parser)
    config = config_from(args, parser)
    try:
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            return runner.run(serve(config))
    except StartupRefused as e:
        print(f"parlour: {e}", file=sys.stderr)  # noqa: T201
        return STARTUP_ERROR
    except KeyboardInterrupt:
        return 0


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency except on Windows
        return None
    return uvloop.new_event_loop


def run_backup(args: argparse.Namespace, parser: Parser) -> int:
    source, dest = args.database, Path(args.dest)
    if is_postgres_url(source):
        parser.error("back up a PostgreSQL database with pg_dump (see docs/operations.md)")
    if not Path(source).is_file():
        print(f"parlour: no database at {source} (check --database)", file=sys.stderr)  # noqa: T201
        return STARTUP_ERROR
    if dest.exists() and dest.resolve() == Path(source).resolve():
        parser.error("DEST is the database itself; choose another file")
    if not dest.parent.is_dir():
        parser.error(f"the folder {dest.parent} for DEST does not exist")
    try:
        backup_database(source, dest)
    except StorageError as e:
        print(f"parlour: {e}", file=sys.stderr)  # noqa: T201
        return STARTUP_ERROR
    print(f"parlour: backup of {source} written to {dest}")  # noqa: T201
    return 0


def run_migrate_to_postgres(args: argparse.Namespace, parser: Parser) -> int:
    if not is_postgres_url(args.url):
        parser.error(f"URL must be a postgresql:// URL, not {args.url!r}")
    if is_postgres_url(args.database):
        parser.error("--database must name the SQLite file to copy from")
    try:
        copied = copy_to_postgres(args.database, args.url)
    except StartupRefused as e:
        print(f"parlour: {e}", file=sys.stderr)  # noqa: T201
        return STARTUP_ERROR
    rows = ", ".join(f"{count} {table}" for table, count in copied.rows.items())
    print(f"parlour: copied {rows}; the sequence continues from {copied.seq}")  # noqa: T201
    return 0


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
    """uvicorn's HTTP/1.1 protocol, plus a deadline for request heads and a way to abort.

    The deadline runs from the connection's start, and again from each complete answer,
    until the next request's head is complete; a long answer (an event stream) is not
    bounded by it. The app may abort its connection through the scope extension
    ABORT_EXTENSION (see http/sse.py). uvicorn's hooks are overridden, not patched; its
    version is pinned.
    """

    _head_deadline: asyncio.TimerHandle | None = None

    # Narrower than asyncio.Protocol's BaseTransport, exactly as uvicorn's own override is.
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_head()

    def on_headers_complete(self) -> None:
        self._head_arrived()
        # Before super(), which hands the scope to the app.
        extensions = self.scope.setdefault("extensions", {})
        extensions[ABORT_EXTENSION] = {"abort": self._abort}
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # A pipelined request already has its head; a closing connection needs none.
        if not self.pipeline and not self.transport.is_closing():
            self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._head_arrived()
        super().connection_lost(exc)

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
        ),
        on_exit=lambda: _call_soon(loop, running.begin_shutdown),
    )
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    print(f"parlour: listening on http://{shown}:{port}", flush=True)  # noqa: T201
    running.start_background()
    # uvicorn re-raises the signal that stopped it once it has restored the handlers it
    # found; ignoring those here lets a graceful shutdown exit with status 0.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _ignore)
    try:
        await server.serve(sockets=[sock])
    finally:
        running.begin_shutdown()
        await running.close()
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
    when it drops a stream whose reader stopped reading (SPEC guarantee 6)."""

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
