"""The tail: every process publishes every committed event, in order, exactly once.

See docs/scaling.md. Events reach the broker through the tail, never straight from a write:
every process LISTENs on `parlour_events`; a committed write NOTIFYs (carrying only its
sequence, as payloads are small) and pokes its own process's tail directly. The tail then
reads every event after the last one it published from the tables, in order, and publishes
them. So a lost or late notification delays delivery (a periodic poll covers it) but never
loses or reorders an event, and every process publishes exactly what is committed.
Revoked sessions travel on `parlour_revoked`, so a logout ends streams in every process.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import psycopg

from parlour.model import Delivery, Seq, SessionId
from parlour.store.log import select_deliveries, select_positions

if TYPE_CHECKING:
    from parlour.store.database import Database

log = logging.getLogger("parlour.store")

EVENTS_CHANNEL = "parlour_events"
REVOKED_CHANNEL = "parlour_revoked"
# Safety net: how often the tail looks for events even without a notification.
POLL_SECONDS = 1.0
TAIL_BATCH = 1000


class Tail:
    def __init__(
        self,
        url: str,
        publish: Callable[[list[Delivery]], None],
        on_revoked: Callable[[list[SessionId], Seq], None],
    ) -> None:
        self._url = url
        self._publish = publish
        self._on_revoked = on_revoked
        # Revocations waiting for the events committed with them to be published first.
        self._revoking: list[tuple[Seq, list[SessionId]]] = []
        self._published = Seq(0)
        self._poke = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._closed = False
        self._db: Database | None = None

    async def start(self, db: Database) -> None:
        """Publish from the newest event committed now onwards."""
        self._db = db
        self._published, _ = await db.read(select_positions)
        self._tasks = [
            asyncio.create_task(self._listen(), name="parlour-pg-listen"),
            asyncio.create_task(self._tail(db), name="parlour-pg-tail"),
        ]

    def poke(self) -> None:
        """This process committed events: look for them now (called on the event loop)."""
        self._poke.set()

    def revoke(self, sessions: list[SessionId], through: Seq) -> None:
        """End these sessions' streams once every event up to `through` is published (a
        deactivated user's stream still shows the deactivation), at once if it is."""
        if through <= self._published:
            self._on_revoked(sessions, through)
        else:
            self._revoking.append((through, sessions))
            self._poke.set()

    def _revoke_published(self) -> None:
        due = [(seq, sessions) for seq, sessions in self._revoking if seq <= self._published]
        if due:
            self._revoking = [item for item in self._revoking if item[0] > self._published]
            for seq, sessions in due:
                self._on_revoked(sessions, seq)

    async def _listen(self) -> None:
        """Hear notifications from every process; reconnect if the connection drops."""
        while not self._closed:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self._url, autocommit=True
                ) as conn:
                    await conn.execute(f"LISTEN {EVENTS_CHANNEL}")
                    await conn.execute(f"LISTEN {REVOKED_CHANNEL}")
                    self._poke.set()  # catch up on anything missed while not listening
                    async for notify in conn.notifies():
                        if notify.channel == EVENTS_CHANNEL:
                            self._poke.set()
                        elif notify.channel == REVOKED_CHANNEL:
                            through, _, session = notify.payload.partition(":")
                            self.revoke([SessionId(session)], Seq(int(through)))
            except asyncio.CancelledError:
                raise
            except Exception as e:
                if self._closed:
                    return
                log.warning("lost the PostgreSQL notification connection (%s); retrying", e)
                await asyncio.sleep(POLL_SECONDS)

    async def _tail(self, db: Database) -> None:
        """Publish every committed event, in sequence order, exactly once."""
        while not self._closed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._poke.wait(), POLL_SECONDS)
            self._poke.clear()
            try:
                while True:
                    batch, newest = await db.read(
                        functools.partial(
                            select_deliveries, after=self._published, limit=TAIL_BATCH
                        )
                    )
                    if batch:
                        self._published = batch[-1].event.seq
                        self._publish(batch)
                    if len(batch) < TAIL_BATCH:
                        # Everything committed up to `newest` is now published (or was
                        # erased before anyone could be sent it).
                        self._published = max(self._published, newest)
                    self._revoke_published()
                    if len(batch) < TAIL_BATCH:
                        break
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
