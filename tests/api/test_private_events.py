"""Who receives what: a stream carries only what its user may see at that moment (issue 13;
docs/api/events.md, "Who receives what", and guarantees 3 and 4).

One script of membership changes, messages, edits, reactions, read state, a direct channel
and deletions is played while every user's stream listens. Beside it, the test writes down
who may see each event when it happens (the members at that moment, plus a removed member
for their removal, or one user for read state). Then, for each user: the live stream carried
exactly their events, in order; a second stream of the same user, opened half-way so that
it replays and then goes live, carried the same; and streams resumed with Last-Event-ID from
before the channel existed, from inside a membership interval and after a removal replay
exactly their part (minus what was since erased: a deleted message's earlier events need not
be replayed, its deletion must be).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from private_crew import Crew, Person, make_crew, mentions_any, replay, sentinel, summary

from conftest import Site
from parlour_client import expect, fresh_name
from sse_client import Event, EventStream, open_stream

Summary = tuple[str, str, str]


@pytest.fixture(scope="module")
def crew(shared_site: Site) -> Crew:
    return make_crew(shared_site)


@dataclass
class Script:
    """What happened, in order, and who may see each event of it."""

    crew: Crew
    entries: list[tuple[Summary, frozenset[str]]] = field(default_factory=list)
    erased: set[str] = field(default_factory=set)
    ids: set[str] = field(default_factory=set)
    # (how many entries were written, the newest sequence then)
    checkpoints: dict[str, tuple[int, int]] = field(default_factory=dict)
    # What the streams opened half-way replayed before the script went on.
    late_prefix: dict[str, list[Event]] = field(default_factory=dict)

    def saw(self, type_: str, event: str, subject: str, *who: Person) -> None:
        self.ids.add(subject)
        self.entries.append(((type_, event, subject), frozenset(p.id for p in who)))

    def checkpoint(self, name: str) -> int:
        """Remember this moment; return the newest sequence (a resume point)."""
        newest = self.crew.alice.client.resume_point()
        self.checkpoints[name] = (len(self.entries), newest)
        return newest

    def live(self, person: Person) -> list[Summary]:
        """What a stream open throughout must have carried to `person`."""
        return [s for s, who in self.entries if person.id in who]

    def replayed(self, person: Person, since: str) -> list[Summary]:
        """What a stream resumed at checkpoint `since` replays to `person` now: the same,
        from there on, without the earlier events of messages deleted since."""
        start, _ = self.checkpoints[since]
        return [
            s
            for s, who in self.entries[start:]
            if person.id in who and not (s[2] in self.erased and s[:2] != ("message", "deleted"))
        ]


def react(person: Person, message: str, emoji: str) -> None:
    path = f"/api/messages/{message}/reactions"
    expect(person.client.post(path, json={"emoji": emoji}), 202)


def unreact(person: Person, message: str, emoji: str) -> None:
    expect(person.client.delete(f"/api/messages/{message}/reactions/{emoji}"), 202)


def play(script: Script) -> dict[str, EventStream]:
    """The script; returns the streams it opened half-way."""
    c = script.crew
    alice, bob, carol, dave, erin = c.alice, c.bob, c.carol, c.dave, c.erin
    room = bob.client.create_private_channel(fresh_name("room"), [carol.id])["id"]
    script.saw("channel", "created", room, bob, carol)
    m1 = bob.client.send_message(room, "first")["id"]
    script.saw("message", "sent", m1, bob, carol)
    react(carol, m1, "+1")
    script.saw("reaction", "added", m1, bob, carol)
    expect(bob.client.post(f"/api/messages/{m1}", json={"body": "first, edited"}), 202)
    script.saw("message", "edited", m1, bob, carol)
    unreact(carol, m1, "+1")
    script.saw("reaction", "removed", m1, bob, carol)
    bob.client.add_member(room, dave.id)
    script.saw("channel", "updated", room, bob, carol, dave)
    script.checkpoint("dave joined")
    m2 = expect(dave.client.post(f"/api/channels/{room}", json={"body": "second"}), 202)
    script.saw("message", "sent", m2["id"], bob, carol, dave)
    # Read state is for its own user's streams only.
    expect(bob.client.post(f"/api/channels/{room}/read", json={"seq": m2["seq"]}), 202)
    script.saw("read", "updated", room, bob)
    expect(carol.client.post(f"/api/channels/{room}/notify", json={"level": "all"}), 202)
    script.saw("notify", "updated", room, carol)
    script.checkpoint("carol inside")
    carol.client.remove_member(room, carol.id)
    script.saw("channel", "updated", room, bob, dave, carol)  # the one who left hears it
    newest = script.checkpoint("carol left")

    # Half-way, new streams replay what is logged, then go live.
    late = {p.name: open_stream(p.client, last_event_id="0") for p in (carol, dave)}
    for name, stream in late.items():
        script.late_prefix[name] = stream.events_through(newest, timeout=15)

    m3 = bob.client.send_message(room, "third")["id"]
    script.saw("message", "sent", m3, bob, dave)
    bob.client.delete_message(m1)
    script.erased.add(m1)
    script.saw("message", "deleted", m1, bob, dave)
    bob.client.add_member(room, carol.id)
    script.saw("channel", "updated", room, bob, dave, carol)
    m4 = carol.client.send_message(room, "fourth")["id"]
    script.saw("message", "sent", m4, bob, dave, carol)
    script.checkpoint("carol back")

    direct = erin.client.open_direct([bob.id], status=202)["id"]
    script.saw("channel", "created", direct, erin, bob)
    erin.client.open_direct([bob.id], status=200)  # no second event
    m5 = erin.client.send_message(direct, "just us")["id"]
    script.saw("message", "sent", m5, erin, bob)
    react(bob, m5, "🎉")
    script.saw("reaction", "added", m5, erin, bob)

    bob.client.add_member(room, alice.id)
    script.saw("channel", "updated", room, bob, dave, carol, alice)
    alice.client.remove_member(room, dave.id)
    script.saw("channel", "updated", room, bob, carol, alice, dave)
    script.checkpoint("dave removed")
    # An admin who is a member deletes the channel with its messages.
    alice.client.delete_channel(room)
    for message in (m2["id"], m3, m4):
        script.erased.add(message)
        script.saw("message", "deleted", message, bob, carol, alice)
    script.saw("channel", "deleted", room, bob, carol, alice)
    script.checkpoint("room deleted")
    return late


def check(
    script: Script,
    person: Person,
    events: list[Event],
    expected: list[Summary],
    *,
    only_ours: bool = True,
) -> None:
    """The events carried to `person` are `expected`, in increasing order; with `only_ours`,
    the stream carried nothing else (nothing happened meanwhile but the script)."""
    if only_ours:
        others = [e for e in events if not mentions_any(e, script.ids)]
        assert not others, f"{person.name} got events about others: {others}"
    ids = [e.id for e in events]
    assert ids == sorted(set(ids)), f"{person.name}: ids {ids}"
    assert summary(events, script.ids) == expected, person.name


def test_each_stream_carries_exactly_what_its_user_may_see_live_and_in_replay(
    crew: Crew,
) -> None:
    script = Script(crew)
    start = script.checkpoint("start")
    people = crew.everyone
    streams = {p.name: open_stream(p.client, start) for p in people}
    streams["Bob again"] = open_stream(crew.bob.client, start)
    late = play(script)
    end = sentinel(crew)
    try:
        got = {name: s.events_until(lambda e: e.data.get("id") == end, 15)[:-1]
               for name, s in streams.items()}  # fmt: skip
        late_got = {name: script.late_prefix[name]
                          + s.events_until(lambda e: e.data.get("id") == end, 15)[:-1]
                    for name, s in late.items()}  # fmt: skip
    finally:
        for s in [*streams.values(), *late.values()]:
            s.close()
    for person in people:
        check(script, person, got[person.name], script.live(person))
    check(script, crew.bob, got["Bob again"], script.live(crew.bob))
    assert [e.data for e in got["Bob again"]] == [e.data for e in got["Bob"]]
    for person in (crew.carol, crew.dave):
        # Resumed at 0 before any deletion: they replayed every event logged by then (and
        # those of earlier tests on this server), then went on live.
        check(script, person, late_got[person.name], script.live(person), only_ours=False)

    # The removal reaches the removed member, showing them gone.
    carols = [e for e in got["Carol"] if e.kind == ("channel", "updated")]
    assert crew.carol.id not in carols[1].data["members"]
    daves = [e for e in got["Dave"] if e.kind == ("channel", "updated")]
    assert crew.dave.id not in daves[-1].data["members"]

    # Resuming anywhere replays exactly that user's part from there, as it now stands.
    for since in script.checkpoints:
        _, resume_point = script.checkpoints[since]
        for person in people:
            events = replay(person, resume_point, end)
            check(script, person, events, script.replayed(person, since))
            live = {e.id: e.data for e in got[person.name]}
            for event in events:
                if event.kind != ("message", "sent"):
                    assert event.data == live[event.id], (person.name, since, event)


def test_a_channel_the_last_member_left_replays_only_their_leaving(crew: Crew) -> None:
    start = crew.alice.client.resume_point()
    room = crew.dave.client.create_private_channel(fresh_name(), [crew.carol.id])["id"]
    sent = [crew.carol.client.send_message(room, f"m{i}")["id"] for i in range(2)]
    crew.carol.client.remove_member(room, crew.carol.id)
    crew.dave.client.remove_member(room, crew.dave.id)
    end = sentinel(crew)
    ours = [room, *sent]
    # Their messages went with the channel, so only the leavings are left to replay.
    expected = {
        crew.dave.id: [("channel", "created", room), ("channel", "updated", room),
                       ("channel", "updated", room)],
        crew.carol.id: [("channel", "created", room), ("channel", "updated", room)],
    }  # fmt: skip
    for person in crew.everyone:
        events = replay(person, start, end)
        assert summary(events, ours) == expected.get(person.id, []), person.name


def test_a_member_added_later_is_not_replayed_what_came_before_them(crew: Crew) -> None:
    room = crew.bob.client.create_private_channel(fresh_name(), [])["id"]
    before = crew.bob.client.send_message(room, "before Erin")["id"]
    start = crew.alice.client.resume_point()
    crew.bob.client.add_member(room, crew.erin.id)
    after = crew.bob.client.send_message(room, "after Erin")["id"]
    end = sentinel(crew)
    for resume_point in (0, start):
        events = replay(crew.erin, resume_point, end)
        assert summary(events, [room, before, after]) == [
            ("channel", "updated", room),
            ("message", "sent", after),
        ]
    # What came before is hers to read from history now that she is a member.
    history = crew.erin.client.all_messages(room)
    assert [m["id"] for m in history] == [before, after]
