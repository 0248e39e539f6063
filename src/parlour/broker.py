"""The broker: hands committed events, encoded once, to the live streams that may see them.

See docs/architecture.md. It never touches SQL and never waits: `publish` appends the same
bytes object to each receiving subscriber's queue and wakes it. An event for everyone goes
to every stream; an event for some users (a private channel's members, one user's own read
state) goes only to those users' streams, found by user: it costs work for them alone, not
for every connected stream. A subscriber that falls too far behind is closed (it will
reconnect and resume from the store) instead of slowing anyone else.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from typing import TypeVar

from parlour.model import Delivery, Seq, SessionId, UserId
from parlour.wire import event_frame

K = TypeVar("K")

log = logging.getLogger("parlour.stream")

# docs/api/events.md, guarantee 6: a reader more than about 1 MiB or 1,000 events behind is
# disconnected.
MAX_PENDING_EVENTS = 1000
MAX_PENDING_BYTES = 1 << 20


class StreamClosed(Exception):
    """Raised to a subscriber whose stream has ended; `reason` says why, for the log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Subscription:
    """One stream's queue of encoded events. Only its own stream task reads it.

    Waiting is a bare future plus a timer, not `asyncio.wait_for` on an Event: that would
    create a task per wait, per stream, per event, which dominated fan-out profiles.

    A stream that is caught up is written to at once instead (`direct`, given by the HTTP
    layer): while its task waits in `take` with nothing queued, nothing written for it can be
    ahead of a new event, so the event goes straight to its connection, without waking the
    task and passing the web framework's layers, which dominated fan-out profiles next. The
    connection refuses when it cannot take bytes without waiting (the reader is slow); then
    the event is queued and the task woken, as before, and it waits for the reader.
    """

    __slots__ = (
        "_broker",
        "_pending",
        "_pending_bytes",
        "_waiter",
        "closed",
        "direct",
        "listening",
        "on_close",
        "session",
        "user",
        "written",
        "written_at",
    )

    def __init__(self, broker: Broker, session: SessionId, user: UserId) -> None:
        self._broker = broker
        self.session = session
        self.user = user
        self._pending: list[tuple[Seq, bytes]] = []
        self._pending_bytes = 0
        self._waiter: asyncio.Future[None] | None = None
        self.closed: str | None = None
        # Until the stream has replayed the backlog it ignores live events (it will read
        # them from the store); registered from the start so logout can still end it.
        self.listening = False
        self.on_close: Callable[[str], None] | None = None
        # Writes bytes to the stream's connection now, if it takes them without waiting;
        # False if not (see the class's docstring). None: every event is queued.
        self.direct: Callable[[bytes], bool] | None = None
        # When `direct` last wrote (time.monotonic()): silence, for heartbeats, counts from
        # there.
        self.written_at = 0.0
        # The newest event handed to the connection, by the stream task (domain/stream.py
        # keeps it) or by `direct`. An event committed before the stream began listening can
        # be published after the stream has replayed it from the store: it is skipped.
        self.written = Seq(0)

    def push(self, frames: list[tuple[Seq, bytes]], data: bytes, now: float) -> None:
        """Queue `frames` (or write them at once, see the class); `data` is the frames
        joined, made once by the publisher for every stream."""
        if self.closed is not None or not self.listening:
            return
        direct = self.direct
        if (
            direct is not None
            and self._waiter is not None
            and not self._pending
            and self._write_now(direct, frames, data, now)
        ):
            return
        self._pending.extend(frames)
        self._pending_bytes += len(data)
        if len(self._pending) > MAX_PENDING_EVENTS or self._pending_bytes > MAX_PENDING_BYTES:
            self.close("fell too far behind")
            return
        self._wake()

    def close(self, reason: str, *, drain: bool = False) -> None:
        """End the subscription. With `drain`, what is queued is still handed out first:
        a session revoked by a write ends after the events committed with it (a deactivated
        user's stream shows their `user updated` before it ends)."""
        if self.closed is not None:
            return
        self.closed = reason
        if not drain:
            self._pending = []
        self._wake()
        if self.on_close is not None:
            self.on_close(reason)

    def _write_now(
        self,
        direct: Callable[[bytes], bool],
        frames: list[tuple[Seq, bytes]],
        data: bytes,
        now: float,
    ) -> bool:
        if frames[0][0] <= self.written:
            frames = [frame for frame in frames if frame[0] > self.written]
            if not frames:
                return True  # all handed over already (replayed from the store)
            data = b"".join(frame for _, frame in frames)
        try:
            written = direct(data)
        except Exception:
            # Never let one connection's fault reach the publisher (and so everyone's
            # streams): this stream goes back to being written by its task.
            log.exception("writing to a stream directly failed; queueing its events")
            self.direct = None
            return False
        if written:
            self.written_at = now
            self.written = frames[-1][0]
        return written

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def take(self, idle_seconds: float) -> list[tuple[Seq, bytes]]:
        """Everything queued, waiting up to `idle_seconds`; [] if nothing came.

        Raises StreamClosed once the subscription is closed and nothing is left to drain.
        """
        if not self._pending and self.closed is None:
            loop = asyncio.get_running_loop()
            wait = idle_seconds
            while True:
                waiter = self._waiter = loop.create_future()
                timer = loop.call_later(wait, _expire, waiter)
                try:
                    await waiter
                finally:
                    timer.cancel()
                    self._waiter = None
                if self._pending or self.closed is not None:
                    break
                # Written to directly meanwhile: the silence counts from the last write.
                wait = self.written_at + idle_seconds - time.monotonic()
                if wait <= 0:
                    break
        if self.closed is not None and not self._pending:
            raise StreamClosed(self.closed)
        frames = self._pending
        self._pending = []
        self._pending_bytes = 0
        return frames

    def unsubscribe(self) -> None:
        self._broker.remove(self)


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class Broker:
    def __init__(self, on_presence: Callable[[UserId, bool], None] | None = None) -> None:
        self._subscriptions: set[Subscription] = set()
        self._by_session: dict[SessionId, set[Subscription]] = {}
        self._by_user: dict[UserId, set[Subscription]] = {}
        self._on_presence = on_presence
        """Told (user, True) when a user's first stream here opens, (user, False) when
        their last one here ends: who is present decides who gets Web Push."""

    def publish(self, deliveries: Iterable[Delivery]) -> None:
        """Deliver committed events (in sequence order), each to the streams of its audience.

        A run of events for everyone is pushed as one list to every stream, as before routing
        existed; an event for some users is pushed to their streams only.
        """
        shared: list[tuple[Seq, bytes]] = []
        now = time.monotonic()
        for delivery in deliveries:
            event = delivery.event
            frame = (event.seq, event_frame(event))
            if delivery.audience is None:
                shared.append(frame)
                continue
            self._push_to_all(shared, now)
            shared = []
            one = [frame]  # shared by every member's stream: nothing changes it
            for user in delivery.audience:
                for subscription in self._by_user.get(user, ()):
                    subscription.push(one, frame[1], now)
        self._push_to_all(shared, now)

    def _push_to_all(self, frames: list[tuple[Seq, bytes]], now: float) -> None:
        if frames:
            data = frames[0][1] if len(frames) == 1 else b"".join(frame for _, frame in frames)
            for subscription in self._subscriptions:
                subscription.push(frames, data, now)

    def subscribe(self, session: SessionId, user: UserId) -> Subscription:
        subscription = Subscription(self, session, user)
        arrived = user not in self._by_user
        self._subscriptions.add(subscription)
        self._by_session.setdefault(session, set()).add(subscription)
        self._by_user.setdefault(user, set()).add(subscription)
        if arrived and self._on_presence is not None:
            self._on_presence(user, True)
        return subscription

    def remove(self, subscription: Subscription) -> None:
        if subscription not in self._subscriptions:
            return
        self._subscriptions.discard(subscription)
        _discard(self._by_session, subscription.session, subscription)
        _discard(self._by_user, subscription.user, subscription)
        if subscription.user not in self._by_user and self._on_presence is not None:
            self._on_presence(subscription.user, False)

    def end_sessions(self, sessions: Iterable[SessionId], reason: str) -> None:
        """End every stream opened with one of these sessions (logout, revocation, expiry)."""
        for session in sessions:
            for subscription in list(self._by_session.get(session, ())):
                subscription.close(reason, drain=True)

    def end_all(self, reason: str) -> None:
        for subscription in list(self._subscriptions):
            subscription.close(reason)


def _discard(index: dict[K, set[Subscription]], key: K, subscription: Subscription) -> None:
    peers = index.get(key)
    if peers is not None:
        peers.discard(subscription)
        if not peers:
            del index[key]
