"""Durable before visible: every 2xx and every streamed event survives `kill -9`.

docs/api/events.md, "What the server promises", 1. The server is killed with SIGKILL the
instant after answers arrive (and while more requests are in flight), then restarted on the
same database file.
"""

from __future__ import annotations

from typing import Any

import httpx

from conftest import ServerProcess
from parlour_client import Message, Senders
from sse_client import open_stream

ROUNDS = 3
SENDERS = 4
ACKNOWLEDGED_BEFORE_KILL = 40


def test_a_message_acknowledged_just_before_kill_9_survives(start_server: Any) -> None:
    server: ServerProcess = start_server()
    owner = server.set_up()
    cookies = httpx.Cookies(owner.cookies)
    channel = owner.create_channel("general")
    sent: list[Message] = []
    for round_number in range(ROUNDS):
        client = server.client(cookies=cookies)
        for i in range(5):
            sent.append(client.send_message(channel["id"], f"round {round_number} #{i}"))
        server.kill()
        server.restart()
        after = server.client(cookies=cookies).boot()
        assert [m for m in after["messages"] if m["id"] in {s["id"] for s in sent}] == sent


def test_every_acknowledged_message_survives_kill_9_under_concurrent_load(
    start_server: Any,
) -> None:
    server: ServerProcess = start_server()
    owner = server.set_up()
    cookies = httpx.Cookies(owner.cookies)
    channel = owner.create_channel("general")
    acknowledged: dict[str, str] = {}
    for round_number in range(ROUNDS):
        senders = Senders(server.url, cookies, channel["id"], SENDERS)
        senders.wait_for(ACKNOWLEDGED_BEFORE_KILL, timeout=30)
        server.kill()  # with requests still in flight
        acknowledged |= senders.stop()
        server.restart()
        # Every retained message, not only the newest 50 that boot carries.
        kept = server.client(cookies=cookies).all_messages(channel["id"])
        stored = {m["id"]: m["body"] for m in kept}
        lost = {k: v for k, v in acknowledged.items() if stored.get(k) != v}
        assert not lost, f"round {round_number}: acknowledged but lost after kill -9: {lost}"


def test_every_streamed_event_survives_kill_9(start_server: Any) -> None:
    server: ServerProcess = start_server()
    owner = server.set_up()
    cookies = httpx.Cookies(owner.cookies)
    channel = owner.create_channel("general")
    with open_stream(owner, owner.resume_point()) as stream:
        senders = Senders(server.url, cookies, channel["id"], SENDERS)
        seen = [stream.next_event(10) for _ in range(ACKNOWLEDGED_BEFORE_KILL)]
        server.kill()
        senders.stop()
    server.restart()
    after = server.client(cookies=cookies).boot_everything()
    stored = {m["id"] for m in after["messages"]}
    streamed = {e.data["id"] for e in seen if e.kind == ("message", "sent")}
    assert streamed <= stored, f"streamed but lost after kill -9: {streamed - stored}"
    assert after["resume_point"] >= max(e.id for e in seen)


def test_a_channel_and_a_user_acknowledged_before_kill_9_survive(start_server: Any) -> None:
    server: ServerProcess = start_server()
    owner = server.client()
    me = owner.set_up()
    cookies = httpx.Cookies(owner.cookies)
    channel = owner.create_channel("general")
    server.kill()
    server.restart()
    after = server.client(cookies=cookies).boot()
    assert after["user"] == me
    assert after["channels"] == [channel]
