"""Boot + pages + stream = truth (docs/api/events.md, guarantee 4; docs/api/history.md).

A simulated client boots with a few messages per channel, follows its stream, reconnects with
`Last-Event-ID` when hypothesis says so, applies its events only when told (so that pages are
fetched while events are still on their way), loads older pages, and now and then drops what
it holds of a channel and fetches it again forward with `after`. Meanwhile two users send,
delete, edit and react, inline or from a thread of their own. At every quiet point, for each
channel, the client's messages from the oldest one it loaded onwards must equal what a fresh
boot (`?messages=200`) and history pages of the same user show, field for field; its channels
must equal the fresh boot's; and every page's `position` must be at least the newest event
its stream had delivered when the request left.

Why this holds: the `position` argument
---------------------------------------
(docs/api/history.md is where this belongs; it is kept here until that page exists.)

1. Sequences are taken and committed in one order. A write transaction takes its sequences
   from the `counter` row and raises `counter.seq` in the same transaction, holding the
   write lock (SQLite's one writer; the counter row's lock on PostgreSQL, in every process)
   from its first sequence to its commit. So every committed state holds exactly the events
   numbered up to its `counter.seq`, and no later one.
2. A page is read in one read transaction (a deferred SQLite transaction whose snapshot
   begins with its first read, which is the counter; REPEATABLE READ on PostgreSQL), and its
   `position` is `counter.seq` as that transaction sees it. So the page shows the effects of
   exactly the events numbered up to `position`: every deletion, edit and reaction up to it,
   none after it.
3. A stream writes an event only once its transaction has committed (guarantee 1), in every
   process (PostgreSQL's tail reads committed rows). The read transaction begins after the
   request arrives, so it sees every event any stream had delivered by then: `position` is
   never below the newest event the caller's stream had delivered, nor below any event the
   client had applied.
4. The stream then delivers, in order and once each (guarantees 2 and 3), every later event
   the user may see: those up to `position`, whose effects the page already shows, and those
   after it, which it does not. A client that skips, for the messages of a page, the events
   numbered up to the page's `position` (or applies them idempotently: deleting what is gone
   and setting a body already set change nothing) and applies the rest, ends with each paged
   message as its snapshot plus every later change: the truth. No gap: the page holds every
   retained message of its range as of `position`; an older page's range lies below every
   message the client already holds, all of whose sequences are below any message sent
   later; a forward (`after`) page that reaches the newest end leaves every later message to
   the stream, whose `message sent` is numbered after `position`. No stale message: a
   deletion or an edit after `position` is delivered after the page is held.
5. What a lower `position` would break: were the page's snapshot older than an event A the
   client had already applied, a message deleted (or edited) by A would show on the page in
   its old form, and the deletion, already spent on nothing, would never come again: a stale
   message, for good. Step 3 is what rules this out, and why the page must be read from the
   same committed state as the stream (not a cache or a replica that may lag it).

The client below skips events at or below the `position` of the page a message came from
(the boot's resume point for boot messages), so double application shows up as an error
rather than being hidden by idempotence.

One server serves the module (starting one per example would be too slow); each example
works in channels of its own, made at its start and deleted at its end.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import event as note
from hypothesis import strategies as st

from conftest import ServerProcess
from parlour_client import (
    FullMessage,
    Page,
    ParlourClient,
    Reaction,
    boot_newest,
    expect,
    history,
    invite_user,
)
from sse_client import Ended, Event, EventStream, Heartbeat, StreamTimeout, open_stream

EXAMPLES = settings(
    max_examples=25,
    deadline=None,
    # No shrinking: a failure (maybe a race) is reported within the test's time.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow],
)
QUIET_TIMEOUT_SECONDS = 20.0
EMOJIS = ["👍", "🎉", "+1"]
ALICE, BOB = 0, 1
# The example's channels, by index: two public ones, a private one of Alice and Bob, and a
# private one of Bob alone, which Alice (an admin) must never see.
PUBLIC_1, PUBLIC_2, SHARED, BOBS = range(4)
VISIBLE = (PUBLIC_1, PUBLIC_2, SHARED)


@dataclass
class Site:
    server: ServerProcess
    alice: ParlourClient
    bob: ParlourClient
    alice_id: str
    bob_id: str
    marker: str
    """A public channel whose notification level Alice toggles to mark a quiet point."""
    marker_level: str = "all"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    database = tmp_path_factory.mktemp("history-properties") / "parlour.db"
    server = ServerProcess(database, ["--heartbeat", "1s"]).start()
    try:
        alice = server.set_up()
        bob = invite_user(server, alice, "Bob")
        marker = alice.create_channel("marker")["id"]
        yield Site(server, alice, bob, alice.me()["id"], bob.me()["id"], marker)
    finally:
        server.close()


# --- what hypothesis draws ------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One thing that happens. `index` picks a channel or a live message; `size` is a page's
    limit or how many events to apply; `who` is Alice (0) or Bob (1); `emoji` a reaction."""

    kind: str
    index: int
    size: int
    who: int
    emoji: str


WRITES = ("send", "delete", "edit", "react")
KINDS = [*["send"] * 4, "delete", "edit", "react", "react", "older", "older", "refetch",
         "apply", "apply", "reconnect", "check"]  # fmt: skip
steps = st.builds(
    Step,
    kind=st.sampled_from(KINDS),
    index=st.integers(min_value=0, max_value=40),
    size=st.integers(min_value=1, max_value=4),
    who=st.sampled_from([ALICE, BOB]),
    emoji=st.sampled_from(EMOJIS),
)


@dataclass(frozen=True)
class Plan:
    before_boot: tuple[int, int, int, int]
    """Messages in each channel before the client boots."""
    boot_messages: int
    resume_with_header: bool
    concurrent: bool
    """Whether the writes run on a thread of their own, racing with the client's steps."""
    steps: list[Step]


plans = st.builds(
    Plan,
    before_boot=st.tuples(*[st.integers(min_value=0, max_value=9)] * 4),
    boot_messages=st.integers(min_value=0, max_value=4),
    resume_with_header=st.booleans(),
    concurrent=st.booleans(),
    steps=st.lists(steps, min_size=10, max_size=30),
)


# --- the writers ------------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    id: str
    channel: int
    sender: int


class Writers:
    """Alice and Bob, writing in the example's channels; what they sent and reacted."""

    def __init__(self, site: Site, channels: list[str]) -> None:
        self.clients = [
            ParlourClient(site.server.url, cookies=site.alice.cookies),
            ParlourClient(site.server.url, cookies=site.bob.cookies),
        ]
        self.channels = channels
        self.live: list[Sent] = []
        self.reactions: set[tuple[str, str, int]] = set()
        self.count = 0
        self.errors: list[str] = []

    def close(self) -> None:
        for client in self.clients:
            client.close()

    def do(self, step: Step) -> None:
        try:
            self._do(step)
        except Exception as e:  # reported by the test, with the step
            self.errors.append(f"{step}: {e!r}")

    def _do(self, step: Step) -> None:
        if step.kind == "send":
            channel = step.index % len(self.channels)
            sender = BOB if channel == BOBS else step.who
            self.count += 1
            body = f"message {self.count}\nfrom {'Alice' if sender == ALICE else 'Bob'}"
            answer = self.clients[sender].post(
                f"/api/channels/{self.channels[channel]}", json={"body": body}
            )
            self.live.append(Sent(expect(answer, 202)["id"], channel, sender))
            return
        if not self.live:
            return
        message = self.live[step.index % len(self.live)]
        client = self.clients[message.sender]
        if step.kind == "delete":
            expect(client.delete(f"/api/messages/{message.id}"), 202)
            self.live.remove(message)
            self.reactions = {r for r in self.reactions if r[0] != message.id}
        elif step.kind == "edit":
            self.count += 1
            body = f"edited {self.count}"
            expect(client.post(f"/api/messages/{message.id}", json={"body": body}), 202)
        elif step.kind == "react":
            reactor = BOB if message.channel == BOBS else step.who
            key = (message.id, step.emoji, reactor)
            path = f"/api/messages/{message.id}/reactions"
            if key in self.reactions:
                encoded = quote(step.emoji, safe="")
                expect(self.clients[reactor].delete(f"{path}/{encoded}"), 202)
                self.reactions.remove(key)
            else:
                expect(self.clients[reactor].post(path, json={"emoji": step.emoji}), 202)
                self.reactions.add(key)


class Background:
    """The writers on a thread of their own: steps run in order, as the client goes on."""

    def __init__(self, writers: Writers) -> None:
        self.writers = writers
        self.steps: queue.Queue[Step | None] = queue.Queue()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (step := self.steps.get()) is not None:
            self.writers.do(step)
            self.steps.task_done()
        self.steps.task_done()

    def wait(self) -> None:
        """Until every step handed over so far is done."""
        self.steps.join()

    def stop(self) -> None:
        self.steps.put(None)
        self.thread.join(30)


# --- the client -------------------------------------------------------------------------


@dataclass
class Held:
    message: dict[str, Any]
    as_of: int
    """The sequence its state reflects: the page's position, the boot's resume point, or
    the event that brought it. Events about it up to this one are already in it."""


@dataclass
class Client:
    """What a careful client holds: channels, and for each channel the retained messages
    from `bound` (the oldest sequence it loaded; 0 once it holds the channel's beginning)
    onwards, kept up to date from its stream."""

    site: Site
    http: ParlourClient
    channels: list[dict[str, Any]]
    held: dict[str, dict[str, Held]]
    bound: dict[str, int]
    applied: int
    invisible: str
    errors: list[str] = field(default_factory=list)
    pending: list[Event] = field(default_factory=list)
    delivered: int = 0
    stream: EventStream | None = None
    resume_with_header: bool = False
    # What the example exercised (hypothesis's statistics show them).
    pages: int = 0
    already_in_a_page: int = 0

    # -- the stream

    def connect(self) -> None:
        if self.resume_with_header:
            stream = open_stream(self.http, last_event_id=str(self.applied), read_timeout=10)
        else:
            stream = open_stream(self.http, self.applied, read_timeout=10)
        if stream.status_code != 200:
            self.errors.append(f"resume at {self.applied}: {stream.status_code}")
        self.stream = stream
        self.delivered = self.applied

    def disconnect(self) -> None:
        if self.stream is not None:
            self.stream.close()
            self.stream = None
        self.pending.clear()  # in flight: lost with the connection, sent again on resume

    def pump(self, timeout: float = 0.0) -> None:
        """Take what the stream has delivered so far (waiting up to `timeout` for one)."""
        assert self.stream is not None
        while True:
            try:
                item = self.stream.get(timeout)
            except StreamTimeout:
                return
            timeout = 0.0
            if isinstance(item, Ended):
                self.errors.append(f"the stream ended after {self.delivered}: {item}")
                return
            if isinstance(item, Heartbeat):
                continue
            if item.id <= self.delivered:
                self.errors.append(f"event {item.id} after {self.delivered}")
            self.delivered = item.id
            self.pending.append(item)

    def apply_some(self, count: int) -> None:
        self.pump()
        for item in self.pending[:count]:
            self.apply(item)
        del self.pending[:count]

    def apply(self, event: Event) -> None:
        data, seq = event.data, event.id
        self.applied = seq
        kind = event.kind
        if data.get("channel") == self.invisible or data.get("id") == self.invisible:
            self.errors.append(f"event {seq} about a channel Alice cannot see: {data}")
            return
        if kind[0] == "channel":
            self.apply_channel(kind[1], data)
            return
        channel = data.get("channel")
        if kind[0] not in ("message", "reaction") or channel not in self.held:
            return  # read state, notification levels, users: not what is checked here
        held = self.held[channel]
        message_id = data["message"] if kind[0] == "reaction" else data["id"]
        if kind == ("message", "sent"):
            if message_id in held:
                if held[message_id].as_of < seq:
                    self.errors.append(f"event {seq} sends {message_id} a second time")
                self.already_in_a_page += 1
                return
            message = {k: v for k, v in data.items() if k not in ("type", "event", "at")}
            held[message_id] = Held(message, seq)
            return
        found = held.get(message_id)
        if found is not None and found.as_of >= seq:
            self.already_in_a_page += 1
        if found is None or found.as_of >= seq:
            if kind == ("message", "deleted") and found is not None:
                self.errors.append(f"a page after event {seq} showed {message_id}, deleted")
            return
        found.as_of = seq
        if kind == ("message", "deleted"):
            del held[message_id]
        elif kind == ("message", "edited"):
            found.message.update(
                body=data["body"], mentions=data["mentions"], edited_at=data["edited_at"]
            )
        elif kind == ("reaction", "added"):
            self.add_reaction(found.message["reactions"], data["emoji"], data["user"], seq)
        elif kind == ("reaction", "removed"):
            self.remove_reaction(found.message["reactions"], data["emoji"], data["user"], seq)

    def apply_channel(self, event: str, data: dict[str, Any]) -> None:
        shape = {k: v for k, v in data.items() if k not in ("type", "event", "at")}
        others = [c for c in self.channels if c["id"] != data["id"]]
        if event == "deleted":
            self.channels = others
            self.held.pop(data["id"], None)
        elif event == "created":
            self.channels.append(shape)
        elif event == "updated":
            self.channels = [shape if c["id"] == data["id"] else c for c in self.channels]

    def add_reaction(self, reactions: list[Reaction], emoji: str, user: str, seq: int) -> None:
        for reaction in reactions:
            if reaction["emoji"] == emoji:
                if user in reaction["users"]:
                    self.errors.append(f"event {seq}: {user} added {emoji} again")
                else:
                    reaction["users"].append(user)
                return
        reactions.append({"emoji": emoji, "users": [user]})

    def remove_reaction(self, reactions: list[Reaction], emoji: str, user: str, seq: int) -> None:
        for reaction in reactions:
            if reaction["emoji"] == emoji and user in reaction["users"]:
                reaction["users"].remove(user)
                if not reaction["users"]:
                    reactions.remove(reaction)
                return
        self.errors.append(f"event {seq}: {user} removed {emoji}, which was not there")

    # -- pages

    def page(self, channel: str, **query: int) -> Page:
        """A page, checking that its position covers what the stream delivered."""
        self.pump()
        delivered = self.delivered
        page = history(self.http, channel, **query)
        self.pages += 1
        if page["position"] < delivered:
            self.errors.append(f"page {query} at {page['position']} below event {delivered}")
        return page

    def keep(self, channel: str, messages: list[FullMessage], as_of: int) -> None:
        for message in messages:
            if message["id"] in self.held[channel]:
                self.errors.append(f"{message['id']} came twice (page at {as_of})")
            self.held[channel][message["id"]] = Held(dict(message), as_of)

    def load_older(self, channel: str, limit: int) -> None:
        """The page before the oldest message loaded (nothing to do from the beginning)."""
        if channel not in self.held or self.bound[channel] == 0:
            return
        page = self.page(channel, before=self.bound[channel], limit=limit)
        self.keep(channel, page["messages"], page["position"])
        if page["older"]:
            self.bound[channel] = page["messages"][0]["seq"]
        else:
            self.bound[channel] = 0

    def reload(self, channel: str, limit: int) -> None:
        """Drop the channel's messages and fetch them again, oldest first, with `after`."""
        if channel not in self.held:
            return
        self.held[channel].clear()
        after = max(self.bound[channel] - 1, 0)
        while True:
            page = self.page(channel, after=after, limit=limit)
            self.keep(channel, page["messages"], page["position"])
            if not page["newer"]:
                return
            after = page["messages"][-1]["seq"]

    # -- quiet points

    def catch_up(self) -> None:
        """Let the server mark a quiet point (a notification level only Alice hears of), then
        apply every event up to the mark."""
        site = self.site
        site.marker_level = "none" if site.marker_level == "all" else "all"
        answer = self.http.post(
            f"/api/channels/{site.marker}/notify", json={"level": site.marker_level}
        )
        expect(answer, 202)
        deadline = time.monotonic() + QUIET_TIMEOUT_SECONDS
        while time.monotonic() < deadline and not self.errors:
            self.pump(timeout=0.5)
            while self.pending:
                event = self.pending.pop(0)
                self.apply(event)
                data = event.data
                if event.kind == ("notify", "updated") and (data["channel"], data["level"]) == (
                    site.marker,
                    site.marker_level,
                ):
                    self.pending.clear()  # nothing follows the mark while all is quiet
                    return
        self.errors.append(f"the quiet point's mark never arrived (last event {self.applied})")

    def messages(self, channel: str) -> list[dict[str, Any]]:
        return sorted((h.message for h in self.held[channel].values()), key=lambda m: m["seq"])


def truth(http: ParlourClient, channels: list[str], bounds: dict[str, int]) -> dict[str, Any]:
    """What a fresh boot and history pages show: the channels, and each channel's retained
    messages from `bounds[channel]` on."""
    snapshot = boot_newest(http, 200)
    messages: dict[str, list[dict[str, Any]]] = {}
    for channel in channels:
        found: list[dict[str, Any]] = [
            dict(m) for m in snapshot["messages"] if m["channel"] == channel
        ]
        older = snapshot["older"].get(channel, False)
        while older and (not found or found[0]["seq"] > bounds[channel]):
            before = found[0]["seq"] if found else snapshot["resume_point"] + 1
            page = history(http, channel, before=before, limit=200)
            found[:0] = [dict(m) for m in page["messages"]]
            older = page["older"]
        messages[channel] = [m for m in found if m["seq"] >= bounds[channel]]
    return {"channels": snapshot["channels"], "messages": messages}


def boot_client(site: Site, http: ParlourClient, plan: Plan, invisible: str) -> Client:
    snapshot = boot_newest(http, plan.boot_messages)
    held: dict[str, dict[str, Held]] = {c["id"]: {} for c in snapshot["channels"]}
    bound: dict[str, int] = {}
    resume = snapshot["resume_point"]
    for message in snapshot["messages"]:
        held[message["channel"]][message["id"]] = Held(dict(message), resume)
    for channel, messages in held.items():
        if not snapshot["older"][channel]:
            bound[channel] = 0
        elif messages:
            bound[channel] = min(h.message["seq"] for h in messages.values())
        else:
            bound[channel] = resume + 1
    client = Client(
        site,
        http,
        [dict(c) for c in snapshot["channels"]],
        held,
        bound,
        resume,
        invisible,
        resume_with_header=plan.resume_with_header,
    )
    client.connect()
    return client


def check(client: Client, channels: list[str], label: str) -> None:
    client.catch_up()
    assert not client.errors, f"{label}: {client.errors}"
    # Bounds of channels the client no longer holds do not matter.
    bounds = {c: client.bound.get(c, 0) for c in channels}
    expected = truth(client.http, channels, bounds)
    assert client.channels == expected["channels"], f"{label}: channels"
    for channel in channels:
        assert client.messages(channel) == expected["messages"][channel], (
            f"{label}: channel {channels.index(channel)} from seq {bounds[channel]}"
        )


# --- the property -----------------------------------------------------------------------


def bucket(count: int) -> str:
    return "0" if count == 0 else "1-3" if count <= 3 else "4-9" if count <= 9 else "10+"


def make_channels(site: Site, tag: str) -> list[str]:
    channels = [site.alice.create_channel(f"{tag} {n}")["id"] for n in (1, 2)]
    for name, members in ((f"{tag} shared", [site.alice_id]), (f"{tag} Bob's", [])):
        body = {"name": name, "kind": "private", "members": members}
        channels.append(expect(site.bob.post("/api/channels", json=body), 202)["id"])
    return channels


def remove_channels(site: Site, channels: list[str]) -> None:
    """Delete the example's channels (the admin deletes hers with their messages; Bob leaves
    his own, which deletes it): later examples' boots stay small."""
    for channel in channels[:BOBS]:
        site.alice.delete(f"/api/channels/{channel}")
    site.bob.delete(f"/api/channels/{channels[BOBS]}/members/{site.bob_id}")


@EXAMPLES
@given(plan=plans)
def test_boot_pages_and_stream_equal_a_fresh_boot_and_pages(site: Site, plan: Plan) -> None:
    tag = uuid.uuid4().hex[:10]
    channels = make_channels(site, tag)
    writers = Writers(site, channels)
    background: Background | None = None
    client: Client | None = None
    try:
        for index, count in enumerate(plan.before_boot):
            for _ in range(count):
                writers.do(Step("send", index, 1, ALICE if index % 2 else BOB, ""))
        assert not writers.errors, writers.errors
        with ParlourClient(site.server.url, cookies=site.alice.cookies) as http:
            client = boot_client(site, http, plan, channels[BOBS])
            background = Background(writers) if plan.concurrent else None
            visible = [channels[i] for i in VISIBLE]
            for number, step in enumerate(plan.steps):
                channel = channels[step.index % len(VISIBLE)]
                if step.kind in WRITES:
                    if background is not None:
                        background.steps.put(step)
                    else:
                        writers.do(step)
                elif step.kind == "older":
                    client.load_older(channel, step.size)
                elif step.kind == "refetch":
                    client.reload(channel, step.size)
                elif step.kind == "apply":
                    client.apply_some(step.size)
                elif step.kind == "reconnect":
                    client.disconnect()
                    client.connect()
                elif step.kind == "check":
                    if background is not None:
                        background.wait()
                    check(client, visible, f"step {number}")
                assert not client.errors, f"step {number} {step}: {client.errors}"
            if background is not None:
                background.wait()
            assert not writers.errors, writers.errors
            check(client, visible, "the end")
            note(f"concurrent writers: {plan.concurrent}")
            note(f"pages: {bucket(client.pages)}")
            note(f"events a page already showed: {bucket(client.already_in_a_page)}")
    finally:
        if background is not None:
            background.stop()
        if client is not None:
            client.disconnect()
        writers.close()
        with contextlib.suppress(httpx.HTTPError):
            remove_channels(site, channels)
