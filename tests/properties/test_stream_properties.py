"""Properties of the event stream under concurrency (docs/api/events.md, "What the server
promises", 2-4).

Hypothesis draws what several concurrent writers do and when several readers disconnect
and resume with `Last-Event-ID`. Once the writers are done and the server is quiet, every
reader (its boot plus the events it applied) must equal a fresh boot, and no reader may
ever see an id that is not greater than the one before it.

One server serves a whole test function (starting one per example would be too slow);
each example works in channels of its own, and every reader boots afresh.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from conftest import ServerProcess
from parlour_client import ParlourClient, invite_user
from sse_client import Ended, Event, Heartbeat, apply_event, open_stream, world

WRITER_USERS = 3
# Time is what these tests spend: each example runs a few hundred requests. Shrinking is
# off so that a failure (often a race) is reported within the per-test timeout.
EXAMPLES = settings(
    max_examples=8,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow],
)
READER_TIMEOUT_SECONDS = 30.0


@dataclass
class Site:
    """The shared server of one test module, with logged-in writer sessions."""

    server: ServerProcess
    owner: ParlourClient
    writers: list[ParlourClient]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    database = tmp_path_factory.mktemp("properties") / "parlour.db"
    server = ServerProcess(database, ["--heartbeat", "1s"]).start()
    try:
        owner = server.set_up()
        writers = [owner] + [
            invite_user(server, owner, f"Writer {i}") for i in range(1, WRITER_USERS)
        ]
        yield Site(server, owner, writers)
    finally:
        server.close()


# --- what hypothesis draws ------------------------------------------------------------

ACTIONS = ["send", "send", "send", "delete message", "create channel", "delete channel", "invite"]
operations = st.lists(
    st.tuples(st.sampled_from(ACTIONS), st.integers(min_value=0, max_value=7)),
    min_size=1,
    max_size=12,
)


@dataclass(frozen=True)
class ReaderPlan:
    boot_delay_seconds: float
    # After how many events of each connection the reader drops it (0: right after it
    # opens); once the list is used up it stays connected.
    disconnect_after: list[int]
    resume_with_header: bool


reader_plans = st.builds(
    ReaderPlan,
    boot_delay_seconds=st.sampled_from([0.0, 0.0, 0.01, 0.05, 0.2]),
    disconnect_after=st.lists(st.integers(min_value=0, max_value=6), max_size=6),
    resume_with_header=st.booleans(),
)


# --- writers --------------------------------------------------------------------------


@dataclass
class Shared:
    """What the writers of one example know about each other's channels."""

    tag: str
    channels: list[str]
    lock: threading.Lock = field(default_factory=threading.Lock)
    errors: list[str] = field(default_factory=list)

    def pick(self, index: int) -> str | None:
        with self.lock:
            return self.channels[index % len(self.channels)] if self.channels else None


def write(
    site: Site, shared: Shared, number: int, plan: list[tuple[str, int]], start: threading.Event
) -> None:
    try:
        write_plan(site, shared, number, plan, start)
    except BaseException as e:
        shared.errors.append(f"writer {number} crashed: {e!r}")


def write_plan(
    site: Site, shared: Shared, number: int, plan: list[tuple[str, int]], start: threading.Event
) -> None:
    session = site.writers[number % len(site.writers)]
    mine: list[str] = []
    with ParlourClient(site.server.url, cookies=session.cookies) as client:
        start.wait()
        for step, (action, index) in enumerate(plan):
            label = f"writer {number} step {step} {action}"
            if action == "send":
                channel = shared.pick(index)
                if channel is None:
                    continue
                body = f"{shared.tag} w{number} s{step}\nline two"
                r = client.post(f"/api/channels/{channel}", json={"body": body})
                if r.status_code == 202:
                    mine.append(r.json()["id"])
                elif r.status_code != 404:  # another writer may have removed the channel
                    shared.errors.append(f"{label}: {r.status_code} {r.text}")
            elif action == "delete message":
                if not mine:
                    continue
                message = mine.pop(index % len(mine))
                r = client.delete(f"/api/messages/{message}")
                # 404: an admin writer deleted its channel, with its messages (revision 2).
                if r.status_code not in (202, 404):
                    shared.errors.append(f"{label}: {r.status_code} {r.text}")
            elif action == "create channel":
                r = client.post("/api/channels", json={"name": f"{shared.tag}-{number}-{step}"})
                if r.status_code != 202:
                    shared.errors.append(f"{label}: {r.status_code} {r.text}")
                    continue
                with shared.lock:
                    shared.channels.append(r.json()["id"])
            elif action == "delete channel":
                channel = shared.pick(index)
                if channel is None:
                    continue
                r = client.delete(f"/api/channels/{channel}")
                if r.status_code == 202:
                    with shared.lock:
                        if channel in shared.channels:
                            shared.channels.remove(channel)
                elif r.status_code not in (404, 409):  # gone already, or not empty
                    shared.errors.append(f"{label}: {r.status_code} {r.text}")
            elif action == "invite":
                invite = client.invite()
                name = f"{shared.tag} {number}.{step}"
                with ParlourClient(site.server.url) as newcomer:
                    r = newcomer.post(
                        f"/api/invite/{invite['id']}",
                        json={"name": name, "password": "long enough"},
                    )
                if r.status_code != 200:
                    shared.errors.append(f"{label}: {r.status_code} {r.text}")


# --- readers --------------------------------------------------------------------------


@dataclass
class Reader:
    """A client that boots, follows the stream and reconnects on its own schedule."""

    site: Site
    plan: ReaderPlan
    marker: str
    state: dict[str, Any] = field(default_factory=dict)
    ids: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    connections: int = 0
    done: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        try:
            self.follow()
        except BaseException as e:
            self.errors.append(f"reader crashed: {e!r}")
        finally:
            self.done.set()

    def follow(self) -> None:
        time.sleep(self.plan.boot_delay_seconds)
        with ParlourClient(self.site.server.url, cookies=self.site.owner.cookies) as me:
            snapshot = me.boot()
            self.state = world(snapshot)
            last: int = snapshot["resume_point"]
            if any(c["name"] == self.marker for c in self.state["channels"]):
                return
            schedule = list(self.plan.disconnect_after)
            deadline = time.monotonic() + READER_TIMEOUT_SECONDS
            while time.monotonic() < deadline:
                limit = schedule.pop(0) if schedule else None
                last, finished = self.connect(me, last, limit, deadline)
                if finished or self.errors:
                    return
            self.errors.append(f"the marker never arrived; last id {last}")

    def connect(
        self, me: httpx.Client, last: int, limit: int | None, deadline: float
    ) -> tuple[int, bool]:
        """One connection; returns the new resume point and whether the marker arrived."""
        self.connections += 1
        if self.plan.resume_with_header:
            stream = open_stream(me, last_event_id=str(last), read_timeout=5)
        else:
            stream = open_stream(me, last, read_timeout=5)
        with stream:
            if stream.status_code != 200:
                self.errors.append(f"resume at {last}: {stream.status_code} {stream.body()}")
                return last, False
            received = 0
            while limit is None or received < limit:
                item = stream.get(deadline - time.monotonic())
                if isinstance(item, Heartbeat):
                    continue
                if isinstance(item, Ended):
                    self.errors.append(f"the server ended the stream after id {last}: {item}")
                    return last, False
                received += 1
                self.take(item, last)
                last = item.id
                if item.kind == ("channel", "created") and item.data["name"] == self.marker:
                    return last, True
        return last, False

    def take(self, event: Event, last: int) -> None:
        self.ids.append(event.id)
        if event.id <= last:
            self.errors.append(f"id {event.id} arrived after id {last}")
        collection = {"user": "users", "channel": "channels", "message": "messages"}.get(
            str(event.data.get("type"))
        )
        adds = event.data.get("event") in ("created", "sent") and collection is not None
        if adds and any(x["id"] == event.data["id"] for x in self.state[str(collection)]):
            self.errors.append(f"event {event.id} adds {event.data['id']} a second time")
        apply_event(self.state, event.data)


# --- the properties -------------------------------------------------------------------


@EXAMPLES
@given(
    writer_plans=st.lists(operations, min_size=2, max_size=4),
    plans=st.lists(reader_plans, min_size=1, max_size=3),
)
def test_reconnecting_readers_end_equal_to_a_fresh_boot_under_concurrent_writes(
    site: Site, writer_plans: list[list[tuple[str, int]]], plans: list[ReaderPlan]
) -> None:
    tag = uuid.uuid4().hex[:10]
    shared = Shared(tag, [site.owner.create_channel(f"{tag}-base")["id"]])
    marker = f"{tag}-marker"
    readers = [Reader(site, plan, marker) for plan in plans]
    reader_threads = [threading.Thread(target=r.run, daemon=True) for r in readers]
    go = threading.Event()
    writer_threads = [
        threading.Thread(target=write, args=(site, shared, n, plan, go), daemon=True)
        for n, plan in enumerate(writer_plans)
    ]
    for t in reader_threads + writer_threads:
        t.start()
    go.set()
    for t in writer_threads:
        t.join(60)
        assert not t.is_alive(), "a writer is stuck"
    assert not shared.errors, shared.errors
    # The last event of the example: once a reader has it, it has everything before it.
    site.owner.create_channel(marker)
    for r in readers:
        assert r.done.wait(READER_TIMEOUT_SECONDS + 5), "a reader is stuck"
    truth = world(site.owner.boot())
    for number, r in enumerate(readers):
        assert not r.errors, f"reader {number} ({r.plan}): {r.errors}"
        assert r.ids == sorted(set(r.ids)), f"reader {number} ids: {r.ids}"
        assert r.state == truth, f"reader {number} ({r.plan}) disagrees with a fresh boot"


def replay(client: httpx.Client, start: int, newest: int) -> list[Event]:
    with open_stream(client, start, read_timeout=5) as stream:
        events = stream.events_through(newest, timeout=10) if newest > start else []
        events += stream.quiet_events(0.3)
    return events


@EXAMPLES
@given(
    fractions=st.lists(st.floats(min_value=0, max_value=1), min_size=1, max_size=4),
    extra=st.lists(st.sampled_from(["channel", "message", "deleted message"]), max_size=6),
)
def test_resuming_anywhere_delivers_exactly_the_later_part_of_the_full_replay(
    site: Site, fractions: list[float], extra: list[str]
) -> None:
    tag = uuid.uuid4().hex[:10]
    channel = site.owner.create_channel(f"{tag}-replay")["id"]
    for n, what in enumerate(extra):
        if what == "channel":
            site.owner.create_channel(f"{tag}-{n}")
        else:
            message = site.owner.send_message(channel, f"{tag} {n}")
            if what == "deleted message":
                site.owner.delete_message(message["id"])
    newest = site.owner.resume_point()
    full = replay(site.owner, 0, newest)
    ids = [e.id for e in full]
    assert ids == sorted(set(ids))
    assert ids[-1] == newest
    for fraction in fractions:
        start = int(fraction * newest)
        later = replay(site.owner, start, newest)
        assert [(e.id, e.data) for e in later] == [(e.id, e.data) for e in full if e.id > start]
