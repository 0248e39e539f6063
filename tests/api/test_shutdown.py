"""Shutdown: SIGTERM and SIGINT end streams, finish writes, close the database, exit 0.

docs/operations.md ("Running under systemd", and the exit statuses under "Settings"): stop
accepting, end streams, finish in-flight writes, close the database, exit 0 — promptly, even
with streams open and sends in flight.
"""

from __future__ import annotations

import signal
import time
from typing import Any

import httpx
import pytest

from conftest import ServerProcess
from parlour_client import Senders
from sse_client import Event, Heartbeat, StalledReader, open_stream

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


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_ends_streams_finishes_sends_and_exits_0_promptly(
    start_server: Any, signum: signal.Signals
) -> None:
    server: ServerProcess = start_server()
    owner = server.set_up()
    cookies = httpx.Cookies(owner.cookies)
    channel = owner.create_channel("general")
    with open_stream(owner, owner.resume_point()) as stream:
        senders = Senders(server.url, cookies, channel["id"], SENDERS)
        seen: list[Event | Heartbeat] = [stream.next_event(10) for _ in range(20)]
        code, took = interrupt(server, signum)
        acknowledged = senders.stop()
        seen += stream.wait_ended(2)
    assert code == 0, "".join(server.output[-30:])
    assert took < PROMPTLY_SECONDS, f"exited {code} after {took:.1f} s"
    server.restart()
    # Every retained message, not only boot's newest per channel (docs/api/history.md).
    after = server.client(cookies=cookies).boot_everything()
    stored = {m["id"]: m["body"] for m in after["messages"]}
    lost = {k: v for k, v in acknowledged.items() if stored.get(k) != v}
    assert not lost, f"acknowledged before shutdown but lost: {lost}"
    streamed = {
        e.data["id"] for e in seen if isinstance(e, Event) and e.kind == ("message", "sent")
    }
    assert streamed <= set(stored), f"streamed but lost: {streamed - set(stored)}"


def test_sigterm_exits_promptly_even_with_a_reader_that_never_reads(start_server: Any) -> None:
    server: ServerProcess = start_server()
    owner = server.set_up()
    channel = owner.create_channel("general")
    stalled = StalledReader(server.url, owner.token, owner.resume_point())
    try:
        # Enough to fill the socket buffers, so the server is stuck writing to this reader.
        for i in range(800):
            owner.send_message(channel["id"], f"{i:04d} " + "z" * 7_995)
        code, took = interrupt(server, signal.SIGTERM)
    finally:
        stalled.close()
    assert code == 0, "".join(server.output[-30:])
    assert took < PROMPTLY_SECONDS, f"exited {code} after {took:.1f} s"


def test_sigterm_with_an_idle_stream_exits_0_and_keeps_the_data(start_server: Any) -> None:
    server: ServerProcess = start_server()
    owner = server.set_up()
    cookies = httpx.Cookies(owner.cookies)
    channel = owner.create_channel("general")
    message = owner.send_message(channel["id"], "before the restart")
    with open_stream(owner, owner.resume_point()) as stream:
        code, took = interrupt(server, signal.SIGTERM)
        stream.wait_ended(2)
    assert code == 0, "".join(server.output[-30:])
    assert took < PROMPTLY_SECONDS, f"exited {code} after {took:.1f} s"
    server.restart()
    after = server.client(cookies=cookies).boot()
    assert after["channels"] == [channel]
    assert after["messages"] == [message]
