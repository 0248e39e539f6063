"""History pages across processes: a page's `position` covers what a stream on another
process delivered (docs/api/history.md, docs/scaling.md).

With several processes on one PostgreSQL database, a stream hears of events committed by
other processes through its tail, and a page may be read by yet another process. The
position argument still holds there: an event reaches a stream only once committed, and the
page is read in a transaction that begins after the request arrives.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conftest import POSTGRES_ADMIN_URL, ServerProcess, fresh_postgres_database
from parlour_client import Senders, history, whole_history
from sse_client import Ended, Event, StreamTimeout, open_stream

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_ADMIN_URL, reason="no PostgreSQL test cluster"),
]


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[list[ServerProcess]]:
    """Three processes on one fresh PostgreSQL database."""
    url = fresh_postgres_database()
    servers = [ServerProcess(tmp_path / f"unused-{i}.db", database_url=url) for i in range(3)]
    try:
        for s in servers:
            s.start()
        yield servers
    finally:
        for s in servers:
            s.close()


def test_a_page_on_one_process_covers_what_a_stream_on_another_delivered(
    cluster: list[ServerProcess],
) -> None:
    writer, streamer, pager = cluster
    owner = writer.set_up()
    cookies = httpx.Cookies(owner.cookies)
    channel = owner.create_channel("busy")["id"]
    delivered = 0
    stop = threading.Event()
    stream = open_stream(streamer.client(cookies=cookies), owner.resume_point(), read_timeout=10)
    problems: list[str] = []

    def follow() -> None:
        nonlocal delivered
        while not stop.is_set():
            try:
                item = stream.get(0.2)
            except StreamTimeout:
                continue
            if isinstance(item, Ended):
                problems.append(f"the stream ended: {item}")
                return
            if isinstance(item, Event):
                delivered = item.id

    follower = threading.Thread(target=follow, daemon=True)
    follower.start()
    senders = Senders(writer.url, cookies, channel, 4)
    reader = pager.client(cookies=cookies)
    pages = []
    try:
        senders.wait_for(20, timeout=30)
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            seen = delivered  # read before the request leaves
            page = history(reader, channel, limit=200)
            assert page["position"] >= seen, "the page is older than the other process's stream"
            pages.append(page)
    finally:
        senders.stop()
        stop.set()
        follower.join(10)
        stream.close()
    assert not problems, problems
    assert delivered > 0, "the stream delivered nothing"

    everything = whole_history(reader, channel)  # nothing was deleted
    for page in pages:
        if page["messages"]:
            first = page["messages"][0]["seq"]
            expected = [m["id"] for m in everything if first <= m["seq"] <= page["position"]]
            assert [m["id"] for m in page["messages"]] == expected, f"at {page['position']}"
