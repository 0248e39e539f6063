"""One writer thread with group commit, a pool of reader threads: parlour's SQLite engine room.

See docs/architecture.md. Every change runs as a job on the single writer thread. The writer
takes all jobs waiting at that moment, runs each inside its own SAVEPOINT of one
`BEGIN IMMEDIATE` transaction, and commits once: one fsync acknowledges many writers
(group commit). A job that fails is rolled back to its savepoint alone; the others commit.
Only after COMMIT returns are the waiting coroutines woken and the batch's events handed to
`on_commit` (in sequence order, because one thread assigns sequences and commits in that
same order). Nothing on this thread ever waits on a network peer.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from parlour.errors import ParlourError, StorageError, StorageFull
from parlour.model import Event, Seq

T = TypeVar("T")
log = logging.getLogger("parlour.store")

# Enough to amortise one fsync over every writer a busy server has waiting, small enough
# that one batch never holds the write lock for long.
MAX_BATCH = 256
READER_THREADS = 4
# Readers never wait this long in practice: WAL readers do not block on the writer.
BUSY_TIMEOUT_MS = 10_000


def storage_error(e: sqlite3.Error) -> StorageError:
    """The domain's view of a driver error: StorageFull when the disk is full (SQLITE_FULL),
    so that clients can be told to retry later rather than that the server is broken."""
    code = getattr(e, "sqlite_errorcode", None)
    if code is not None and code & 0xFF == sqlite3.SQLITE_FULL:
        return StorageFull(str(e))
    return StorageError(str(e))


def connect(path: Path, *, synchronous: str = "FULL") -> sqlite3.Connection:
    """A connection with parlour's pragmas: durable commits and deleted content zeroed."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    conn.execute("PRAGMA foreign_keys = ON")
    # Overwrite deleted rows with zeros, so an expired or deleted message body does not
    # linger in free pages of the file (SPEC "Expiry").
    conn.execute("PRAGMA secure_delete = ON")
    return conn


class Tx:
    """What a write job sees: the connection and a way to stamp events with sequences."""

    __slots__ = ("conn", "events")

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.events: list[Event] = []

    def next_seq(self) -> Seq:
        """The next sequence number, taken inside this transaction (SPEC "Vocabulary")."""
        row = self.conn.execute(
            "UPDATE counter SET seq = seq + 1 WHERE id = 1 RETURNING seq"
        ).fetchone()
        return Seq(row[0])

    def emit(self, event: Event) -> None:
        self.events.append(event)


@dataclass(slots=True)
class _Job:
    fn: Callable[[Tx], Any]
    future: asyncio.Future[Any]
    value: Any = None
    error: BaseException | None = None
    events: list[Event] = field(default_factory=list)


class Database:
    """The engine: `write(fn)` runs fn(tx) in a group-committed transaction; `read(fn)` in a
    consistent read transaction on a reader thread."""

    def __init__(
        self,
        path: Path,
        loop: asyncio.AbstractEventLoop,
        on_commit: Callable[[list[Event]], None],
    ) -> None:
        self.path = path
        self._loop = loop
        self._on_commit = on_commit
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._writer_conn = connect(path)
        self._writer = threading.Thread(target=self._run_writer, name="parlour-writer")
        self._local = threading.local()
        self._reader_conns: list[sqlite3.Connection] = []
        self._reader_lock = threading.Lock()
        self._readers = ThreadPoolExecutor(READER_THREADS, thread_name_prefix="parlour-reader")
        self._closed = False
        self._writer.start()

    # -- writing -------------------------------------------------------------------------

    async def write(self, fn: Callable[[Tx], T]) -> T:
        """Run `fn` in a write transaction; return its value once durably committed.

        Raises what `fn` raised (a ParlourError leaves nothing of `fn` behind), or
        StorageError when the database could not commit.
        """
        if self._closed:
            raise StorageError("the database is closed (the server is shutting down)")
        future: asyncio.Future[T] = self._loop.create_future()
        self._jobs.put(_Job(fn, future))
        return await future

    def _run_writer(self) -> None:
        while True:
            first = self._jobs.get()
            if first is None:  # close() asked us to stop
                break
            batch = [first]
            stop_after = False
            while len(batch) < MAX_BATCH:
                try:
                    more = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop_after = True
                    break
                batch.append(more)
            self._commit(batch)
            if stop_after:
                break
        self._writer_conn.close()

    def _commit(self, batch: list[_Job]) -> None:
        conn = self._writer_conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as e:
            self._fail_all(batch, e)
            return
        for job in batch:
            tx = Tx(conn)
            conn.execute("SAVEPOINT job")
            try:
                job.value = job.fn(tx)
                job.events = tx.events
            except ParlourError as e:
                self._undo_job(conn)
                job.error = e
            except sqlite3.Error as e:
                log.error("write failed: %s", e)
                try:
                    self._undo_job(conn)
                except sqlite3.Error:
                    self._rollback(conn)
                    self._fail_all(batch, e)
                    return
                job.error = storage_error(e)
            except Exception as e:
                log.exception("write job raised")
                self._undo_job(conn)
                job.error = e
            else:
                conn.execute("RELEASE job")
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as e:
            self._rollback(conn)
            self._fail_all(batch, e)
            return
        self._loop.call_soon_threadsafe(self._deliver, batch)

    @staticmethod
    def _undo_job(conn: sqlite3.Connection) -> None:
        conn.execute("ROLLBACK TO job")
        conn.execute("RELEASE job")

    @staticmethod
    def _rollback(conn: sqlite3.Connection) -> None:
        if conn.in_transaction:
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:
                log.exception("rollback failed")

    def _fail_all(self, batch: list[_Job], cause: sqlite3.Error) -> None:
        log.error("commit failed: %s", cause)
        for job in batch:
            job.value, job.events = None, []
            job.error = storage_error(cause)
        self._loop.call_soon_threadsafe(self._deliver, batch)

    def _deliver(self, batch: list[_Job]) -> None:
        """On the event loop: wake the writers, then publish the batch's events.

        Both happen only after COMMIT returned, which is all guarantee 1 asks. Waking the
        writers first puts their 202s ahead of the fan-out in the loop's queue: published
        first, an acknowledgement waited behind a write to every open stream (about 30 ms
        at 1,000 streams). A client that acts on its 202 at once still sees its change:
        a stream replays from the store before it listens (domain/stream.py).
        """
        for job in batch:
            if job.future.done():
                continue
            if job.error is not None:
                job.future.set_exception(job.error)
            else:
                job.future.set_result(job.value)
        events = [event for job in batch for event in job.events]
        if events:
            try:
                self._on_commit(events)
            except Exception:
                log.exception("publishing committed events failed")

    # -- reading -------------------------------------------------------------------------

    async def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn` inside one read transaction: everything it sees is one consistent state."""
        if self._closed:
            raise StorageError("the database is closed (the server is shutting down)")
        return await self._loop.run_in_executor(self._readers, self._read, fn)

    def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path)
            conn.execute("PRAGMA query_only = ON")
            self._local.conn = conn
            with self._reader_lock:
                self._reader_conns.append(conn)
        conn.execute("BEGIN")
        try:
            return fn(conn)
        except sqlite3.Error as e:
            raise storage_error(e) from e
        finally:
            conn.execute("COMMIT")

    # -- housekeeping --------------------------------------------------------------------

    async def checkpoint(self) -> None:
        """Copy the WAL into the database and truncate it, so deleted content leaves the WAL."""
        await self._loop.run_in_executor(None, self._run_checkpoint)

    def _run_checkpoint(self) -> None:
        conn = connect(self.path)
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            conn.close()

    async def close(self) -> None:
        """Finish every queued write, then close all connections."""
        if self._closed:
            return
        self._closed = True
        self._jobs.put(None)
        await self._loop.run_in_executor(None, self._writer.join)
        self._readers.shutdown(wait=True)
        with self._reader_lock:
            for conn in self._reader_conns:
                conn.close()
            self._reader_conns.clear()
