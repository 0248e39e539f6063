"""Nothing private leaks, whatever happens in whatever order (issue 13; docs/api/events.md,
"Who receives what", guarantees 3 and 4).

Hypothesis draws a run of steps: four users (two admins, two members) create public and
private channels and direct conversations, add, leave and remove members, send, edit,
react to and delete messages, delete channels, move read positions and notification
levels; meanwhile readers (a user's session each, two of them for one user) follow their
streams, drop them and resume with Last-Event-ID, or boot again from scratch.

A model beside the server knows, for every step, who was a member of each channel when it
happened, and so who may receive each event it makes (the members then, plus a member being
removed for their removal, or only the actor for read state). It predicts each request's
status too (404 for a channel or message the actor cannot see, 403, 409, 202). After every
step, every event that has reached any stream is judged against the moment it was made:
an event its user could not see then is a leak, and fails the example. When the steps are
done, a public channel created last tells each reader it has everything, and each reader
(its boot and history, plus what its streams carried, applied as a client applies them)
must equal a fresh boot of the same user plus the full history of each channel: the same
channels, messages (bodies, edits, reactions) and read state.

One server serves a whole test (several examples); each example makes channels of its own
(direct conversations, one per set of users, carry over). The two-process variant runs
readers on one process and writers on another, on one PostgreSQL database. Each test stops
running examples after a time budget, so that a busy machine makes it shallower, not late.
"""

from __future__ import annotations

import bisect
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import hypothesis
import pytest
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

from conftest import POSTGRES_ADMIN_URL, ServerProcess, fresh_postgres_database
from parlour_client import ParlourClient, expect, invite_user
from sse_client import Ended, Event, EventStream, Heartbeat, StreamTimeout, open_stream

# Each example makes a few dozen requests; shrinking is off so that a failure is reported
# within the test's time limit, with the steps that led to it.
EXAMPLES = settings(
    max_examples=15,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# Bounded in time on a busy machine: once a test has spent BUDGET_SECONDS on examples, the
# examples left pass without running (at least one always runs), well within the timeout.
BUDGET_SECONDS = 75.0
TIMEOUT_SECONDS = 300
SETTLE_SECONDS = 20.0
NAMES = ["Alice", "Bob", "Carol", "Dave"]
ADMINS = {"Alice", "Bob"}
EMOJI = ["+1", "🎉", "👀"]
LEVELS = ["all", "mentions", "none"]
EVENT_HEAD = ("type", "event", "at")


# --- the server(s) -------------------------------------------------------------------------------


@dataclass
class Site:
    """Writers talk to `writer`, readers to `reader` (the same process, or another one on
    the same PostgreSQL database). `directs` remembers every direct conversation made so
    far (set of members → id), since they outlive the example that made them."""

    writer: ServerProcess
    reader: ServerProcess
    users: dict[str, str]  # name → id
    writers: dict[str, ParlourClient]  # name → a client on the writers' process
    cookies: dict[str, httpx.Cookies]
    clock: str
    """A public channel that stays empty: a page of its history tells the newest sequence
    (its `position`) at the cost of one small read, where a boot grows with the channels."""
    directs: dict[frozenset[str], str] = field(default_factory=dict)
    deadline: float | None = None

    def reader_client(self, name: str) -> ParlourClient:
        return self.reader.client(cookies=self.cookies[name])


def make_site(writer: ServerProcess, reader: ServerProcess) -> Site:
    owner = writer.set_up(NAMES[0], "password of Alice")
    clients = {NAMES[0]: owner}
    for name in NAMES[1:]:
        clients[name] = invite_user(writer, owner, name)
    users = {name: c.me()["id"] for name, c in clients.items()}
    for name in ADMINS - {NAMES[0]}:
        expect(owner.post(f"/api/users/{users[name]}", json={"role": "admin"}), 202)
    cookies = {name: httpx.Cookies(c.cookies) for name, c in clients.items()}
    clock = owner.create_channel("clock")["id"]
    return Site(writer, reader, users, clients, cookies, clock)


@pytest.fixture(scope="module")
def one_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    database = tmp_path_factory.mktemp("private-properties") / "parlour.db"
    server = ServerProcess(database, ["--heartbeat", "2s"]).start()
    try:
        yield make_site(server, server)
    finally:
        server.close()


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("private-properties-pg")
    url = fresh_postgres_database()
    servers = [
        ServerProcess(folder / f"unused-{i}.db", ["--heartbeat", "2s"], database_url=url)
        for i in range(2)
    ]
    try:
        for s in servers:
            s.start()
        yield make_site(servers[0], servers[1])
    finally:
        for s in servers:
            s.close()


# --- the model -----------------------------------------------------------------------------------


@dataclass
class Room:
    id: str
    kind: str
    members: list[str]  # user ids, in the order they joined ([] when public)
    gone: bool = False

    def sees(self, user: str) -> bool:
        return not self.gone and (self.kind == "public" or user in self.members)


@dataclass
class Note:
    """A message the example sent."""

    id: str
    channel: str
    sender: str
    gone: bool = False
    reactions: dict[str, list[str]] = field(default_factory=dict)


Summary = tuple[str, str, str]


@dataclass
class Model:
    site: Site
    rooms: list[Room] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    # Per step that made events: the newest sequence after it, and who may see what it made.
    newest: list[int] = field(default_factory=list)
    allowed: list[dict[Summary, set[str]]] = field(default_factory=list)
    everyone: set[str] = field(default_factory=set)

    def room(self, channel: str) -> Room:
        return next(r for r in self.rooms if r.id == channel)

    def audience(self, room: Room) -> set[str]:
        return set(self.everyone) if room.kind == "public" else set(room.members)

    def made(self, entries: list[tuple[Summary, set[str]]]) -> None:
        """A step succeeded: note the newest sequence now and who may see its events."""
        self.newest.append(self.site.writers[NAMES[0]].history(self.site.clock)["position"])
        allowed: dict[Summary, set[str]] = {}
        for summary, who in entries:
            allowed.setdefault(summary, set()).update(who)
        self.allowed.append(allowed)

    def may_see(self, user: str, event: Event) -> bool:
        """Whether `user` could see `event` when it was made (judged by the step whose
        sequence range holds its id)."""
        step = bisect.bisect_left(self.newest, event.id)
        if step >= len(self.allowed):
            return False
        data = event.data
        subject = str(data.get("id") or data.get("message") or data.get("channel"))
        return user in self.allowed[step].get((event.kind[0], event.kind[1], subject), set())


def summary(type_: str, event: str, subject: str) -> Summary:
    return (type_, event, subject)


# --- the readers ---------------------------------------------------------------------------------


def default_level(channel: dict[str, Any]) -> str:
    return "all" if channel["kind"] == "direct" else "mentions"


def channel_of(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in EVENT_HEAD}


@dataclass
class Reader:
    """A client of one user: a boot, its history, a stream, applying events as they come."""

    name: str
    user: str
    model: Model
    client: ParlourClient
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)
    reads: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Per channel joined while following the stream: the position of the history read
    # then. Its page already shows every event up to there (docs/api/history.md).
    paged_at: dict[str, int] = field(default_factory=dict)
    stream: EventStream | None = None
    last: int = 0
    ids: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def boot(self) -> None:
        """Start afresh: a boot, every channel's full history, a stream from there."""
        self.close()
        snapshot = expect(self.client.get("/api/boot", params={"messages": 200}), 200)
        self.channels = {c["id"]: c for c in snapshot["channels"]}
        self.messages = {m["id"]: m for m in snapshot["messages"]}
        self.reads = {c: {"seq": r["seq"], "notify": r["notify"]}
                      for c, r in snapshot["reads"].items()}  # fmt: skip
        for channel, older in snapshot["older"].items():
            if older:
                self.load(channel)
        self.last = snapshot["resume_point"]
        self.stream = open_stream(self.client, self.last, read_timeout=30)

    def load(self, channel: str) -> None:
        """The channel's whole history, joined to what is held: the stream's events up to
        the page's position are already in it, so they are skipped (see `apply`)."""
        answer = self.client.get(f"/api/channels/{channel}/messages", params={"limit": 200})
        if answer.status_code == 404:
            return  # removed again since: the stream will say so
        page = expect(answer, 200)
        self.paged_at[channel] = page["position"]
        found = list(page["messages"])
        while page["older"]:
            page = self.client.history(channel, before=found[0]["seq"], limit=200)
            found[:0] = page["messages"]
        for message in found:
            self.messages.setdefault(message["id"], message)

    def reconnect(self) -> None:
        """Drop the stream (if still open), losing whatever it had received but not yet
        handed over, and resume with Last-Event-ID from the last event applied."""
        self.close()
        self.stream = open_stream(self.client, last_event_id=str(self.last), read_timeout=30)

    def go_offline(self) -> None:
        """Drop the stream and stay away until the next reconnect or boot: what happens
        meanwhile will come by replay."""
        self.close()

    def close(self) -> None:
        if self.stream is not None:
            self.stream.close()
            self.stream = None

    def drain(self, until: str | None = None, timeout: float = 0.0) -> bool:
        """Apply what has arrived (and, with `until`, wait up to `timeout` for the channel
        of that id to be created); returns whether it was. Offline, nothing arrives."""
        if self.stream is None:
            return False
        while True:
            try:
                item = self.stream.get(timeout)
            except StreamTimeout:
                return False
            if isinstance(item, Heartbeat):
                continue
            if isinstance(item, Ended):
                self.errors.append(f"{self.name}: the stream ended: {item}")
                return False
            self.take(item)
            if until is not None and item.data.get("id") == until:
                return True

    def take(self, event: Event) -> None:
        if not self.model.may_see(self.user, event):
            self.errors.append(f"LEAK: {self.name} received {event.id} {event.data}")
        if event.id <= self.last:
            self.errors.append(f"{self.name}: id {event.id} after {self.last}")
        self.ids.append(event.id)
        self.last = event.id
        self.apply(event)

    def apply(self, event: Event) -> None:
        data = event.data
        kind = event.kind
        if kind in (("channel", "created"), ("channel", "updated")):
            channel = channel_of(data)
            if channel["kind"] != "public" and self.user not in channel["members"]:
                self.forget(channel["id"])
            elif channel["id"] in self.channels:
                self.channels[channel["id"]] = channel
            else:
                self.channels[channel["id"]] = channel
                self.reads[channel["id"]] = {"seq": event.id, "notify": default_level(channel)}
                if kind[1] == "updated":  # joined a channel with a past: read it
                    self.load(channel["id"])
        elif kind == ("channel", "deleted"):
            self.forget(data["id"])
        elif kind[0] in ("message", "reaction") and event.id <= self.paged_at.get(
            data["channel"], 0
        ):
            pass  # a history page read since shows it already (not read state: not in it)
        elif kind == ("message", "sent"):
            if data["channel"] not in self.channels:
                self.errors.append(f"{self.name}: a message of an unknown channel: {data}")
            self.messages.setdefault(data["id"], channel_of(data))
        elif kind == ("message", "edited"):
            if data["id"] in self.messages:
                edited = self.messages[data["id"]]
                edited.update(
                    body=data["body"], mentions=data["mentions"], edited_at=data["edited_at"]
                )
        elif kind == ("message", "deleted"):
            self.messages.pop(data["id"], None)
        elif kind in (("reaction", "added"), ("reaction", "removed")):
            reacted = self.messages.get(data["message"])
            if reacted is not None:
                react(reacted, data["emoji"], data["user"], kind[1] == "added")
        elif kind == ("read", "updated"):
            self.reads[data["channel"]]["seq"] = data["seq"]
        elif kind == ("notify", "updated"):
            self.reads[data["channel"]]["notify"] = data["level"]

    def forget(self, channel: str) -> None:
        self.channels.pop(channel, None)
        self.paged_at.pop(channel, None)
        self.reads.pop(channel, None)
        for m in [m for m in self.messages.values() if m["channel"] == channel]:
            del self.messages[m["id"]]

    def world(self) -> dict[str, Any]:
        """Channels, messages by channel and read state, as held."""
        return world_of(self.user, self.channels, self.messages, self.reads)


def react(message: dict[str, Any], emoji: str, user: str, added: bool) -> None:
    """A reaction event applied to a message (docs/api/channels-and-messages.md: emoji in the
    order first added, users in the order they added it), idempotently: a page may already
    show what a queued event says."""
    reactions: list[dict[str, Any]] = message["reactions"]
    entry = next((r for r in reactions if r["emoji"] == emoji), None)
    if added:
        if entry is None:
            reactions.append({"emoji": emoji, "users": [user]})
        elif user not in entry["users"]:
            entry["users"].append(user)
    elif entry is not None and user in entry["users"]:
        entry["users"].remove(user)
        if not entry["users"]:
            reactions.remove(entry)


def world_of(
    user: str,
    channels: dict[str, dict[str, Any]],
    messages: dict[str, dict[str, Any]],
    reads: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    by_channel: dict[str, list[dict[str, Any]]] = {c: [] for c in channels}
    for m in sorted(messages.values(), key=lambda m: m["seq"]):
        by_channel.setdefault(m["channel"], []).append(m)
    states = {}
    for c, r in reads.items():
        later = [m for m in by_channel.get(c, []) if m["seq"] > r["seq"] and m["sender"] != user]
        states[c] = {
            "seq": r["seq"],
            "unread": len(later),
            "mentions": sum(1 for m in later if user in m["mentions"]),
            "notify": r["notify"],
        }
    return {"channels": channels, "messages": by_channel, "reads": states}


def truth(client: ParlourClient) -> dict[str, Any]:
    """A fresh boot of the user, with every channel's full history."""
    snapshot = expect(client.get("/api/boot", params={"messages": 200}), 200)
    messages = {m["id"]: m for m in snapshot["messages"]}
    for channel, older in snapshot["older"].items():
        if older:
            messages.update({m["id"]: m for m in client.all_messages(channel)})
    channels = {c["id"]: c for c in snapshot["channels"]}
    world = world_of(snapshot["user"]["id"], channels, messages, {})
    world["reads"] = snapshot["reads"]
    return world


# --- the steps -----------------------------------------------------------------------------------

person = st.integers(min_value=0, max_value=len(NAMES) - 1)
index = st.integers(min_value=0, max_value=50)
people = st.lists(person, max_size=3)
steps = st.lists(
    st.one_of(
        st.tuples(st.just("private"), person, people),
        st.tuples(st.just("private"), person, people),
        st.tuples(st.just("public"), person),
        st.tuples(st.just("direct"), person, people),
        st.tuples(st.just("add"), person, index, person),
        st.tuples(st.just("add"), person, index, person),
        st.tuples(st.just("leave"), person, index),
        st.tuples(st.just("remove"), person, index, person),
        st.tuples(st.just("send"), person, index),
        st.tuples(st.just("send"), person, index),
        st.tuples(st.just("send"), person, index),
        st.tuples(st.just("send"), person, index),
        st.tuples(st.just("edit"), person, index),
        st.tuples(st.just("react"), person, index, st.integers(0, len(EMOJI) - 1)),
        st.tuples(st.just("unreact"), person, index, st.integers(0, len(EMOJI) - 1)),
        st.tuples(st.just("delete message"), person, index),
        st.tuples(st.just("delete channel"), person, index),
        st.tuples(st.just("read"), person, index),
        st.tuples(st.just("notify"), person, index, st.integers(0, len(LEVELS) - 1)),
        st.tuples(st.just("reconnect"), index),
        st.tuples(st.just("offline"), index),
        st.tuples(st.just("offline"), index),
        st.tuples(st.just("reboot"), index),
    ),
    min_size=15,
    max_size=40,
)


class Run:
    """One example: the model, the readers, and each step applied to both."""

    def __init__(self, site: Site, tag: str) -> None:
        self.site = site
        self.tag = tag
        self.model = Model(site, everyone=set(site.users.values()))
        # Each user reads; Bob on two streams at once.
        names = [*NAMES, "Bob"]
        self.readers = [
            Reader(f"{name} #{i}", site.users[name], self.model, site.reader_client(name))
            for i, name in enumerate(names)
        ]
        self.count = 0

    def id(self, name_index: int) -> str:
        return self.site.users[NAMES[name_index]]

    def pick_room(self, i: int, kind: str | None = None) -> Room | None:
        """The i-th room, counting only those of `kind` (if any) four times out of five."""
        rooms = self.model.rooms
        if kind is not None and i % 5 and any(r.kind == kind for r in rooms):
            rooms = [r for r in rooms if r.kind == kind]
        return rooms[i % len(rooms)] if rooms else None

    def pick_note(self, i: int) -> Note | None:
        return self.model.notes[i % len(self.model.notes)] if self.model.notes else None

    def name_of(self, user: str) -> str:
        return next(n for n, u in self.site.users.items() if u == user)

    def is_admin(self, user: str) -> bool:
        return any(self.site.users[n] == user for n in ADMINS)

    def expect(self, step: tuple[Any, ...], answer: httpx.Response, status: int) -> bool:
        event(f"{step[0]}: {status}")
        assert answer.status_code == status, (
            f"{step}: {answer.status_code}, the model expected {status}: {answer.text}"
        )
        return status < 300

    def do(self, step: tuple[Any, ...]) -> None:
        kind = step[0]
        if kind == "reconnect":
            self.readers[step[1] % len(self.readers)].reconnect()
            return
        if kind == "reboot":
            self.readers[step[1] % len(self.readers)].boot()
            return
        if kind == "offline":
            self.readers[step[1] % len(self.readers)].go_offline()
            return
        actor = self.id(step[1])
        client = self.site.writers[NAMES[step[1]]]
        self.count += 1
        model = self.model
        if kind in ("private", "public"):
            name = f"{self.tag}-{self.count}"
            body: dict[str, Any] = {"name": name, "kind": kind}
            if kind == "private":
                body["members"] = [self.id(p) for p in step[2]]
            answer = client.post("/api/channels", json=body)
            self.expect(step, answer, 202)
            channel = answer.json()
            made = Room(channel["id"], kind, channel.get("members", []))
            if kind == "private":
                assert made.members == list(dict.fromkeys([actor, *body["members"]]))
            model.rooms.append(made)
            model.made([(summary("channel", "created", made.id), model.audience(made))])
        elif kind == "direct":
            others = [self.id(p) for p in step[2]]
            key = frozenset([actor, *others])
            known = self.site.directs.get(key)
            answer = client.post("/api/direct", json={"members": others})
            self.expect(step, answer, 200 if known else 202)
            channel = answer.json()
            assert set(channel["members"]) == key
            self.site.directs[key] = channel["id"]
            if all(r.id != channel["id"] for r in model.rooms):
                model.rooms.append(Room(channel["id"], "direct", channel["members"]))
            if not known:
                model.made([(summary("channel", "created", channel["id"]), set(key))])
        elif kind == "send":
            room = self.pick_room(step[2])
            if room is None:
                return
            actor, client = self.insider(step, room)
            answer = client.post(f"/api/channels/{room.id}", json={"body": f"{self.count}"})
            if self.expect(step, answer, 202 if room.sees(actor) else 404):
                model.notes.append(Note(answer.json()["id"], room.id, actor))
                model.made([(summary("message", "sent", model.notes[-1].id), model.audience(room))])
        elif kind in ("add", "leave", "remove"):
            self.membership(step)
        elif kind == "delete channel":
            room = self.pick_room(step[2])
            if room is None:
                return
            actor, client = self.insider(step, room)
            holds = [n for n in model.notes if n.channel == room.id and not n.gone]
            if not room.sees(actor):
                status = 404
            elif room.kind == "direct" or (holds and not self.is_admin(actor)):
                status = 409
            else:
                status = 202
            if self.expect(step, client.delete(f"/api/channels/{room.id}"), status):
                self.delete_room(room, model.audience(room), [])
        elif kind in ("read", "notify"):
            room = self.pick_room(step[2])
            if room is None:
                return
            actor, client = self.insider(step, room)
            if kind == "read":
                newest = model.newest[-1] if model.newest else 0
                answer = client.post(f"/api/channels/{room.id}/read", json={"seq": newest})
            else:
                level = LEVELS[step[3]]
                answer = client.post(f"/api/channels/{room.id}/notify", json={"level": level})
            if self.expect(step, answer, 202 if room.sees(actor) else 404):
                model.made([(summary(kind, "updated", room.id), {actor})])
        else:
            self.message_step(step)

    def insider(self, step: tuple[Any, ...], room: Room) -> tuple[str, ParlourClient]:
        """Who acts on `room`: three times out of four one of its members (most requests
        should be ones that can work), else whoever was drawn."""
        name = NAMES[step[1]]
        if step[2] % 4 and room.kind != "public" and room.members:
            user = room.members[step[1] % len(room.members)]
            name = self.name_of(user)
        return self.site.users[name], self.site.writers[name]

    def visible_note(self, note: Note, actor: str) -> bool:
        return not note.gone and self.model.room(note.channel).sees(actor)

    def message_step(self, step: tuple[Any, ...]) -> None:
        kind = step[0]
        note = self.pick_note(step[2])
        if note is None:
            return
        model = self.model
        room = model.room(note.channel)
        actor, client = self.insider(step, room)
        if kind == "edit" and step[2] % 4:
            actor, client = note.sender, self.site.writers[self.name_of(note.sender)]
        audience = model.audience(room)
        visible = self.visible_note(note, actor)
        if kind == "edit":
            answer = client.post(f"/api/messages/{note.id}", json={"body": f"edited {self.count}"})
            status = 404 if not visible else 202 if note.sender == actor else 403
            if self.expect(step, answer, status):
                model.made([(summary("message", "edited", note.id), audience)])
        elif kind == "react":
            emoji = EMOJI[step[3]]
            answer = client.post(f"/api/messages/{note.id}/reactions", json={"emoji": emoji})
            mine = actor in note.reactions.get(emoji, [])
            if self.expect(step, answer, 404 if not visible else 409 if mine else 202):
                note.reactions.setdefault(emoji, []).append(actor)
                model.made([(summary("reaction", "added", note.id), audience)])
        elif kind == "unreact":
            emoji = EMOJI[step[3]]
            answer = client.delete(f"/api/messages/{note.id}/reactions/{emoji}")
            mine = actor in note.reactions.get(emoji, [])
            if self.expect(step, answer, 202 if visible and mine else 404):
                note.reactions[emoji].remove(actor)
                model.made([(summary("reaction", "removed", note.id), audience)])
        elif kind == "delete message":
            allowed = note.sender == actor or self.is_admin(actor)
            status = 404 if not visible else 202 if allowed else 403
            if self.expect(step, client.delete(f"/api/messages/{note.id}"), status):
                note.gone = True
                model.made([(summary("message", "deleted", note.id), audience)])

    def membership(self, step: tuple[Any, ...]) -> None:
        kind = step[0]
        room = self.pick_room(step[2], "private")
        if room is None:
            return
        actor, client = self.insider(step, room)
        model = self.model
        user = actor if kind == "leave" else self.id(step[3])
        if kind == "add":
            answer = client.post(f"/api/channels/{room.id}/members", json={"user": user})
            if not room.sees(actor):
                status = 404
            elif room.kind != "private" or user in room.members:
                status = 409
            else:
                status = 202
            if self.expect(step, answer, status):
                room.members.append(user)
                model.made([(summary("channel", "updated", room.id), set(room.members))])
            return
        answer = client.delete(f"/api/channels/{room.id}/members/{user}")
        # docs/api/errors.md, "Which error wins": 404, then 403, then 409.
        if not room.sees(actor) or (room.kind == "private" and user not in room.members):
            status = 404
        elif user != actor and not self.is_admin(actor):
            status = 403
        elif room.kind != "private":
            status = 409
        else:
            status = 202
        if not self.expect(step, answer, status):
            return
        before = set(room.members)
        room.members.remove(user)
        entries = [(summary("channel", "updated", room.id), before)]
        if room.members:
            model.made(entries)
        else:  # the last member left: the rest reaches nobody
            self.delete_room(room, set(), entries)

    def delete_room(
        self, room: Room, audience: set[str], entries: list[tuple[Summary, set[str]]]
    ) -> None:
        for note in self.model.notes:
            if note.channel == room.id and not note.gone:
                note.gone = True
                entries.append((summary("message", "deleted", note.id), audience))
        entries.append((summary("channel", "deleted", room.id), audience))
        room.gone = True
        self.model.made(entries)

    def check_readers(self) -> None:
        for reader in self.readers:
            reader.drain()
            assert not reader.errors, reader.errors

    def finish(self) -> None:
        """Wait for everything to arrive, then compare each reader with a fresh boot."""
        owner = self.site.writers[NAMES[0]]
        end = owner.create_channel(f"{self.tag}-end")["id"]
        self.model.made([(summary("channel", "created", end), set(self.model.everyone))])
        for reader in self.readers:
            if reader.stream is None:
                reader.reconnect()
            assert reader.drain(until=end, timeout=SETTLE_SECONDS), f"{reader.name}: no end"
            assert not reader.errors, reader.errors
            assert reader.ids == sorted(set(reader.ids)), f"{reader.name}: {reader.ids}"
            event(f"events a reader received: {len(reader.ids) // 10 * 10}+")
        for reader in self.readers:
            fresh = truth(self.site.reader_client(reader.name.split(" ")[0]))
            held = reader.world()
            assert held["channels"] == fresh["channels"], reader.name
            assert held["messages"] == fresh["messages"], reader.name
            assert held["reads"] == fresh["reads"], reader.name
            if self.site.writer is not self.site.reader:  # both processes tell the same
                other = truth(self.site.writers[reader.name.split(" ")[0]])
                assert other == fresh

    def close(self) -> None:
        for reader in self.readers:
            reader.close()


def run_example(site: Site, plan: list[tuple[Any, ...]]) -> None:
    if site.deadline is None:
        site.deadline = time.monotonic() + BUDGET_SECONDS
    elif time.monotonic() > site.deadline:
        event("not run: over the time budget")
        return
    run = Run(site, secrets.token_hex(4))
    hypothesis.note(f"steps: {plan}")
    try:
        for reader in run.readers:
            reader.boot()
        for step in plan:
            run.do(step)
            run.check_readers()
        run.finish()
    finally:
        run.close()


# --- the properties ------------------------------------------------------------------------------


@pytest.mark.timeout(TIMEOUT_SECONDS)
@EXAMPLES
@given(plan=steps)
def test_no_stream_ever_carries_what_its_user_could_not_see_and_all_end_true(
    one_process: Site, plan: list[tuple[Any, ...]]
) -> None:
    run_example(one_process, plan)


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES_ADMIN_URL, reason="no PostgreSQL test cluster")
@pytest.mark.timeout(TIMEOUT_SECONDS)
@EXAMPLES
@given(plan=steps)
def test_with_readers_and_writers_on_two_processes_nothing_leaks_and_all_end_true(
    two_processes: Site, plan: list[tuple[Any, ...]]
) -> None:
    run_example(two_processes, plan)
