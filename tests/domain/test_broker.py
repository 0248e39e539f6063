"""The broker's rules, directly: encode once, never wait, drop a reader that falls behind."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from parlour.broker import (
    MAX_PENDING_BYTES,
    MAX_PENDING_EVENTS,
    Broker,
    StreamClosed,
    Subscription,
)
from parlour.model import (
    ChannelId,
    Delivery,
    Message,
    MessageId,
    MessageSent,
    Seq,
    SessionId,
    UserId,
)

AT = datetime(2026, 11, 28, tzinfo=UTC)


def sent(seq: int, body: str = "hello") -> MessageSent:
    message = Message(
        MessageId(f"M{seq:020d}"),
        ChannelId("C" + "c" * 20),
        UserId("U" + "u" * 20),
        body,
        AT,
        Seq(seq),
    )
    return MessageSent(seq=Seq(seq), at=AT, message=message)


def everyone(event: MessageSent) -> Delivery:
    return Delivery(event, None)


def test_every_stream_gets_the_same_encoded_bytes() -> None:
    async def scenario() -> None:
        broker = Broker()
        subs = [broker.subscribe(SessionId(f"s{i}"), UserId(f"U{i}")) for i in range(3)]
        for s in subs:
            s.listening = True
        broker.publish([everyone(sent(1)), everyone(sent(2))])
        taken = [await s.take(1.0) for s in subs]
        assert [seq for seq, _ in taken[0]] == [1, 2]
        # One encoding, shared: the very same bytes object on every queue.
        assert all(t[0][1] is taken[0][0][1] for t in taken)

    asyncio.run(scenario())


def test_a_stream_not_yet_listening_ignores_live_events() -> None:
    async def scenario() -> None:
        broker = Broker()
        s = broker.subscribe(SessionId("s"), UserId("Us"))
        broker.publish([everyone(sent(1))])
        s.listening = True
        broker.publish([everyone(sent(2))])
        assert [seq for seq, _ in await s.take(1.0)] == [2]

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("count", "body"),
    [(MAX_PENDING_EVENTS + 1, "x"), (3, "x" * (MAX_PENDING_BYTES // 2))],
    ids=["too many events", "too many bytes"],
)
def test_a_reader_too_far_behind_is_closed_and_nobody_else_waits(count: int, body: str) -> None:
    async def scenario() -> None:
        broker = Broker()
        slow = broker.subscribe(SessionId("slow"), UserId("Uslow"))
        slow.listening = True
        fast = broker.subscribe(SessionId("fast"), UserId("Ufast"))
        fast.listening = True
        for seq in range(1, count + 1):
            broker.publish([everyone(sent(seq, body))])
            await fast.take(1.0)  # the fast reader keeps up
        assert slow.closed == "fell too far behind"
        assert fast.closed is None
        with pytest.raises(StreamClosed):
            await slow.take(1.0)

    asyncio.run(scenario())


def test_ending_sessions_closes_only_their_streams() -> None:
    async def scenario() -> None:
        broker = Broker()
        a1, a2, b = (broker.subscribe(SessionId(s), UserId("U" + s)) for s in ("a", "a", "b"))
        broker.end_sessions([SessionId("a")], "logged out")
        assert a1.closed == a2.closed == "logged out"
        assert b.closed is None

    asyncio.run(scenario())


def test_take_returns_nothing_after_the_idle_time() -> None:
    async def scenario() -> None:
        broker = Broker()
        s = broker.subscribe(SessionId("s"), UserId("Us"))
        s.listening = True
        assert await s.take(0.01) == []

    asyncio.run(scenario())


def test_an_event_for_some_users_reaches_only_their_streams() -> None:
    """Issue 13: the broker routes; a private channel's message costs work only for its
    members' streams, and never reaches anyone else's."""

    async def scenario() -> None:
        broker = Broker()
        members = [broker.subscribe(SessionId(f"m{i}"), UserId("Umember")) for i in range(2)]
        other = broker.subscribe(SessionId("o"), UserId("Uother"))
        for s in (*members, other):
            s.listening = True
        broker.publish(
            [
                everyone(sent(1)),
                Delivery(sent(2), frozenset({UserId("Umember")})),
                everyone(sent(3)),
            ]
        )
        for s in members:
            assert [seq for seq, _ in await s.take(1.0)] == [1, 2, 3]
        assert [seq for seq, _ in await other.take(1.0)] == [1, 3]

    asyncio.run(scenario())


def test_a_revoked_session_still_drains_what_was_queued_before_it_ends() -> None:
    async def scenario() -> None:
        broker = Broker()
        s = broker.subscribe(SessionId("s"), UserId("Us"))
        s.listening = True
        broker.publish([everyone(sent(1))])
        broker.end_sessions([SessionId("s")], "deactivated")
        assert [seq for seq, _ in await s.take(1.0)] == [1]
        with pytest.raises(StreamClosed):
            await s.take(1.0)

    asyncio.run(scenario())


class Connection:
    """What the HTTP layer gives a subscription as `direct`: takes bytes unless `full`."""

    def __init__(self) -> None:
        self.written: list[bytes] = []
        self.full = False

    def write(self, data: bytes) -> bool:
        if self.full:
            return False
        self.written.append(data)
        return True

    def seqs(self) -> list[int]:
        return [int(line[4:]) for data in self.written for line in data.split(b"\n")
                if line.startswith(b"id: ")]  # fmt: skip


def direct_stream(broker: Broker) -> tuple[Subscription, Connection]:
    """A listening subscription whose events may go straight to `Connection`."""
    s = broker.subscribe(SessionId("s"), UserId("Us"))
    s.listening = True
    connection = Connection()
    s.direct = connection.write
    return s, connection


def test_a_waiting_stream_is_written_at_once_and_never_twice() -> None:
    """Regression: an event committed before a stream began listening can be published after
    the stream replayed it from the store; written straight to the connection, it came a
    second time, out of order (the crash test's readers saw `event 622 after 623`)."""

    async def scenario() -> None:
        broker = Broker()
        s, connection = direct_stream(broker)
        s.written = Seq(3)  # replayed through 3 from the store
        waiting = asyncio.create_task(s.take(5.0))
        await asyncio.sleep(0)  # the stream task now waits in take()
        broker.publish([everyone(sent(2)), everyone(sent(3))])  # late: already replayed
        broker.publish([everyone(sent(3)), everyone(sent(4))])
        broker.publish([everyone(sent(5))])
        assert connection.seqs() == [4, 5]
        assert s.written == 5
        assert not waiting.done(), "the stream task was woken for what went straight out"
        waiting.cancel()

    asyncio.run(scenario())


def test_a_connection_that_cannot_take_more_gets_its_events_through_the_queue_in_order() -> None:
    async def scenario() -> None:
        broker = Broker()
        s, connection = direct_stream(broker)
        waiting = asyncio.create_task(s.take(5.0))
        await asyncio.sleep(0)
        broker.publish([everyone(sent(1))])
        connection.full = True
        broker.publish([everyone(sent(2))])
        connection.full = False
        # Queued behind 2, so not written ahead of it though the connection takes it now.
        broker.publish([everyone(sent(3))])
        assert connection.seqs() == [1]
        assert [seq for seq, _ in await waiting] == [2, 3]

    asyncio.run(scenario())


def test_silence_for_a_heartbeat_counts_from_the_last_direct_write() -> None:
    async def scenario() -> None:
        broker = Broker()
        s, _ = direct_stream(broker)
        loop = asyncio.get_running_loop()
        started = loop.time()
        waiting = asyncio.create_task(s.take(0.3))
        await asyncio.sleep(0.2)
        broker.publish([everyone(sent(1))])
        assert await waiting == []
        # Not 0.3 s after the wait began: 0.3 s after the write at 0.2 s.
        assert loop.time() - started >= 0.45

    asyncio.run(scenario())
