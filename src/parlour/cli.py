"""The command line: flags and environment → Config, then the command (parlour.server runs
`serve`; `backup` and `migrate-to-postgres` call the store)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, NoReturn

from parlour import __version__
from parlour.app import make_reset_link
from parlour.config import (
    TEST_CHEAP_HASHES_ENV,
    Config,
    check_push_contact,
    format_duration,
    parse_duration,
    parse_trusted_proxies,
)
from parlour.errors import ParlourError, StartupRefused, StorageError
from parlour.model import format_time
from parlour.server import run
from parlour.store import backup_database, copy_to_postgres, is_postgres_url

USAGE_ERROR = 2
STARTUP_ERROR = 1
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


def _trusted_proxies(text: str) -> tuple[str, ...]:
    try:
        return parse_trusted_proxies(text)
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
        "who-can-invite",
        _who_can_invite,
        DEFAULTS.who_can_invite,
        "who may invite people: members (every active user) or admins",
        "members|admins",
    )
    _add(
        serve,
        "login-failures",
        _positive_int,
        str(DEFAULTS.login_failures),
        "failed logins for one name from one address within the window before that "
        "address gets 429 for that name",
        "N",
    )
    _add(
        serve,
        "login-address-failures",
        _positive_int,
        str(DEFAULTS.login_address_failures),
        "failed logins from one address, for any names, within the window before every "
        "login from it gets 429",
        "N",
    )
    env = _env("trusted-proxies")
    serve.add_argument(
        "--trusted-proxies",
        type=_trusted_proxies,
        default=os.environ.get(env, ""),
        metavar="ADDRESSES",
        help="comma-separated addresses or networks of reverse proxies whose X-Forwarded-For "
        "names the client (for the login throttle); from anyone else it is ignored "
        f"(env {env}; default none)",
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
    env = _env("push")
    serve.add_argument(
        "--push",
        type=_flag,
        nargs="?",
        const=True,
        default=os.environ.get(env, "on"),
        metavar="on|off",
        help=f"send Web Push notifications to members with no page open (env {env}; default on)",
    )
    _add(
        serve,
        "push-contact",
        _push_contact,
        DEFAULTS.push_contact,
        "your contact for push services, in every VAPID token: mailto:you@example.org or "
        "an https: URL",
        "mailto:|https:",
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

    reset = commands.add_parser(
        "reset-link",
        help="make a password-reset link for a user (the way back in for a lost password)",
        description="Create a password-reset link for the user called NAME and print its path "
        "(open it on the server's address) and when it expires. Works whether or not the "
        "server is running; it makes no event, so it is safe beside a running server. A newer "
        "link for the same user replaces older ones.",
    )
    _database_option(reset, "the database of the server (a file, or a postgresql:// URL)")
    _add(
        reset,
        "invite-expiry",
        _duration,
        format_duration(DEFAULTS.invite_expiry),
        "the link expires this long after it is made",
        "DURATION",
    )
    reset.add_argument("name", metavar="NAME", help="the user's name (any capitalisation)")

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
        who_can_invite=args.who_can_invite,
        login_failures=args.login_failures,
        login_address_failures=args.login_address_failures,
        login_window=args.login_window,
        trusted_proxies=args.trusted_proxies,
        push=args.push,
        push_contact=args.push_contact,
        cheap_password_hashes=os.environ.get(TEST_CHEAP_HASHES_ENV) == "1",
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
    if args.command == "reset-link":
        return run_reset_link(args, parser)
    config = config_from(args, parser)
    try:
        return run(config)
    except StartupRefused as e:
        print(f"parlour: {e}", file=sys.stderr)  # noqa: T201
        return STARTUP_ERROR
    except KeyboardInterrupt:
        return 0


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


def run_reset_link(args: argparse.Namespace, parser: Parser) -> int:
    if not is_postgres_url(args.database) and not Path(args.database).is_file():
        print(f"parlour: no database at {args.database} (check --database)", file=sys.stderr)  # noqa: T201
        return STARTUP_ERROR
    try:
        issued = make_reset_link(args.database, args.name, args.invite_expiry)
    except (StartupRefused, ParlourError, StorageError) as e:
        text = e.detail if isinstance(e, ParlourError) else str(e)
        print(f"parlour: {args.name!r}: {text}", file=sys.stderr)  # noqa: T201
        return STARTUP_ERROR
    link = issued.link
    print(issued.path)  # noqa: T201
    print(f"expires {format_time(link.expires_at)}")  # noqa: T201
    print(  # noqa: T201
        f"parlour: a password-reset link for {link.user.name}: open it on the server's "
        f"address (e.g. https://chat.example.org{issued.path}) before it expires",
        file=sys.stderr,
    )
    return 0


def _push_contact(text: str) -> str:
    if not check_push_contact(text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a contact push services accept: use mailto:you@example.org or "
            "an https: URL"
        )
    return text


def _who_can_invite(text: str) -> str:
    if text not in ("members", "admins"):
        raise argparse.ArgumentTypeError(f"{text!r} is neither members nor admins")
    return text


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
