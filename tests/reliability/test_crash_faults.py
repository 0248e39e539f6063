"""Crash faults: `kill -9` at random moments under mixed load, many times (issue 6).

Each round restarts the server on the same SQLite file, drives mixed load at it (messages
sent and deleted, channels created and deleted, invites issued and accepted, readers that
follow the stream and reconnect with `Last-Event-ID` at random) and kills it with SIGKILL at
a random moment. Then, with the server down, the file must pass `PRAGMA integrity_check`;
and once it is up again:

* every acknowledged write is there, exactly (and every acknowledged delete is not);
* whatever was in flight and unacknowledged is all there or not there at all: a message
  with its whole body, an invite accept with both its user and the invite used up;
* every reader, resuming with `Last-Event-ID`, ends up holding what a fresh boot shows.

Bounded by default (about a minute of rounds, as CI runs it). PARLOUR_SOAK=1 runs for 20
minutes, PARLOUR_CRASH_SECONDS=N for N seconds; PARLOUR_CRASH_SEED replays a seed's choices
(not its timing).
"""

from __future__ import annotations

import os
import random
import sqlite3
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from reliability_figures import SOAK, record

from conftest import ServerProcess
from parlour_client import Channel, Message, ParlourClient, User, invite_user
from sse_client import Ended, Event, EventStream, StreamTimeout, apply_event, world

BUDGET_SECONDS = float(os.environ.get("PARLOUR_CRASH_SECONDS", 1200 if SOAK else 60))
MIN_ROUNDS = 4
# How long load runs before the kill: long enough for a few hundred requests, short enough
# for many rounds. The kill lands anywhere in it, including before the first request.
LOAD_SECONDS = (0.0, 2.5)
SENDERS = 3
READERS = 3
# Bodies that stress storage and framing: line breaks, CR, tabs, non-BMP, and sizes that
# span pages. Every body also carries a unique tag, so an unacknowledged send is findable.
BODY_PARTS = ["plain", "two\nlines", "cr\r\nlf", "tab\there", "é😀 ü", "\u2028sep", "x" * 3000]
PASSWORD = "crash test password"


@dataclass
class Ledger:
    """What the clients tried and what the server acknowledged, across every round."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    sends_tried: dict[str, tuple[str, str]] = field(default_factory=dict)  # body: chan, user
    sends_acked: dict[str, Message] = field(default_factory=dict)  # id: message
    deletes_tried: set[str] = field(default_factory=set)
    deletes_acked: set[str] = field(default_factory=set)
    channels: list[str] = field(default_factory=list)  # acked, never deleted: for sending
    channel_names_tried: set[str] = field(default_factory=set)
    channels_acked: dict[str, Channel] = field(default_factory=dict)
    channel_deletes_acked: set[str] = field(default_factory=set)
    invites_acked: set[str] = field(default_factory=set)
    accepts_tried: dict[str, str] = field(default_factory=dict)  # invite id: name
    accepts_acked: dict[str, tuple[User, httpx.Cookies]] = field(default_factory=dict)
    unexpected: list[str] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)

    def note(self, what: str, response: httpx.Response, *ok: int) -> bool:
        with self.lock:
            self.statuses[response.status_code] += 1
            if response.status_code in ok:
                return True
            self.unexpected.append(f"{what}: {response.status_code} {response.text[:200]}")
            return False


@dataclass
class Round:
    """One round's shared state: where the server is, and when it was killed."""

    url: str
    stop: threading.Event = field(default_factory=threading.Event)
    killed_at: float | None = None
    early_failures: list[str] = field(default_factory=list)

    def transport_failed(self, what: str, error: Exception) -> None:
        """A connection failed: expected once the server is killed, a finding before."""
        if self.killed_at is None:
            self.early_failures.append(f"{what}: {error!r}")


def sender(
    rnd: Round, ledger: Ledger, cookies: httpx.Cookies, me: str, tag: str, rng: random.Random
) -> None:
    mine: list[str] = []
    with httpx.Client(base_url=rnd.url, cookies=cookies, timeout=30) as client:
        n = 0
        while not rnd.stop.is_set():
            n += 1
            try:
                with ledger.lock:
                    candidates = [m for m in mine if m not in ledger.deletes_tried]
                if candidates and rng.random() < 0.3:
                    victim = rng.choice(candidates)
                    with ledger.lock:
                        ledger.deletes_tried.add(victim)
                    r = client.delete(f"/api/messages/{victim}")
                    if ledger.note("delete message", r, 202):
                        with ledger.lock:
                            ledger.deletes_acked.add(victim)
                    continue
                with ledger.lock:
                    channel = rng.choice(ledger.channels)
                body = f"{tag}-{n} {rng.choice(BODY_PARTS)}"
                with ledger.lock:
                    ledger.sends_tried[body] = (channel, me)
                r = client.post(f"/api/channels/{channel}", json={"body": body})
                if ledger.note("send", r, 202):
                    message = r.json()
                    with ledger.lock:
                        ledger.sends_acked[message["id"]] = message
                    mine.append(message["id"])
            except httpx.TransportError as e:
                rnd.transport_failed("sender", e)
                return


def channel_worker(rnd: Round, ledger: Ledger, cookies: httpx.Cookies, tag: str) -> None:
    """Creates channels; keeps every third one for sending and deletes the others at once."""
    with httpx.Client(base_url=rnd.url, cookies=cookies, timeout=30) as client:
        n = 0
        while not rnd.stop.is_set():
            n += 1
            name = f"{tag}-{n}"
            try:
                with ledger.lock:
                    ledger.channel_names_tried.add(name)
                r = client.post("/api/channels", json={"name": name})
                if not ledger.note("create channel", r, 202):
                    continue
                channel = r.json()
                with ledger.lock:
                    ledger.channels_acked[channel["id"]] = channel
                    if n % 3 == 0:
                        ledger.channels.append(channel["id"])
                        continue
                r = client.delete(f"/api/channels/{channel['id']}")
                if ledger.note("delete channel", r, 202):
                    with ledger.lock:
                        ledger.channel_deletes_acked.add(channel["id"])
            except httpx.TransportError as e:
                rnd.transport_failed("channels", e)
                return


def inviter(rnd: Round, ledger: Ledger, cookies: httpx.Cookies, tag: str) -> None:
    """Issues invites and accepts each with a new name (each accept costs an argon2 hash)."""
    with (
        httpx.Client(base_url=rnd.url, cookies=cookies, timeout=30) as owner,
        httpx.Client(base_url=rnd.url, timeout=30) as stranger,
    ):
        n = 0
        while not rnd.stop.is_set():
            n += 1
            try:
                r = owner.post("/api/invite", json={})
                if not ledger.note("issue invite", r, 200):
                    continue
                invite_id = r.json()["id"]
                name = f"{tag}-{n}"
                with ledger.lock:
                    ledger.invites_acked.add(invite_id)
                    ledger.accepts_tried[invite_id] = name
                stranger.cookies.clear()
                r = stranger.post(
                    f"/api/invite/{invite_id}", json={"name": name, "password": PASSWORD}
                )
                if ledger.note("accept invite", r, 200):
                    with ledger.lock:
                        ledger.accepts_acked[invite_id] = (
                            r.json(),
                            httpx.Cookies(stranger.cookies),
                        )
            except httpx.TransportError as e:
                rnd.transport_failed("inviter", e)
                return


@dataclass
class Reader:
    """A client following the stream across crashes: its boot plus every event applied."""

    name: str
    cookies: httpx.Cookies
    state: dict[str, Any]
    last: int
    events: int = 0
    reconnects: int = 0
    problems: list[str] = field(default_factory=list)

    def open(self, url: str) -> EventStream:
        self.reconnects += 1
        return EventStream(url, self.cookies, last_event_id=str(self.last), read_timeout=30)

    def apply(self, event: Event) -> None:
        if event.id <= self.last:
            self.problems.append(f"{self.name}: event {event.id} after {self.last}")
        self.last = event.id
        self.events += 1
        apply_event(self.state, event.data)

    def follow(self, rnd: Round, rng: random.Random) -> None:
        """Read for a random while, drop the connection, resume; until the round stops."""
        while not rnd.stop.is_set():
            try:
                stream = self.open(rnd.url)
            except httpx.TransportError as e:
                rnd.transport_failed(self.name, e)
                time.sleep(0.05)
                continue
            with stream:
                if stream.status_code != 200:
                    self.problems.append(f"{self.name}: resume answered {stream.status_code}")
                    return
                until = time.monotonic() + rng.uniform(0.05, 1.5)
                while not rnd.stop.is_set() and time.monotonic() < until:
                    try:
                        item = stream.get(0.2)
                    except StreamTimeout:
                        continue
                    if isinstance(item, Ended):
                        break
                    if isinstance(item, Event):
                        self.apply(item)

    def catch_up(self, url: str, newest: int) -> None:
        """Resume on a quiet server and read through `newest`."""
        with self.open(url) as stream:
            assert stream.status_code == 200, (self.name, stream.status_code, stream.body())
            if self.last < newest:
                for event in stream.events_through(newest, timeout=60):
                    self.apply(event)


def check_integrity(database: Path) -> None:
    """With the server down: SQLite's own checks, and parlour's invariants on sequences: the
    counter is the newest logged event (nothing is purged in these rounds), and every user,
    channel and message row carries the sequence of the event that made it."""
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        newest = conn.execute("SELECT seq FROM counter").fetchone()[0]
        logged = {
            seq: (kind, event, subject)
            for seq, kind, event, subject in conn.execute(
                "SELECT seq, type, event, subject FROM events"
            )
        }
        assert max(logged) == newest, f"newest event {max(logged)} but counter {newest}"
        for table, kind, event in (
            ("users", "user", "created"),
            ("channels", "channel", "created"),
            ("messages", "message", "sent"),
        ):
            for row_id, seq in conn.execute(f"SELECT id, seq FROM {table}"):  # noqa: S608
                assert logged.get(seq) == (kind, event, row_id), f"{table} {row_id}: seq {seq}"
    finally:
        conn.close()


@dataclass
class Figures:
    rounds: int = 0
    kills: int = 0
    unacked_accepts_committed: int = 0
    unacked_accepts_absent: int = 0
    reader_resumes_checked: int = 0


def verify(
    server: ServerProcess,
    ledger: Ledger,
    readers: list[Reader],
    owner_cookies: httpx.Cookies,
    round_accepts: dict[str, str],
    figures: Figures,
) -> None:
    """After a restart: acknowledged writes exact, unacknowledged ones whole or absent."""
    with ParlourClient(server.url, cookies=owner_cookies) as owner:
        truth = owner.boot_everything()  # the server is quiet: one snapshot
        messages = {m["id"]: m for m in truth["messages"]}
        channels = {c["id"]: c for c in truth["channels"]}
        users = {u["name"]: u for u in truth["users"]}

        for message_id, message in ledger.sends_acked.items():
            if message_id in ledger.deletes_acked:
                assert message_id not in messages, f"acknowledged delete undone: {message}"
            elif message_id not in ledger.deletes_tried:
                assert messages.get(message_id) == message, f"acknowledged send lost: {message}"
        for message in truth["messages"]:
            if message["id"] in ledger.sends_acked:
                continue
            tried = ledger.sends_tried.get(message["body"])
            assert tried == (message["channel"], message["sender"]), f"half a send: {message}"
        for channel_id, channel in ledger.channels_acked.items():
            if channel_id in ledger.channel_deletes_acked:
                assert channel_id not in channels, f"acknowledged channel delete undone: {channel}"
            elif channel_id in ledger.channels:
                assert channels.get(channel_id) == channel, f"acknowledged channel lost: {channel}"
        for channel in truth["channels"]:
            assert channel["id"] in ledger.channels_acked or (
                channel["name"] in ledger.channel_names_tried or channel["name"] == "general"
            ), channel

        for user, _ in ledger.accepts_acked.values():
            assert users.get(user["name"]) == user, f"acknowledged accept lost: {user}"
        for invite_id, name in round_accepts.items():
            if invite_id in ledger.accepts_acked:
                # Its session must have survived the crash too (a stream opens with it).
                cookies = ledger.accepts_acked[invite_id][1]
                with EventStream(server.url, cookies, resume_point=truth["resume_point"]) as stream:
                    assert stream.status_code == 200, f"accepted {name}: session lost"
                continue
            looked_up = owner.get(f"/api/invite/{invite_id}").status_code
            if name in users:
                # Committed without an answer: the invite must be used up, the login work.
                assert looked_up == 404, f"user {name} exists but invite {invite_id} unused"
                with ParlourClient(server.url) as c:
                    c.log_in(name, PASSWORD)  # (or it is half an accept)
                figures.unacked_accepts_committed += 1
            else:
                assert looked_up == 200, f"invite {invite_id} used but no user {name}"
                figures.unacked_accepts_absent += 1

        newest = truth["resume_point"]
        for reader in readers:
            reader.catch_up(server.url, newest)
            assert not reader.problems, reader.problems
            with ParlourClient(server.url, cookies=reader.cookies) as own:
                expected = world(own.boot_everything())
            assert world(reader.state) == expected, f"{reader.name} differs from a fresh boot"
            figures.reader_resumes_checked += 1


@pytest.mark.sqlite_only
@pytest.mark.timeout(BUDGET_SECONDS + 600)
def test_acknowledged_writes_survive_random_kill_9_and_readers_resume_to_the_truth(
    start_server: Any,
) -> None:
    seed = int(os.environ.get("PARLOUR_CRASH_SEED", random.randrange(1 << 32)))
    rng = random.Random(seed)
    print(f"crash faults: seed {seed}, budget {BUDGET_SECONDS:.0f} s")  # noqa: T201
    server: ServerProcess = start_server("--heartbeat", "1s")
    owner = server.set_up()
    owner_cookies = httpx.Cookies(owner.cookies)
    users = [owner] + [invite_user(server, owner, f"Sender {i}") for i in range(1, SENDERS)]
    user_ids = [u.me()["id"] for u in users]
    general = owner.create_channel("general")
    ledger = Ledger(channels=[general["id"]])
    ledger.channels_acked[general["id"]] = general
    readers = []
    for i in range(READERS):
        c = users[i % len(users)]
        snapshot = c.boot()
        readers.append(
            Reader(
                f"reader {i}", httpx.Cookies(c.cookies), world(snapshot), snapshot["resume_point"]
            )
        )

    figures = Figures()
    began = time.monotonic()
    while figures.rounds < MIN_ROUNDS or time.monotonic() - began < BUDGET_SECONDS:
        figures.rounds += 1
        tag = f"r{figures.rounds}"
        rnd = Round(server.url)
        accepts_before = set(ledger.accepts_tried)
        threads = [
            threading.Thread(
                target=sender,
                args=(rnd, ledger, httpx.Cookies(users[i].cookies), user_ids[i], f"{tag}s{i}",
                      random.Random(rng.random())),
            )
            for i in range(SENDERS)
        ] + [
            threading.Thread(
                target=channel_worker, args=(rnd, ledger, httpx.Cookies(users[1].cookies), tag)
            ),
            threading.Thread(target=inviter, args=(rnd, ledger, owner_cookies, f"{tag}u")),
        ] + [
            threading.Thread(target=r.follow, args=(rnd, random.Random(rng.random())))
            for r in readers
        ]  # fmt: skip
        for t in threads:
            t.start()
        time.sleep(rng.uniform(*LOAD_SECONDS))
        rnd.killed_at = time.monotonic()
        server.kill()
        figures.kills += 1
        rnd.stop.set()
        for t in threads:
            t.join(60)
            assert not t.is_alive(), "a load thread did not stop after the kill"
        assert not rnd.early_failures, rnd.early_failures
        assert not ledger.unexpected, ledger.unexpected
        check_integrity(server.database)
        server.url = ""
        server.start()
        round_accepts = {k: v for k, v in ledger.accepts_tried.items() if k not in accepts_before}
        verify(server, ledger, readers, owner_cookies, round_accepts, figures)

    with ParlourClient(server.url, cookies=owner_cookies) as last:
        final = last.boot_everything()["messages"]
    stored = {m["id"] for m in final}
    lost = [m for m in ledger.sends_acked if m not in stored and m not in ledger.deletes_tried]
    assert not lost
    acked_bodies = {m["body"] for m in ledger.sends_acked.values()}
    unacked = [body for body in ledger.sends_tried if body not in acked_bodies]
    committed = {m["body"] for m in final} & set(unacked)
    output = "".join(server.output)
    assert "Traceback" not in output, output[-3000:]
    acked_writes = (
        len(ledger.sends_acked)
        + len(ledger.deletes_acked)
        + len(ledger.channels_acked)
        - 1  # "general", made before the load
        + len(ledger.channel_deletes_acked)
        + len(ledger.invites_acked)
        + len(ledger.accepts_acked)
    )
    record(
        "crash faults",
        rounds=figures.rounds,
        kill_9_injected=figures.kills,
        seconds=round(time.monotonic() - began),
        requests_answered=sum(ledger.statuses.values()),
        answers_5xx=sum(n for s, n in ledger.statuses.items() if s >= 500),
        writes_acknowledged=acked_writes,
        messages_acknowledged=len(ledger.sends_acked),
        message_deletes_acknowledged=len(ledger.deletes_acked),
        channel_creates_acknowledged=len(ledger.channels_acked) - 1,  # not "general"
        channel_deletes_acknowledged=len(ledger.channel_deletes_acked),
        invites_acknowledged=len(ledger.invites_acked),
        accepts_acknowledged=len(ledger.accepts_acked),
        writes_lost=len(lost),
        unacknowledged_sends_committed_whole=len(committed),
        unacknowledged_sends_absent=len(unacked) - len(committed),
        unacknowledged_accepts_committed_whole=figures.unacked_accepts_committed,
        unacknowledged_accepts_absent_whole=figures.unacked_accepts_absent,
        reader_events_applied=sum(r.events for r in readers),
        reader_reconnects=sum(r.reconnects for r in readers),
        reader_resumes_checked_against_boot=figures.reader_resumes_checked,
        integrity_checks_ok=figures.kills,
    )
