"""The SQLite engine: one file in WAL mode, durable commits, deleted content zeroed.

See docs/architecture.md. SQLite lets one writer at a time into the file; parlour has just
one (the Database's writer thread), so `BEGIN IMMEDIATE` never waits in practice, and
committed events are published straight from this process.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from parlour.errors import StorageError, StorageFull
from parlour.model import Seq, SessionId
from parlour.store.database import Database
from parlour.store.engine import Connection
from parlour.store.facade import Store
from parlour.store.records import Hooks
from parlour.store.sqlite import driver
from parlour.store.sqlite.migrate import prepare
from parlour.store.sqlite.search_sql import SEARCH

# Readers never wait this long in practice: WAL readers do not block on the writer.
BUSY_TIMEOUT_MS = 10_000


def connect(path: Path, *, synchronous: str = "FULL") -> driver.Connection:
    """A connection with parlour's pragmas: durable commits and deleted content zeroed."""
    conn = driver.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    conn.execute("PRAGMA foreign_keys = ON")
    # Overwrite deleted rows with zeros, so an expired or deleted message body does not
    # linger in free pages of the file (docs/operations.md, "Expiry").
    conn.execute("PRAGMA secure_delete = ON")
    return conn


class SqliteEngine:
    driver_errors: tuple[type[Exception], ...] = (driver.Error,)
    search = SEARCH

    def __init__(self, path: Path) -> None:
        self.path = path

    def connect(self, *, writer: bool) -> Connection:
        conn = connect(self.path)
        if not writer:
            conn.execute("PRAGMA query_only = ON")
        return conn

    def sql(self, text: str) -> str:
        return text

    def begin_write(self, conn: Connection) -> tuple[Seq, Seq]:
        conn.execute("BEGIN IMMEDIATE")
        seq, forgotten = conn.execute(
            "SELECT seq, forgotten_seq FROM counter WHERE id = 1"
        ).fetchone()
        return Seq(seq), Seq(forgotten)

    def end_write(
        self, conn: Connection, newest: Seq, made_events: bool, revoked: list[SessionId]
    ) -> None:
        if made_events:
            conn.execute("UPDATE counter SET seq = ? WHERE id = 1", (newest,))
        conn.execute("COMMIT")

    def begin_read(self, conn: Connection) -> None:
        conn.execute("BEGIN")

    def in_transaction(self, conn: Connection) -> bool:
        return driver.is_connection(conn) and conn.in_transaction

    def is_usable(self, conn: Connection) -> bool:
        return True

    def storage_error(self, error: Exception) -> StorageError:
        """StorageFull when the disk is full (SQLITE_FULL), so that clients can be told to
        retry later rather than that the server is broken."""
        code = driver.error_code(error)
        if code is not None and code & 0xFF == driver.SQLITE_FULL:
            return StorageFull(str(error))
        return StorageError(str(error))

    def housekeep(self) -> None:
        """Copy the WAL into the database and truncate it, so deleted content leaves the
        WAL too (deleted rows were already zeroed in place by secure_delete)."""
        conn = connect(self.path)
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            conn.close()


def open_sqlite(
    path: Path,
    loop: asyncio.AbstractEventLoop,
    hooks: Hooks,
) -> Store:
    """Check and migrate the file (or refuse: StartupRefused), then serve it."""
    prepare(path)
    return Store(Database(SqliteEngine(path), loop, hooks))
