"""Shutdown: SIGTERM and SIGINT end streams, finish writes, close the database, exit 0.

SPEC "Command line and storage": stop accepting, end streams, finish in-flight writes,
close the database, exit 0 — promptly, even with streams open and sends in flight.
"""

from __future__ import annotations

import signal
import threading
import time
from typing import Any

import httpx
import pytest

from conftest import ServerProcess
from sse_client import (
    Event,
    Heartbeat,
    StalledReader,
    boot,
    create_channel,
    open_stream,
    resume_point,
    send_message,
    set_up,
)

PROMPTLY_SECONDS = 10.0
SENDERS = 3


def interrupt(server: ServerProcess, signum: signal.Signals) -> tuple[int, float]:
    """Send `signum`; return the exit code and how long the process took to exit."""
    assert server.proc is not None
    began = time.monotonic()
    server.proc.send_signal(signum)
    # Wait longer than the bound, so that a failure says how long the exit really took.
    code = server.proc.wait(3 * PROMPTLY_SECONDS)
    server.proc = None
    return code, time.monotonic() - began


def keep_sending(
    url: str, cookies: httpx.Cookies, channel_id: str, stop: threading.Event, out: dict[str, str]
) -> None:
    with httpx.Client(base_url=url, cookies=cookies, timeout=10) as client:
        n = 0
        while not stop.is_set():
            body = f"{threading.get_ident()} {n}"
            n += 1
            try:
                r = client.post(f"/api/channels/{channel_id}", json={"body": body})
            except httpx.HTTPError:
                return
            if r.status_code == 202:
                out[r.json()["id"]] = body


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_ends_streams_finishes_sends_and_exits_0_promptly(
    start_server: Any, signum: signal.Signals
) -> None:
    server: ServerProcess = start_server()
    owner = server.client()
    set_up(owner)
    cookies = httpx.Cookies(owner.cookies)
    channel = create_channel(owner, "general")
    acknowledged: dict[str, str] = {}
    stop = threading.Event()
    with open_stream(owner, resume_point(owner)) as stream:
        threads = [
            threading.Thread(
                target=keep_sending, args=(server.url, cookies, channel["id"], stop, acknowledged)
            )
            for _ in range(SENDERS)
        ]
        for t in threads:
            t.start()
        seen: list[Event | Heartbeat] = [stream.next_event(10) for _ in range(20)]
        code, took = interrupt(server, signum)
        stop.set()
        for t in threads:
            t.join(20)
        seen += stream.wait_ended(2)
    assert code == 0, "".join(server.output[-30:])
    assert took < PROMPTLY_SECONDS, f"exited {code} after {took:.1f} s"
    server.restart()
    after = boot(server.client(cookies=cookies))
    stored = {m["id"]: m["body"] for m in after["messages"]}
    lost = {k: v for k, v in acknowledged.items() if stored.get(k) != v}
    assert not lost, f"acknowledged before shutdown but lost: {lost}"
    streamed = {
        e.data["id"] for e in seen if isinstance(e, Event) and e.kind == ("message", "sent")
    }
    assert streamed <= set(stored), f"streamed but lost: {streamed - set(stored)}"


def test_sigterm_exits_promptly_even_with_a_reader_that_never_reads(start_server: Any) -> None:
    server: ServerProcess = start_server()
    owner = server.client()
    set_up(owner)
    channel = create_channel(owner, "general")
    token = owner.cookies.get("identity")
    assert token
    stalled = StalledReader(server.url, token, resume_point(owner))
    try:
        # Enough to fill the socket buffers, so the server is stuck writing to this reader.
        for i in range(800):
            send_message(owner, channel["id"], f"{i:04d} " + "z" * 7_995)
        code, took = interrupt(server, signal.SIGTERM)
    finally:
        stalled.close()
    assert code == 0, "".join(server.output[-30:])
    assert took < PROMPTLY_SECONDS, f"exited {code} after {took:.1f} s"


def test_sigterm_with_an_idle_stream_exits_0_and_keeps_the_data(start_server: Any) -> None:
    server: ServerProcess = start_server()
    owner = server.client()
    set_up(owner)
    cookies = httpx.Cookies(owner.cookies)
    channel = create_channel(owner, "general")
    message = send_message(owner, channel["id"], "before the restart")
    with open_stream(owner, resume_point(owner)) as stream:
        code, took = interrupt(server, signal.SIGTERM)
        stream.wait_ended(2)
    assert code == 0, "".join(server.output[-30:])
    assert took < PROMPTLY_SECONDS, f"exited {code} after {took:.1f} s"
    server.restart()
    after = boot(server.client(cookies=cookies))
    assert after["channels"] == [channel]
    assert after["messages"] == [message]
