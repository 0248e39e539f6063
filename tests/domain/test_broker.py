"""The broker's rules, directly: encode once, never wait, drop a reader that falls behind."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from parlour.broker import MAX_PENDING_BYTES, MAX_PENDING_EVENTS, Broker, StreamClosed
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
