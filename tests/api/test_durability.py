"""Durable before visible: every 2xx and every streamed event survives `kill -9`.

SPEC "The guarantees" 1. The server is killed with SIGKILL the instant after answers arrive
(and while more requests are in flight), then restarted on the same database file.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx

from conftest import ServerProcess
from sse_client import boot, create_channel, open_stream, resume_point, send_message, set_up

ROUNDS = 3
SENDERS = 4
ACKNOWLEDGED_BEFORE_KILL = 40


class Senders:
    """Threads that send messages as fast as they can until the server goes away."""

    def __init__(self, server: ServerProcess, cookies: httpx.Cookies, channel_id: str) -> None:
        self.acknowledged: dict[str, str] = {}  # message id -> body
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = [
            threading.Thread(target=self.run, args=(server.url, cookies, channel_id, i))
            for i in range(SENDERS)
        ]
        for t in self.threads:
            t.start()

    def run(self, url: str, cookies: httpx.Cookies, channel_id: str, index: int) -> None:
        with httpx.Client(base_url=url, cookies=cookies, timeout=10) as client:
            n = 0
            while not self.stopping.is_set():
                body = f"sender {index} message {n}"
                n += 1
                try:
                    r = client.post(f"/api/channels/{channel_id}", json={"body": body})
                except httpx.HTTPError:
                    return  # the server is gone
                if r.status_code == 202:
                    with self.lock:
                        self.acknowledged[r.json()["id"]] = body

    def count(self) -> int:
        with self.lock:
            return len(self.acknowledged)

    def wait_for(self, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.count() < count:
            assert time.monotonic() < deadline, f"only {self.count()} sends answered"
            time.sleep(0.001)

    def stop(self) -> dict[str, str]:
        self.stopping.set()
        for t in self.threads:
            t.join(20)
        with self.lock:
            return dict(self.acknowledged)


def reconnect(server: ServerProcess, cookies: httpx.Cookies) -> httpx.Client:
    """A client for the restarted server (new port), with the same session."""
    return server.client(cookies=cookies)


def test_a_message_acknowledged_just_before_kill_9_survives(start_server: Any) -> None:
    server: ServerProcess = start_server()
    owner = server.client()
    set_up(owner)
    cookies = httpx.Cookies(owner.cookies)
    channel = create_channel(owner, "general")
    sent: list[dict[str, Any]] = []
    for round_number in range(ROUNDS):
        client = reconnect(server, cookies)
        for i in range(5):
            sent.append(send_message(client, channel["id"], f"round {round_number} #{i}"))
        server.kill()
        server.restart()
        after = boot(reconnect(server, cookies))
        assert [m for m in after["messages"] if m["id"] in {s["id"] for s in sent}] == sent


def test_every_acknowledged_message_survives_kill_9_under_concurrent_load(
    start_server: Any,
) -> None:
    server: ServerProcess = start_server()
    owner = server.client()
    set_up(owner)
    cookies = httpx.Cookies(owner.cookies)
    channel = create_channel(owner, "general")
    acknowledged: dict[str, str] = {}
    for round_number in range(ROUNDS):
        senders = Senders(server, cookies, channel["id"])
        senders.wait_for(ACKNOWLEDGED_BEFORE_KILL, timeout=30)
        server.kill()  # with requests still in flight
        acknowledged |= senders.stop()
        server.restart()
        stored = {m["id"]: m["body"] for m in boot(reconnect(server, cookies))["messages"]}
        lost = {k: v for k, v in acknowledged.items() if stored.get(k) != v}
        assert not lost, f"round {round_number}: acknowledged but lost after kill -9: {lost}"


def test_every_streamed_event_survives_kill_9(start_server: Any) -> None:
    server: ServerProcess = start_server()
    owner = server.client()
    set_up(owner)
    cookies = httpx.Cookies(owner.cookies)
    channel = create_channel(owner, "general")
    with open_stream(owner, resume_point(owner)) as stream:
        senders = Senders(server, cookies, channel["id"])
        seen = [stream.next_event(10) for _ in range(ACKNOWLEDGED_BEFORE_KILL)]
        server.kill()
        senders.stop()
    server.restart()
    after = boot(reconnect(server, cookies))
    stored = {m["id"] for m in after["messages"]}
    streamed = {e.data["id"] for e in seen if e.kind == ("message", "sent")}
    assert streamed <= stored, f"streamed but lost after kill -9: {streamed - stored}"
    assert after["resume_point"] >= max(e.id for e in seen)


def test_a_channel_and_a_user_acknowledged_before_kill_9_survive(start_server: Any) -> None:
    server: ServerProcess = start_server()
    owner = server.client()
    me = set_up(owner)
    cookies = httpx.Cookies(owner.cookies)
    channel = create_channel(owner, "general")
    server.kill()
    server.restart()
    after = boot(reconnect(server, cookies))
    assert after["user"] == me
    assert after["channels"] == [channel]
