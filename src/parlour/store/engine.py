"""What an engine (SQLite, PostgreSQL) supplies, and what transaction functions see.

See docs/architecture.md. parlour's storage rules are written once, as plain synchronous
functions over a `Reader` (a read transaction) or a `Tx` (a write transaction): the modules
beside this one (users, channels, messages, invites, events). They run on the threads of one
`Database` (database.py) for both engines, as Synapse runs one set of storage functions on
SQLite and PostgreSQL. An engine contributes only what truly differs: how to connect, how a
transaction begins and ends, how its placeholders are spelled, which driver errors mean a full
disk, its housekeeping, and the statements of its search index (SearchSql).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from parlour.errors import StorageError
from parlour.model import Audience, Delivery, Event, Seq, SessionId
from parlour.store.words import SearchQuery

Params = Sequence[Any] | dict[str, Any]
Row = tuple[Any, ...]


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class Connection(Protocol):
    """What both sqlite3 and psycopg connections offer (DB-API's `execute` shortcut)."""

    def execute(self, sql: str, params: Any = ..., /) -> Any: ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class SearchSql:
    """An engine's search index (docs/api/search.md): its statements, in SQLite's spelling of
    placeholders like every other, and how a body and a query are written for it.

    store/search.py runs them; only their text differs between engines. The index has one
    entry per retained message, keyed by the message's `seq`.
    """

    insert: str
    """Index a message's body: `:seq`, `:words`."""
    delete: str
    """Forget a message's body: `:seq`, and `:body`, the text it was indexed with (SQLite's
    index keeps no text, and needs it to find the words to remove)."""
    select: str
    """Matches, newest first: `:query`, `:user` (only channels they see), `:channel` (or
    NULL), `:before` (seq below), `:limit`; columns as details.MESSAGE_COLUMNS. With
    `recent`, only those below the newest `:recent` entries of the index."""
    select_recent: str
    """The matches among the newest `:recent` entries below `:before` (same parameters and
    columns), tried for each size in `recent` before `select` (none on SQLite)."""
    recent: tuple[int, ...]
    words: Callable[[str], str]
    """A body as the index takes it (`:words`)."""
    query: Callable[[SearchQuery], str]
    """A query in the index's own syntax (`:query`)."""


class Engine(Protocol):
    """Connection handling and dialect: everything that differs between databases.

    Statements are written once in SQLite's spelling (`?` and `:name` placeholders);
    `sql()` turns them into the engine's own. Every method that talks to the database may
    raise the driver's errors, which `storage_error` then classifies.
    """

    driver_errors: tuple[type[Exception], ...]
    search: SearchSql

    def connect(self, *, writer: bool) -> Connection: ...

    def sql(self, text: str) -> str:
        """The engine's spelling of a statement written in SQLite's."""
        ...

    def begin_write(self, conn: Connection) -> tuple[Seq, Seq]:
        """Begin a write transaction that excludes every other writer (in every process)
        until it ends; return the counter's (seq, forgotten_seq) as they are now."""
        ...

    def end_write(
        self, conn: Connection, newest: Seq, made_events: bool, revoked: list[SessionId]
    ) -> None:
        """Store the newest sequence (if `made_events`), tell other processes of new events
        and revoked sessions if there are any, and commit."""
        ...

    def begin_read(self, conn: Connection) -> None:
        """Begin a read transaction: one consistent snapshot until it ends."""
        ...

    def in_transaction(self, conn: Connection) -> bool:
        """Whether a transaction is open on `conn` (a job must never end the writer's)."""
        ...

    def is_usable(self, conn: Connection) -> bool:
        """False once a connection is broken (and must be replaced) after an error."""
        ...

    def storage_error(self, error: Exception) -> StorageError:
        """The domain's view of a driver error (StorageFull when the disk is full)."""
        ...

    def housekeep(self) -> None:
        """Make deleted content leave the database's files (or space) now, not eventually."""
        ...


class Reader:
    """A read transaction as transaction functions see it."""

    __slots__ = ("_conn", "_engine")

    def __init__(self, conn: Connection, engine: Engine) -> None:
        self._conn = conn
        self._engine = engine

    @property
    def engine(self) -> Engine:
        """The engine, for what only it can say (its search statements)."""
        return self._engine

    def _execute(self, sql: str, params: Params) -> Cursor:
        cursor: Cursor = self._conn.execute(self._engine.sql(sql), params)
        return cursor

    def rows(self, sql: str, params: Params = ()) -> list[Row]:
        return self._execute(sql, params).fetchall()

    def row(self, sql: str, params: Params = ()) -> Row | None:
        row: Row | None = self._execute(sql, params).fetchone()
        return row

    def value(self, sql: str, params: Params = ()) -> Any:
        """The first column of the first row; None when there is no row."""
        row = self.row(sql, params)
        return None if row is None else row[0]

    def run(self, sql: str, params: Params = ()) -> int:
        """Execute a change; the number of rows it touched."""
        return self._execute(sql, params).rowcount


class SeqCounter:
    """The newest sequence of the write transaction in progress.

    The writer reads the counter row once when its transaction begins (it holds the write
    lock, so nobody else can move it) and stores it once before committing: a sequence costs
    no statement of its own.
    """

    __slots__ = ("forgotten", "seq", "start")

    def __init__(self, seq: Seq, forgotten: Seq) -> None:
        self.start = seq
        self.seq = seq
        self.forgotten = forgotten


class Tx(Reader):
    """A write job's view of its transaction: statements, sequences, events, revocations.

    Everything a job records here is dropped with its changes if it fails.
    """

    __slots__ = ("counter", "events", "revoked")

    def __init__(self, conn: Connection, engine: Engine, counter: SeqCounter) -> None:
        super().__init__(conn, engine)
        self.counter = counter
        self.events: list[Delivery] = []
        self.revoked: list[SessionId] = []

    def next_seq(self) -> Seq:
        """The next sequence number, taken inside this transaction (see docs/api/events.md)."""
        self.counter.seq = Seq(self.counter.seq + 1)
        return self.counter.seq

    def emit(self, event: Event, audience: Audience) -> None:
        """Publish `event` to `audience` once the transaction has committed (never before)."""
        self.events.append(Delivery(event, audience))

    def revoke(self, sessions: list[SessionId]) -> None:
        """End these sessions' event streams, in every process, once committed."""
        self.revoked.extend(sessions)
