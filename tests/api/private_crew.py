"""The people of the private-channel tests (issue 13), and reading what their streams carry.

One shared server per test module holds five users: Alice (the owner, an admin), Bob, Carol
and Dave (members) and Erin (a second admin, the "admin who is not a member" of most
channels). Each test makes channels of its own, so tests sharing the server never see each
other's channels; what a stream carries is judged only for the ids a test made, and a
public "sentinel" channel created at the end tells when a stream has everything before it
(ids only increase, and every user sees a public channel).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from conftest import ServerProcess, Site
from parlour_client import ParlourClient, fresh_name, invite_user
from sse_client import Event, EventStream, open_stream


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    client: ParlourClient


@dataclass(frozen=True)
class Crew:
    server: ServerProcess
    alice: Person
    bob: Person
    carol: Person
    dave: Person
    erin: Person

    @property
    def everyone(self) -> list[Person]:
        return [self.alice, self.bob, self.carol, self.dave, self.erin]

    def newcomer(self, name: str | None = None) -> Person:
        """A new member (one password hash: about 0.2 s of both cores)."""
        name = name or fresh_name()
        client = invite_user(self.server, self.alice.client, name)
        return Person(client.me()["id"], name, client)


def make_crew(site: Site) -> Crew:
    alice = site.owner
    me = alice.me()
    people = {}
    for name in ("Bob", "Carol", "Dave", "Erin"):
        client = invite_user(site.server, alice, name)
        people[name] = Person(client.me()["id"], name, client)
    alice.change_user(people["Erin"].id, role="admin")
    return Crew(
        site.server,
        Person(me["id"], me["name"], alice),
        people["Bob"],
        people["Carol"],
        people["Dave"],
        people["Erin"],
    )


def mentions_any(event: Event, ids: Iterable[str]) -> bool:
    """Whether an event is about one of these channels, messages or users: its id, its
    channel or its message is one of them."""
    wanted = set(ids)
    data = event.data
    return any(data.get(key) in wanted for key in ("id", "channel", "message"))


def sentinel(crew: Crew) -> str:
    """A public channel everyone's streams will carry: its id. Once a stream has it, it has
    every earlier event it will ever carry."""
    return crew.alice.client.create_channel(fresh_name("sentinel"))["id"]


def until_sentinel(stream: EventStream, sentinel_id: str, timeout: float = 15.0) -> list[Event]:
    """The stream's events up to (without) the sentinel channel's creation."""
    events = stream.events_until(lambda e: e.data.get("id") == sentinel_id, timeout)
    return events[:-1]


def summary(events: Iterable[Event], ids: Iterable[str]) -> list[tuple[str, str, str]]:
    """(type, event, subject) of the events about these ids, in order: what a test compares."""
    wanted = set(ids)
    return [
        (e.kind[0], e.kind[1], str(e.data.get("id") or e.data.get("message") or e.data["channel"]))
        for e in events
        if mentions_any(e, wanted)
    ]


def replay(person: Person, resume_point: int, sentinel_id: str) -> list[Event]:
    """What a stream opened with Last-Event-ID `resume_point` replays up to the sentinel."""
    with open_stream(person.client, last_event_id=str(resume_point)) as stream:
        return until_sentinel(stream, sentinel_id)


def message_ids(snapshot: dict[str, Any]) -> set[str]:
    return {m["id"] for m in snapshot["messages"]}


def channel_ids(snapshot: dict[str, Any]) -> set[str]:
    return {c["id"] for c in snapshot["channels"]}
