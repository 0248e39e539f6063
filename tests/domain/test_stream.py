"""The stream's hand-over from replay to live events, on a real Store and Broker: every event
exactly once, in order, however the writes interleave with the replay (docs/architecture.md,
"A stream")."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from parlour.broker import Broker
from parlour.domain.stream import REPLAY_BATCH, EventStream
from parlour.model import (
    Channel,
    ChannelId,
    Message,
    MessageId,
    Seq,
    Session,
    SessionId,
    User,
    UserId,
    new_id,
    now,
)
from parlour.store import Hooks, NewSession, Store, open_store

FRAME_ID = re.compile(rb"^id: (\d+)$", re.MULTILINE)


async def open_test_store(path: Path, broker: Broker) -> Store:
    return await open_store(
        str(path),
        asyncio.get_running_loop(),
        Hooks(broker.publish, lambda s, _: broker.end_sessions(s, "revoked"), lambda r: None),
    )


SENDER = UserId("U" + "u" * 20)
SESSION = Session(SessionId("s" * 64), User(SENDER, "Alice", "admin", active=True), now())


async def set_up(store: Store) -> ChannelId:
    """The first user (sequence 1) and a channel (sequence 2)."""
    session = NewSession(SessionId("s" * 64), SENDER, now())
    await store.insert_first_user(
        User(SENDER, "Alice", "admin", active=True), "alice", "-", session, now()
    )
    channel = Channel(ChannelId(new_id("C")), "general", now())
    await store.insert_channel(SENDER, channel, "general")
    return channel.id


async def send(store: Store, channel: ChannelId, n: int) -> None:
    for i in range(n):
        message = Message(MessageId(new_id("M")), channel, SENDER, f"m{i}", now(), Seq(0))
        await store.insert_message(message)


def test_a_stream_opened_during_writes_delivers_every_event_once_in_order(
    tmp_path: Path,
) -> None:
    backlog = REPLAY_BATCH * 2 + 17  # several replay batches before the stream goes live
    live = 300

    async def scenario() -> list[int]:
        broker = Broker()
        store = await open_test_store(tmp_path / "parlour.db", broker)
        try:
            channel = await set_up(store)
            await send(store, channel, backlog)
            stream = await EventStream.open(store, broker, SESSION, 0)
            # Writers run while the stream replays, hands over and goes live.
            writers = [asyncio.create_task(send(store, channel, live // 3)) for _ in range(3)]
            total = 2 + backlog + live
            seen: list[int] = []
            # Order and completeness are the point, not speed: on a loaded machine a quiet
            # second (an empty chunk) may pass before the writers' next commit.
            async with asyncio.timeout(60):
                while len(seen) < total:
                    chunk = await stream.next_chunk(1.0)
                    seen.extend(int(m) for m in FRAME_ID.findall(chunk))
            await asyncio.gather(*writers)
            stream.close()
            return seen
        finally:
            await store.close()

    seen = asyncio.run(scenario())
    assert seen == list(range(1, len(seen) + 1))


def test_a_stream_resumed_mid_history_starts_right_after_its_resume_point(
    tmp_path: Path,
) -> None:
    async def scenario() -> list[int]:
        broker = Broker()
        store = await open_test_store(tmp_path / "parlour.db", broker)
        try:
            await send(store, await set_up(store), 20)
            stream = await EventStream.open(store, broker, SESSION, 10)
            chunk = await stream.next_chunk(1.0)
            stream.close()
            return [int(m) for m in FRAME_ID.findall(chunk)]
        finally:
            await store.close()

    assert asyncio.run(scenario()) == list(range(11, 23))
