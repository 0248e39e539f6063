"""The PostgreSQL engine: several parlour processes on one database.

See docs/scaling.md and docs/architecture.md. Every write transaction begins by locking the
`counter` row (`FOR UPDATE`) and holds it until it commits: writers in every process take
turns, exactly as SQLite's single writer does, so the same transaction functions are correct
on both engines, and sequences are taken and committed in one order across processes. A
transaction that made events notifies the other processes (the tail, tail.py, reads them from
the tables); one that revoked sessions notifies them too, so their streams end everywhere.
"""

from __future__ import annotations

import asyncio
import functools
import re

import psycopg
from psycopg import pq

from parlour.errors import StorageError, StorageFull
from parlour.model import Seq, SessionId
from parlour.store.database import Database
from parlour.store.engine import Connection
from parlour.store.facade import Store
from parlour.store.postgres.migrate import prepare
from parlour.store.postgres.search_sql import SEARCH
from parlour.store.postgres.tail import EVENTS_CHANNEL, REVOKED_CHANNEL, Tail
from parlour.store.records import Hooks

# `?` and `:name` (SQLite's placeholders) outside quotes; `::type` casts are left alone.
_PLACEHOLDER = re.compile(r"'[^']*'|(?<![:\w]):([A-Za-z_]\w*)|\?")


@functools.lru_cache(maxsize=512)
def to_psycopg(text: str) -> str:
    """SQLite's placeholders in psycopg's spelling: `?` → `%s`, `:name` → `%(name)s`."""

    def replace(m: re.Match[str]) -> str:
        found = m.group(0)
        if found.startswith("'"):
            return found.replace("%", "%%")
        if found == "?":
            return "%s"
        return f"%({m.group(1)})s"

    out: list[str] = []
    last = 0
    for m in _PLACEHOLDER.finditer(text):
        out.append(text[last : m.start()].replace("%", "%%"))
        out.append(replace(m))
        last = m.end()
    out.append(text[last:].replace("%", "%%"))
    return "".join(out)


class PgEngine:
    driver_errors: tuple[type[Exception], ...] = (psycopg.Error,)
    search = SEARCH

    def __init__(self, url: str) -> None:
        self.url = url

    def connect(self, *, writer: bool) -> Connection:
        # Autocommit: parlour spells out BEGIN and COMMIT itself, as it does on SQLite.
        conn: Connection = psycopg.connect(self.url, autocommit=True)
        return conn

    def sql(self, text: str) -> str:
        return to_psycopg(text)

    def begin_write(self, conn: Connection) -> tuple[Seq, Seq]:
        conn.execute("BEGIN")
        row = conn.execute(
            "SELECT seq, forgotten_seq FROM counter WHERE id = 1 FOR UPDATE"
        ).fetchone()
        return Seq(int(row[0])), Seq(int(row[1]))

    def end_write(
        self, conn: Connection, newest: Seq, made_events: bool, revoked: list[SessionId]
    ) -> None:
        seq = newest
        if made_events:
            # The notification is delivered at commit, never before, and carries only the
            # sequence: payloads are small, and the tail reads the rows themselves.
            conn.execute(
                "UPDATE counter SET seq = %(seq)s WHERE id = 1"
                " RETURNING pg_notify(%(channel)s, %(seq)s::text)",
                {"seq": seq, "channel": EVENTS_CHANNEL},
            )
        for session in revoked:
            # Other processes end its streams once they have published up to `newest`.
            conn.execute("SELECT pg_notify(%s, %s)", (REVOKED_CHANNEL, f"{newest}:{session}"))
        conn.execute("COMMIT")

    def begin_read(self, conn: Connection) -> None:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")

    def in_transaction(self, conn: Connection) -> bool:
        return (
            isinstance(conn, psycopg.Connection)
            and conn.info.transaction_status == pq.TransactionStatus.INTRANS
        )

    def is_usable(self, conn: Connection) -> bool:
        if not isinstance(conn, psycopg.Connection):
            return False
        return not conn.closed and conn.pgconn.status == pq.ConnStatus.OK

    def storage_error(self, error: Exception) -> StorageError:
        if isinstance(error, psycopg.errors.DiskFull):
            return StorageFull(str(error))
        return StorageError(str(error))

    def housekeep(self) -> None:
        """Let PostgreSQL reclaim the dead rows of deleted, expired and edited messages (their
        bodies, words and events) now rather than eventually."""
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute("VACUUM messages, message_search, events")


async def open_postgres(
    url: str,
    loop: asyncio.AbstractEventLoop,
    hooks: Hooks,
) -> Store:
    """Migrate (or refuse: StartupRefused), then serve; events reach `on_commit` through
    the tail, whichever process committed them."""
    await loop.run_in_executor(None, prepare, url)
    engine = PgEngine(url)
    tail = Tail(url, hooks.on_commit, hooks.on_revoked)
    own = Hooks(
        on_commit=lambda _: tail.poke(),
        on_revoked=tail.revoke,
        on_fatal=hooks.on_fatal,
        on_local_commit=hooks.on_local_commit,
    )
    db = await loop.run_in_executor(None, lambda: Database(engine, loop, own))
    await tail.start(db)
    return Store(db, on_close=tail.close)
