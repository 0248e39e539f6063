"""One client's event stream: replay from the store, then live events, without gap or repeat.

See docs/architecture.md. The hand-over (docs/architecture.md, "A stream"):
1. register with the broker (not yet listening, so logout can already end the stream);
2. replay `seq > last` from the store in batches until a batch comes back empty;
3. start listening, then replay once more: anything committed before listening began is
   in the store, anything published after is in the queue;
4. drain the queue, skipping every `seq <= last` (already replayed).
The store commits in sequence order and the broker publishes in commit order, so once live,
the queue is in order too: the stream may wait, it never skips.
"""

from __future__ import annotations

from parlour.broker import Broker, StreamClosed, Subscription
from parlour.errors import InvalidInput, ResumePointTooOld
from parlour.model import Seq, Session
from parlour.store import Store
from parlour.wire import event_frame

# Events per replay read: big enough to make one read cheap per event, small enough that a
# batch of large messages stays a few MiB.
REPLAY_BATCH = 500


class EventStream:
    """Yields chunks of SSE frames for one connection; `next_chunk` returns b"" on silence."""

    def __init__(self, store: Store, subscription: Subscription, resume_point: Seq) -> None:
        self._store = store
        self.subscription = subscription
        self.user = subscription.user
        subscription.written = resume_point
        self._replaying = True

    @property
    def last(self) -> Seq:
        """The newest event handed to the connection: by this stream, or by the broker
        straight to the connection while this stream waited (broker.Subscription)."""
        return self.subscription.written

    @classmethod
    async def open(
        cls, store: Store, broker: Broker, session: Session, resume_point: int
    ) -> EventStream:
        """The stream of what `session`'s user may see (docs/api/events.md, "Who receives
        what"). Raises InvalidInput (resume point beyond the newest event), ResumePointTooOld."""
        batch = await store.select_events(Seq(resume_point), 0, session.user.id)
        if resume_point > batch.newest:
            raise InvalidInput(
                f"The resume point {resume_point} is ahead of the newest event "
                f"({batch.newest}); boot again (GET /api/boot)."
            )
        if resume_point < batch.forgotten:
            raise ResumePointTooOld()
        return cls(store, broker.subscribe(session.id, session.user.id), Seq(resume_point))

    @property
    def replaying(self) -> bool:
        """Whether the stream is still reading its backlog from the store (the last chunk
        came from there): no queue of its own can overflow yet."""
        return self._replaying

    async def next_chunk(self, idle_seconds: float) -> bytes:
        """The next frames to write; b"" after `idle_seconds` of silence.

        Raises StreamClosed when the stream must end (logout, overflow, shutdown…).
        """
        while self._replaying:
            if self.subscription.closed is not None:
                raise StreamClosed(self.subscription.closed)
            batch = await self._store.select_events(self.last, REPLAY_BATCH, self.user)
            if self.last < batch.forgotten:
                # Tombstones we had yet to send were purged while we replayed: the client
                # must boot again, which it learns by reconnecting (410).
                raise StreamClosed("resume point expired during replay")
            if batch.events:
                self.subscription.written = batch.events[-1].seq
                return b"".join(event_frame(event) for event in batch.events)
            if self.subscription.listening:
                self._replaying = False
            else:
                self.subscription.listening = True
        frames = await self.subscription.take(idle_seconds)
        fresh = [(seq, frame) for seq, frame in frames if seq > self.last]
        if not fresh:
            return b""
        self.subscription.written = fresh[-1][0]
        return b"".join(frame for _, frame in fresh)

    def close(self) -> None:
        self.subscription.unsubscribe()
