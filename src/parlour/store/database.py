"""One writer thread with group commit, a pool of reader threads: parlour's engine room.

See docs/architecture.md. Every change runs as a job on the single writer thread. The writer
takes all jobs waiting at that moment, runs each inside its own SAVEPOINT of one write
transaction, and commits once: one fsync (or one PostgreSQL commit) acknowledges many
writers (group commit). A job that fails is rolled back to its savepoint alone; the others
commit. Only after COMMIT returns are the waiting coroutines woken and the batch's events
handed to `on_commit` (in sequence order: a write transaction excludes every other writer, in
every process, from its first statement to its commit, so sequences are taken and committed
in one order). Nothing on this thread ever waits on a network peer other than the database.

The writer never wedges. A failure of the transaction around the jobs (BEGIN, SAVEPOINT,
RELEASE, the undo of a job, COMMIT), or anything unexpected while running a batch, fails
that batch's jobs with a StorageError, rolls back, replaces a broken connection, and goes
on with the next batch. Should the thread itself ever end by surprise, every waiting and
later write fails at once with a StorageError, and `on_fatal` asks the process to exit
non-zero, so that its supervisor restarts it (docs/operations.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from parlour.errors import ParlourError, StorageError
from parlour.model import Delivery, Seq, SessionId
from parlour.store.engine import Connection, Engine, Reader, SeqCounter, Tx
from parlour.store.records import Hooks

T = TypeVar("T")
log = logging.getLogger("parlour.store")

# Enough to amortise one commit over every writer a busy server has waiting, small enough
# that one batch never holds the write lock for long.
MAX_BATCH = 256
READER_THREADS = 4
# What a failed batch reports as its newest sequence: it committed nothing (and revoked
# nothing, so the value is never used).
NOTHING_COMMITTED = Seq(0)


class WriterStopped(StorageError):
    """The writer thread ended by surprise; the process is on its way out."""


@dataclass(slots=True)
class _Job:
    fn: Callable[[Tx], Any]
    future: asyncio.Future[Any]
    value: Any = None
    error: BaseException | None = None
    events: list[Delivery] = field(default_factory=list)
    revoked: list[SessionId] = field(default_factory=list)


class Database:
    """`write(fn)` runs fn(tx) in a group-committed transaction; `read(fn)` runs fn(reader)
    in one consistent read transaction on a reader thread."""

    def __init__(
        self,
        engine: Engine,
        loop: asyncio.AbstractEventLoop,
        hooks: Hooks,
    ) -> None:
        self.engine = engine
        self._loop = loop
        self._hooks = hooks
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._writer_conn: Connection | None = engine.connect(writer=True)
        self._writer = threading.Thread(target=self._run_writer, name="parlour-writer")
        self._local = threading.local()
        self._reader_conns: list[Connection] = []
        self._reader_lock = threading.Lock()
        self._readers = ThreadPoolExecutor(READER_THREADS, thread_name_prefix="parlour-reader")
        self._closed = False
        self._stopped: str | None = None
        self._writer.start()

    # -- writing -------------------------------------------------------------------------

    async def write(self, fn: Callable[[Tx], T]) -> T:
        """Run `fn` in a write transaction; return its value once durably committed.

        Raises what `fn` raised (a ParlourError leaves nothing of `fn` behind), or
        StorageError when the database could not commit.
        """
        if self._closed:
            raise StorageError("the database is closed (the server is shutting down)")
        if self._stopped is not None:
            raise WriterStopped(self._stopped)
        future: asyncio.Future[T] = self._loop.create_future()
        self._jobs.put(_Job(fn, future))
        if self._stopped is not None:  # it stopped while we queued: nobody will take the job
            self._fail_queued()
        return await future

    def _run_writer(self) -> None:
        try:
            while self._serve_one_batch():
                pass
        except BaseException as e:
            self._stop_writing(e)
        finally:
            if self._writer_conn is not None:
                with contextlib.suppress(Exception):
                    self._writer_conn.close()

    def _serve_one_batch(self) -> bool:
        """Take and commit one batch; False once close() has asked the writer to stop."""
        first = self._jobs.get()
        if first is None:
            return False
        batch = [first]
        more_to_come = True
        while len(batch) < MAX_BATCH:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            if job is None:
                more_to_come = False
                break
            batch.append(job)
        try:
            self._commit(batch)
        except Exception as e:
            self._fail_batch(batch, e)
        except BaseException as e:
            self._fail_batch(batch, e)
            raise
        return more_to_come

    def _commit(self, batch: list[_Job]) -> None:
        engine = self.engine
        if self._writer_conn is None:
            self._writer_conn = engine.connect(writer=True)
        conn = self._writer_conn
        seq, forgotten = engine.begin_write(conn)
        counter = SeqCounter(seq, forgotten)
        if len(batch) == 1:
            # A lone job needs no savepoint: if it fails, the whole transaction goes.
            job = batch[0]
            self._run_job(conn, counter, job)
            if job.error is not None:
                conn.execute("ROLLBACK")
                self._loop.call_soon_threadsafe(self._deliver, batch, counter.start)
                return
        else:
            for job in batch:
                conn.execute("SAVEPOINT job")
                self._run_job(conn, counter, job)
                if job.error is not None:
                    conn.execute("ROLLBACK TO job")
                conn.execute("RELEASE job")
        if not engine.in_transaction(conn):
            raise StorageError("a write job ended the transaction it ran in")
        revoked = [session for job in batch for session in job.revoked]
        engine.end_write(conn, counter.seq, counter.seq != counter.start, revoked)
        self._loop.call_soon_threadsafe(self._deliver, batch, counter.seq)

    def _run_job(self, conn: Connection, counter: SeqCounter, job: _Job) -> None:
        """Run one job; on failure, leave its error on it and the counter as it was."""
        start = counter.seq
        tx = Tx(conn, self.engine, counter)
        try:
            job.value = job.fn(tx)
        except ParlourError as e:
            job.error = e
        except self.engine.driver_errors as e:
            log.error("write failed: %s", e)
            job.error = self.engine.storage_error(e)
        except Exception as e:
            log.exception("write job raised")
            job.error = e
        except BaseException as e:
            # Never hand SystemExit and the like to a coroutine: it would end the event loop.
            log.exception("write job raised")
            job.error = RuntimeError(f"write job raised {e!r}")
        else:
            job.events, job.revoked = tx.events, tx.revoked
            return
        counter.seq = start
        job.value = None

    def _fail_batch(self, batch: list[_Job], cause: BaseException) -> None:
        """The transaction around the jobs failed: none of them happened."""
        log.error("write transaction failed: %s", cause)
        conn = self._writer_conn
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.execute("ROLLBACK")
            if not self.engine.is_usable(conn):
                with contextlib.suppress(Exception):
                    conn.close()
                self._writer_conn = None
        if isinstance(cause, self.engine.driver_errors):
            error: StorageError = self.engine.storage_error(cause)
        else:
            error = StorageError(f"the write transaction failed: {cause!r}")
        for job in batch:
            job.value, job.events, job.revoked = None, [], []
            job.error = error
        self._loop.call_soon_threadsafe(self._deliver, batch, NOTHING_COMMITTED)

    def _deliver(self, batch: list[_Job], newest: Seq) -> None:
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
        revoked = [session for job in batch for session in job.revoked]
        try:
            # Events first: a stream whose session the batch revoked still receives what
            # was committed with the revocation (its user's own deactivation, say).
            if events:
                self._hooks.on_commit(events)
                if self._hooks.on_local_commit is not None:
                    self._hooks.on_local_commit(events)
            if revoked:
                self._hooks.on_revoked(revoked, newest)
        except Exception:
            log.exception("publishing committed events failed")

    def _stop_writing(self, cause: BaseException) -> None:
        """The writer thread is ending by surprise: fail every write now and later."""
        reason = f"the database writer stopped ({cause!r}); parlour must be restarted"
        log.critical("%s", reason, exc_info=cause)
        self._stopped = reason
        self._fail_queued()
        with contextlib.suppress(RuntimeError):  # the loop may be closed already
            self._loop.call_soon_threadsafe(self._hooks.on_fatal, reason)

    def _fail_queued(self) -> None:
        failed: list[_Job] = []
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                job.error = WriterStopped(self._stopped or "the database writer stopped")
                failed.append(job)
        if failed:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._deliver, failed, NOTHING_COMMITTED)

    # -- reading -------------------------------------------------------------------------

    async def read(self, fn: Callable[[Reader], T]) -> T:
        """Run `fn` inside one read transaction: everything it sees is one consistent state.

        Raises what `fn` raised, or StorageError for a failure of the database.
        """
        if self._closed:
            raise StorageError("the database is closed (the server is shutting down)")
        return await self._loop.run_in_executor(self._readers, self._read, fn)

    def _read(self, fn: Callable[[Reader], T]) -> T:
        engine = self.engine
        conn: Connection | None = getattr(self._local, "conn", None)
        try:
            if conn is None:
                conn = engine.connect(writer=False)
                self._local.conn = conn
                with self._reader_lock:
                    self._reader_conns.append(conn)
            engine.begin_read(conn)
            try:
                result = fn(Reader(conn, engine))
            except BaseException:
                # The original error is the one to report, whatever the rollback says.
                with contextlib.suppress(Exception):
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return result
        except engine.driver_errors as e:
            if conn is not None and not engine.is_usable(conn):
                self._drop_reader(conn)
            raise engine.storage_error(e) from e

    def _drop_reader(self, conn: Connection) -> None:
        self._local.conn = None
        with self._reader_lock:
            if conn in self._reader_conns:
                self._reader_conns.remove(conn)
        with contextlib.suppress(Exception):
            conn.close()

    # -- housekeeping --------------------------------------------------------------------

    async def housekeep(self) -> None:
        """Let deleted content leave the database's files now (see Engine.housekeep)."""
        await self._loop.run_in_executor(None, self.engine.housekeep)

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
                with contextlib.suppress(Exception):
                    conn.close()
            self._reader_conns.clear()
