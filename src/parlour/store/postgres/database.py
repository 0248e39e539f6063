"""Connections, transactions and the event tail for the PostgreSQL engine.

See docs/architecture.md ("Scaling out"). A write transaction that makes events first
updates the `counter` row, which it then holds locked until it commits: writers in every
process take sequences one after another, so commit order is sequence order.

Events reach the broker through the *tail*, never straight from a write: every process
LISTENs on `parlour_events`; a committed write NOTIFYs (carrying only its sequence, as
payloads are small) and pokes its own process's tail directly. The tail then reads every
event after the last one it published from the tables, in order, and publishes them.
So a lost or late notification delays delivery (a periodic poll covers it) but never loses
or reorders an event, and every process publishes exactly what is committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import psycopg
from psycopg import AsyncConnection
from psycopg.rows import TupleRow
from psycopg_pool import AsyncConnectionPool

from parlour.errors import ParlourError, StorageError, StorageFull
from parlour.model import Event, Seq, SessionId

T = TypeVar("T")
log = logging.getLogger("parlour.store")

EVENTS_CHANNEL = "parlour_events"
REVOKED_CHANNEL = "parlour_revoked"
# Safety net: how often the tail looks for events even without a notification.
POLL_SECONDS = 1.0
TAIL_BATCH = 1000
POOL_MAX_CONNECTIONS = 16

Conn = AsyncConnection[TupleRow]


class PgTx:
    """What a write job sees: the connection and a way to stamp events with sequences."""

    __slots__ = ("conn", "events", "notified", "revoked")

    def __init__(self, conn: Conn) -> None:
        self.conn = conn
        self.events: list[Event] = []
        self.revoked: list[SessionId] = []
        # Set by a statement that NOTIFYs by itself (saving a round trip under the lock).
        self.notified = False

    async def next_seq(self) -> Seq:
        """The next sequence; the first call locks the counter row until commit."""
        cur = await self.conn.execute("UPDATE counter SET seq = seq + 1 WHERE id = 1 RETURNING seq")
        row = await cur.fetchone()
        if row is None:
            raise StorageError("the counter row is missing")
        return Seq(int(row[0]))

    async def lock_counter(self) -> None:
        """Wait for our turn among writers without taking a sequence (yet)."""
        await self.conn.execute("SELECT 1 FROM counter WHERE id = 1 FOR UPDATE")

    def emit(self, event: Event) -> None:
        self.events.append(event)


class PgDatabase:
    def __init__(
        self,
        url: str,
        on_commit: Callable[[list[Event]], None],
        on_revoked: Callable[[list[SessionId]], None],
    ) -> None:
        self.url = url
        self._on_commit = on_commit
        self._on_revoked = on_revoked
        self._pool: AsyncConnectionPool[Conn] = AsyncConnectionPool(
            url, min_size=2, max_size=POOL_MAX_CONNECTIONS, open=False
        )
        self._published = Seq(0)
        self._poke = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._closed = False

    async def open(self) -> None:
        await self._pool.open(wait=True)
        self._published = await self.read(_select_newest)
        self._tasks = [
            asyncio.create_task(self._listen(), name="parlour-pg-listen"),
            asyncio.create_task(self._tail(), name="parlour-pg-tail"),
        ]

    async def write(self, fn: Callable[[PgTx], Awaitable[T]]) -> T:
        """Run `fn` in one transaction; return once committed (and the tail poked).

        Raises what `fn` raised (its transaction rolled back), or StorageError.
        """
        try:
            async with self._pool.connection() as conn, conn.transaction():
                tx = PgTx(conn)
                value = await fn(tx)
                if tx.events and not tx.notified:
                    await conn.execute(
                        "SELECT pg_notify(%s, %s)", (EVENTS_CHANNEL, str(tx.events[-1].seq))
                    )
                for session in tx.revoked:
                    await conn.execute("SELECT pg_notify(%s, %s)", (REVOKED_CHANNEL, session))
        except ParlourError:
            raise
        except psycopg.errors.DiskFull as e:
            log.error("write failed: %s", e)
            raise StorageFull(str(e)) from e
        except psycopg.Error as e:
            log.error("write failed: %s", e)
            raise StorageError(str(e)) from e
        if tx.events:
            self._poke.set()
        if tx.revoked:
            self._on_revoked(tx.revoked)
        return value

    async def read(self, fn: Callable[[Conn], Awaitable[T]]) -> T:
        """Run `fn` in one REPEATABLE READ transaction: one consistent snapshot."""
        try:
            async with self._pool.connection() as conn:
                await conn.set_isolation_level(psycopg.IsolationLevel.REPEATABLE_READ)
                await conn.set_read_only(True)
                try:
                    async with conn.transaction():
                        return await fn(conn)
                finally:
                    await conn.set_isolation_level(None)
                    await conn.set_read_only(None)
        except ParlourError:
            raise
        except psycopg.Error as e:
            raise StorageError(str(e)) from e

    async def run(self, sql: str, params: tuple[Any, ...] = ()) -> None:
        """A statement outside any transaction (e.g. VACUUM)."""
        async with self._pool.connection() as conn:
            await conn.set_autocommit(True)
            try:
                await conn.execute(sql.encode(), params)
            finally:
                await conn.set_autocommit(False)

    async def _listen(self) -> None:
        """Hear notifications from every process; reconnect if the connection drops."""
        while not self._closed:
            try:
                async with await psycopg.AsyncConnection.connect(self.url, autocommit=True) as conn:
                    await conn.execute(f"LISTEN {EVENTS_CHANNEL}")
                    await conn.execute(f"LISTEN {REVOKED_CHANNEL}")
                    self._poke.set()  # catch up on anything missed while not listening
                    async for notify in conn.notifies():
                        if notify.channel == EVENTS_CHANNEL:
                            self._poke.set()
                        elif notify.channel == REVOKED_CHANNEL:
                            self._on_revoked([SessionId(notify.payload)])
            except asyncio.CancelledError:
                raise
            except Exception as e:
                if self._closed:
                    return
                log.warning("lost the PostgreSQL notification connection (%s); retrying", e)
                await asyncio.sleep(POLL_SECONDS)

    async def _tail(self) -> None:
        """Publish every committed event, in sequence order, exactly once."""
        from parlour.store.postgres.events import select_events

        while not self._closed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._poke.wait(), POLL_SECONDS)
            self._poke.clear()
            try:
                while True:
                    batch = await self.read(
                        lambda conn: select_events(conn, self._published, TAIL_BATCH)
                    )
                    if not batch.events:
                        break
                    self._published = batch.events[-1].seq
                    self._on_commit(batch.events)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("reading new events failed; retrying")
                await asyncio.sleep(POLL_SECONDS)

    async def close(self) -> None:
        self._closed = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._pool.close()


async def _select_newest(conn: Conn) -> Seq:
    cur = await conn.execute("SELECT seq FROM counter WHERE id = 1")
    row = await cur.fetchone()
    return Seq(int(row[0])) if row else Seq(0)
