"""Scaling out: three parlour processes on one PostgreSQL database (docs/scaling.md).

Readers follow one process, writers use the others, and readers reconnect to a *different*
process with Last-Event-ID: every guarantee of the stream must hold across processes.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import POSTGRES_ADMIN_URL, ServerProcess, fresh_postgres_database
from parlour_client import Senders
from sse_client import Ended, Event, StreamTimeout, apply_event, open_stream, world

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_ADMIN_URL, reason="no PostgreSQL test cluster"),
]

SENDS_PER_WRITER = 40


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[list[ServerProcess]]:
    """Three processes on one fresh PostgreSQL database."""
    url = fresh_postgres_database()
    servers = [
        ServerProcess(tmp_path / f"unused-{i}.db", ["--heartbeat", "2s"], database_url=url)
        for i in range(3)
    ]
    try:
        for s in servers:
            s.start()
        yield servers
    finally:
        for s in servers:
            s.close()


def test_an_event_committed_through_one_process_reaches_streams_on_the_others(
    cluster: list[ServerProcess],
) -> None:
    a, b, c = cluster
    owner = a.set_up()
    cookies = httpx.Cookies(owner.cookies)
    start = owner.resume_point()
    with (
        open_stream(b.client(cookies=cookies), start) as on_b,
        open_stream(c.client(cookies=cookies), start) as on_c,
    ):
        channel = owner.create_channel("general")
        message = owner.send_message(channel["id"], "hello from a")
        for stream in (on_b, on_c):
            events = stream.events_until(lambda e: e.data.get("id") == message["id"], 10)
            assert [e.kind for e in events] == [("channel", "created"), ("message", "sent")]


def test_readers_reconnecting_to_other_processes_end_equal_to_a_fresh_boot(
    cluster: list[ServerProcess],
) -> None:
    rng = random.Random(7)
    a, b, c = cluster
    owner = a.set_up()
    cookies = httpx.Cookies(owner.cookies)
    channels = [owner.create_channel(f"room {i}")["id"] for i in range(3)]
    acknowledged: list[str] = []
    lock = threading.Lock()

    def write(server: ServerProcess, seed: int) -> None:
        r = random.Random(seed)
        client = server.client(cookies=cookies)
        mine: list[str] = []
        for i in range(SENDS_PER_WRITER):
            if mine and r.random() < 0.2:
                victim = mine.pop(r.randrange(len(mine)))
                client.delete_message(victim)
            else:
                m = client.send_message(r.choice(channels), f"{seed}:{i}")
                mine.append(m["id"])
                with lock:
                    acknowledged.append(m["id"])

    snapshot = a.client(cookies=cookies).boot()
    state = world(snapshot)
    last = snapshot["resume_point"]
    seen: list[int] = []
    writers = [threading.Thread(target=write, args=(s, n)) for n, s in enumerate((b, c, b, c))]
    for t in writers:
        t.start()
    # Follow the stream, hopping to another process after a random number of events.
    servers = [a, b, c]
    hop = 0
    while any(t.is_alive() for t in writers) or hop < 3:
        server = servers[hop % 3]
        hop += 1
        with open_stream(server.client(cookies=cookies), last_event_id=str(last)) as stream:
            for _ in range(rng.randint(3, 25)):
                try:
                    item = stream.get(0.5)
                except StreamTimeout:
                    break
                if isinstance(item, Ended):
                    break
                if not isinstance(item, Event):
                    continue
                seen.append(item.id)
                apply_event(state, item.data)
                last = item.id
    for t in writers:
        t.join(60)
    # Quiet now: read whatever is left from yet another process.
    with open_stream(servers[hop % 3].client(cookies=cookies), last_event_id=str(last)) as stream:
        for event in stream.quiet_events(1.5):
            seen.append(event.id)
            apply_event(state, event.data)
    assert seen == sorted(set(seen)), "ids must strictly increase, with no repeats"
    for server in cluster:
        assert world(state) == world(server.client(cookies=cookies).boot_everything())


def test_killing_one_process_loses_nothing_acknowledged_and_the_others_go_on(
    cluster: list[ServerProcess],
) -> None:
    a, b, c = cluster
    owner = a.set_up()
    cookies = httpx.Cookies(owner.cookies)
    channel = owner.create_channel("general")["id"]
    writer = Senders(b.url, cookies, channel, 1)
    time.sleep(1.0)
    b.kill()
    acknowledged = writer.stop()
    assert acknowledged, "the writer got no acknowledgement before the kill"
    after = c.client(cookies=cookies).send_message(channel, "still here")
    stored = {m["id"] for m in a.client(cookies=cookies).all_messages(channel)}
    assert set(acknowledged) <= stored
    assert after["id"] in stored


def test_logging_out_through_one_process_ends_streams_on_another(
    cluster: list[ServerProcess],
) -> None:
    a, b, _ = cluster
    owner = a.set_up()
    cookies = httpx.Cookies(owner.cookies)
    with open_stream(b.client(cookies=cookies), owner.resume_point()) as stream:
        owner.log_out()
        stream.wait_ended(10)
    assert b.client(cookies=cookies).get("/api/boot").status_code == 401


def test_expiry_on_several_processes_deletes_each_message_once(tmp_path: Path) -> None:
    url = fresh_postgres_database()
    args = ["--message-expiry", "2s", "--expiry-interval", "1s", "--heartbeat", "2s"]
    servers = [ServerProcess(tmp_path / f"unused-{i}.db", args, database_url=url) for i in range(3)]
    try:
        for s in servers:
            s.start()
        owner = servers[0].set_up()
        channel = owner.create_channel("general")["id"]
        start = owner.resume_point()
        sent = {owner.send_message(channel, f"short-lived {i}")["id"] for i in range(10)}
        with open_stream(servers[1].client(cookies=owner.cookies), start) as stream:
            deleted: list[Any] = []
            deadline = time.monotonic() + 20
            while len(deleted) < len(sent) and time.monotonic() < deadline:
                try:
                    item = stream.get(1.0)
                except StreamTimeout:
                    continue
                if isinstance(item, Event) and item.kind == ("message", "deleted"):
                    deleted.append(item.data["id"])
            extra = [
                e.data["id"] for e in stream.quiet_events(3) if e.kind == ("message", "deleted")
            ]
        assert sorted(deleted + extra) == sorted(sent), "each message deleted exactly once"
    finally:
        for s in servers:
            s.close()
