"""Reactions: which emoji, one per user per emoji, 50 per message, removal by a percent-encoded
path, their order, where they are shown, and that they go with their message.

docs/api/channels-and-messages.md, "Mentions, edits and reactions"; the order rules are in
docs/api/index.md (the message's `reactions`); the events in docs/api/events.md.
"""

from __future__ import annotations

import contextlib
import sqlite3
import typing
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest

from conftest import ON_POSTGRES, ServerProcess, Site
from parlour_client import (
    UNKNOWN_MESSAGE,
    FullMessage,
    ParlourClient,
    assert_problem,
    fresh_name,
    invite_user,
    reaction_path,
)
from sse_client import Event, open_stream

MAX_EMOJI = 50
REACTION_FIELDS = {"type", "event", "at", "message", "channel", "user", "emoji"}


@dataclass(frozen=True)
class Cast:
    """The module's shared server: Alice (the owner, an admin), Bob and Carol (members)."""

    server: ServerProcess
    alice: ParlourClient
    bob: ParlourClient
    carol: ParlourClient
    ids: dict[str, str]


@pytest.fixture(scope="module")
def cast(shared_site: Site) -> Cast:
    server, alice = shared_site.server, shared_site.owner
    bob = invite_user(server, alice, fresh_name("Bob"))
    carol = invite_user(server, alice, fresh_name("Carol"))
    ids = {"alice": alice.me()["id"], "bob": bob.me()["id"], "carol": carol.me()["id"]}
    return Cast(server, alice, bob, carol, ids)


def message_of(client: ParlourClient, body: str = "react to me") -> FullMessage:
    """A new message in a new public channel."""
    return client.say(client.create_channel(fresh_name("channel"))["id"], body)


def current(client: ParlourClient, message: FullMessage) -> FullMessage:
    """The message as the history endpoint shows it now."""
    [found] = [m for m in client.retained_messages(message["channel"]) if m["id"] == message["id"]]
    return found


def pairs(message: FullMessage) -> list[tuple[str, list[str]]]:
    return [(r["emoji"], r["users"]) for r in message["reactions"]]


# --- what an emoji may be -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("emoji", "stored"),
    [
        ("+1", "+1"),
        ("\U0001f389", "\U0001f389"),  # 🎉
        ("\U0001f469\u200d\U0001f4bb", "\U0001f469\u200d\U0001f4bb"),  # 👩‍💻, a ZWJ sequence
        ("\U0001f3f3\ufe0f\u200d\U0001f308", "\U0001f3f3\ufe0f\u200d\U0001f308"),  # 🏳️‍🌈
        ("\U0001f44d\U0001f3fd", "\U0001f44d\U0001f3fd"),  # 👍🏽, a skin tone
        ("\U0001f1eb\U0001f1f7", "\U0001f1eb\U0001f1f7"),  # 🇫🇷, a flag
        (  # 🏴󠁧󠁢󠁳󠁣󠁴󠁿, a subdivision flag: tag characters
            "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",
            "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",
        ),
        ("looks good", "looks good"),
        ("x" * 32, "x" * 32),
        ("e\u0301" * 32, "\u00e9" * 32),  # 64 code points, 32 after NFC
    ],
    ids=[
        "plus-one",
        "party",
        "zwj-sequence",
        "rainbow-flag",
        "skin-tone",
        "flag",
        "tag-sequence",
        "short-words",
        "32-characters",
        "32-after-nfc",
    ],
)
def test_an_emoji_sequence_or_a_short_word_is_a_reaction(
    cast: Cast, emoji: str, stored: str
) -> None:
    message = message_of(cast.alice)
    reacted = cast.bob.react(message["id"], emoji)
    assert pairs(reacted) == [(stored, [cast.ids["bob"]])]
    assert {k: v for k, v in reacted.items() if k != "reactions"} == {
        k: v for k, v in message.items() if k != "reactions"
    }
    assert current(cast.alice, message) == reacted
    assert cast.bob.unreact(message["id"], emoji)["reactions"] == []


@pytest.mark.parametrize(
    "data",
    [
        {"emoji": ""},
        {"emoji": " "},
        {"emoji": " \t\n "},
        {"emoji": "\u3000"},  # an ideographic space
        {"emoji": "x" * 33},
        {"emoji": "e\u0301" * 33},
        {"emoji": "a\nb"},
        {"emoji": "tab\there"},
        {"emoji": "nul\x00"},
        {"emoji": "del\x7f"},
        {"emoji": "next line\x85"},
        {"emoji": 1},
        {"emoji": None},
        {"emoji": ["+1"]},
        {},
    ],
    ids=[
        "empty",
        "a-space",
        "white-space",
        "ideographic-space",
        "33-characters",
        "33-after-nfc",
        "line-feed",
        "tab",
        "nul",
        "delete",
        "c1-control",
        "a-number",
        "null",
        "a-list",
        "missing",
    ],
)
def test_anything_else_answers_400_and_adds_nothing(cast: Cast, data: dict[str, Any]) -> None:
    message = message_of(cast.alice)
    assert_problem(cast.bob.post(f"/api/messages/{message['id']}/reactions", json=data), 400)
    assert current(cast.alice, message) == message


def test_an_invalid_emoji_is_a_400_before_an_unknown_message_is_a_404(cast: Cast) -> None:
    # docs/api/errors.md, "Which error wins": 400 before 404.
    answer = cast.bob.post(f"/api/messages/{UNKNOWN_MESSAGE}/reactions", json={"emoji": ""})
    assert_problem(answer, 400)


def test_reacting_without_a_session_answers_401(cast: Cast) -> None:
    message = message_of(cast.alice)
    stranger = cast.server.client()
    answer = stranger.post(f"/api/messages/{message['id']}/reactions", json={"emoji": "+1"})
    assert_problem(answer, 401)
    cast.bob.react(message["id"], "+1")
    assert_problem(stranger.delete(reaction_path(message["id"], "+1")), 401)
    assert len(current(cast.alice, message)["reactions"]) == 1


# --- one per user per emoji, fifty per message ----------------------------------------------


def test_adding_the_same_emoji_twice_answers_409(cast: Cast) -> None:
    message = message_of(cast.alice)
    reacted = cast.bob.react(message["id"], "\u00e9")
    for again in ("\u00e9", "e\u0301"):  # the same emoji after NFC
        answer = cast.bob.post(f"/api/messages/{message['id']}/reactions", json={"emoji": again})
        assert_problem(answer, 409)
    assert current(cast.alice, message) == reacted


def test_others_may_add_the_same_emoji(cast: Cast) -> None:
    message = message_of(cast.alice)
    cast.bob.react(message["id"], "+1")
    reacted = cast.carol.react(message["id"], "+1")
    assert pairs(reacted) == [("+1", [cast.ids["bob"], cast.ids["carol"]])]


def test_a_message_holds_at_most_fifty_different_emoji(cast: Cast) -> None:
    message = message_of(cast.alice)
    emoji = [f"e{i}" for i in range(MAX_EMOJI)]
    for e in emoji:
        cast.bob.react(message["id"], e)
    answer = cast.bob.post(f"/api/messages/{message['id']}/reactions", json={"emoji": "one more"})
    assert_problem(answer, 409)
    answer = cast.carol.post(f"/api/messages/{message['id']}/reactions", json={"emoji": "new"})
    assert_problem(answer, 409)
    # One of the fifty may still be added by someone else.
    reacted = cast.carol.react(message["id"], "e7")
    assert [e for e, _ in pairs(reacted)] == emoji
    # Once an emoji has gone, there is room for another.
    cast.bob.unreact(message["id"], "e0")
    reacted = cast.carol.react(message["id"], "one more")
    assert [e for e, _ in pairs(reacted)] == [*emoji[1:], "one more"]


# --- removal ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "emoji",
    ["a/b", "50%", "%2F", "a b", "what?", "#1", ".", "..", "+1", "\U0001f469\u200d\U0001f4bb"],
    ids=[
        "slash",
        "percent",
        "encoded-looking",
        "space",
        "question-mark",
        "hash",
        "dot",
        "dot-dot",
        "plus",
        "zwj",
    ],
)
def test_a_reaction_is_removed_by_its_percent_encoded_emoji(cast: Cast, emoji: str) -> None:
    message = message_of(cast.alice)
    cast.bob.react(message["id"], "keep")
    cast.bob.react(message["id"], emoji)
    cast.carol.react(message["id"], emoji)
    removed = cast.bob.unreact(message["id"], emoji)
    assert pairs(removed) == [("keep", [cast.ids["bob"]]), (emoji, [cast.ids["carol"]])]
    assert current(cast.alice, message) == removed


@pytest.mark.parametrize("emoji", ["a/b", "50%", "a b", "+1", "\U0001f389"])
def test_a_reaction_is_removed_by_its_emoji_as_a_url_library_encodes_it(
    cast: Cast, emoji: str
) -> None:
    message = message_of(cast.alice)
    cast.bob.react(message["id"], emoji)
    answer = cast.bob.delete(f"/api/messages/{message['id']}/reactions/{quote(emoji, safe='')}")
    assert answer.status_code == 202, answer.text
    assert answer.json()["reactions"] == []


def test_a_reaction_is_removed_by_its_emoji_in_any_normal_form(cast: Cast) -> None:
    message = message_of(cast.alice)
    cast.bob.react(message["id"], "caf\u00e9")
    assert cast.bob.unreact(message["id"], "cafe\u0301")["reactions"] == []


def test_removing_a_reaction_one_did_not_add_answers_404(cast: Cast) -> None:
    message = message_of(cast.alice)
    cast.bob.react(message["id"], "+1")
    assert_problem(cast.carol.delete(reaction_path(message["id"], "+1")), 404)
    assert_problem(cast.bob.delete(reaction_path(message["id"], "-1")), 404)
    cast.bob.unreact(message["id"], "+1")
    assert_problem(cast.bob.delete(reaction_path(message["id"], "+1")), 404)
    assert current(cast.alice, message)["reactions"] == []


@pytest.mark.parametrize("how", ["unknown", "deleted", "invisible"])
def test_reactions_on_a_message_one_cannot_see_answer_404(cast: Cast, how: str) -> None:
    message_id = UNKNOWN_MESSAGE
    if how == "deleted":
        message = message_of(cast.bob)
        cast.bob.react(message["id"], "+1")
        cast.bob.delete_message(message["id"])
        message_id = message["id"]
    elif how == "invisible":
        channel = cast.bob.private_channel(fresh_name("private"), [cast.ids["carol"]])["id"]
        message_id = cast.bob.say(channel, "between us")["id"]
        cast.bob.react(message_id, "+1")
    # Alice is an admin, but no member of the private channel: it does not exist for her.
    answer = cast.alice.post(f"/api/messages/{message_id}/reactions", json={"emoji": "+1"})
    assert_problem(answer, 404)
    assert_problem(cast.alice.delete(reaction_path(message_id, "+1")), 404)


# --- order --------------------------------------------------------------------------------


def test_emoji_keep_the_order_first_added_and_users_the_order_they_added(cast: Cast) -> None:
    message = message_of(cast.alice)
    alice, bob, carol = cast.ids["alice"], cast.ids["bob"], cast.ids["carol"]
    cast.carol.react(message["id"], "B")
    cast.bob.react(message["id"], "A")
    cast.alice.react(message["id"], "B")
    cast.carol.react(message["id"], "A")
    reacted = cast.bob.react(message["id"], "B")
    assert pairs(reacted) == [("B", [carol, alice, bob]), ("A", [bob, carol])]
    assert current(cast.carol, message) == reacted


def test_an_emoji_whose_last_user_removes_it_disappears_and_comes_back_at_the_end(
    cast: Cast,
) -> None:
    message = message_of(cast.alice)
    bob, carol = cast.ids["bob"], cast.ids["carol"]
    cast.bob.react(message["id"], "A")
    cast.carol.react(message["id"], "B")
    cast.bob.react(message["id"], "C")
    gone = cast.bob.unreact(message["id"], "A")
    assert pairs(gone) == [("B", [carol]), ("C", [bob])]
    back = cast.carol.react(message["id"], "A")
    assert pairs(back) == [("B", [carol]), ("C", [bob]), ("A", [carol])]
    assert current(cast.alice, message) == back


def test_a_user_who_takes_back_and_adds_again_goes_to_the_end_of_its_users(cast: Cast) -> None:
    message = message_of(cast.alice)
    alice, bob, carol = cast.ids["alice"], cast.ids["bob"], cast.ids["carol"]
    cast.bob.react(message["id"], "+1")
    cast.carol.react(message["id"], "+1")
    cast.alice.react(message["id"], "+1")
    cast.carol.unreact(message["id"], "+1")
    again = cast.carol.react(message["id"], "+1")
    assert pairs(again) == [("+1", [bob, alice, carol])]


def test_an_emoji_keeps_its_place_while_anyone_still_holds_it(cast: Cast) -> None:
    # docs/api/index.md: each emoji in the order it was first added; only an emoji that
    # disappeared goes to the end when added again. A client applying the events keeps
    # "A" first (it never disappeared), so boot must too (docs/api/events.md, guarantee 4).
    message = message_of(cast.alice)
    alice, bob = cast.ids["alice"], cast.ids["bob"]
    cast.alice.react(message["id"], "A")
    cast.bob.react(message["id"], "B")
    cast.bob.react(message["id"], "A")
    after = cast.alice.unreact(message["id"], "A")
    assert pairs(after) == [("A", [bob]), ("B", [bob])]
    assert alice not in after["reactions"][0]["users"]


# --- shown in boot, history and events ------------------------------------------------------


def test_reactions_are_shown_in_boot_and_history(cast: Cast) -> None:
    message = message_of(cast.alice)
    cast.bob.react(message["id"], "+1")
    reacted = cast.carol.react(message["id"], "\U0001f389")
    for client in (cast.alice, cast.bob, cast.carol):
        assert [m for m in client.full_boot()["messages"] if m["id"] == message["id"]] == [reacted]
        assert current(client, message) == reacted


def test_adding_and_removing_make_events_with_exactly_their_fields(cast: Cast) -> None:
    message = message_of(cast.alice)
    with open_stream(cast.carol, message["seq"]) as stream:
        cast.bob.react(message["id"], "a/b %")
        cast.bob.unreact(message["id"], "a/b %")
        added, removed = stream.events_until(
            lambda e: e.kind[0] == "reaction" and e.kind[1] == "removed", 10
        )
    assert added.kind == ("reaction", "added")
    assert removed.kind == ("reaction", "removed")
    for event in (added, removed):
        assert set(event.data) == REACTION_FIELDS
        assert event.data["message"] == message["id"]
        assert event.data["channel"] == message["channel"]
        assert event.data["user"] == cast.ids["bob"]
        assert event.data["emoji"] == "a/b %"
    assert message["seq"] < added.id < removed.id


def test_failed_reactions_make_no_event(cast: Cast) -> None:
    message = message_of(cast.alice)
    cast.bob.react(message["id"], "+1")
    with open_stream(cast.carol, cast.carol.resume_point()) as stream:
        assert cast.bob.post(
            f"/api/messages/{message['id']}/reactions", json={"emoji": "+1"}
        ).is_error
        assert cast.carol.delete(reaction_path(message["id"], "+1")).is_error
        assert cast.bob.post(
            f"/api/messages/{message['id']}/reactions", json={"emoji": ""}
        ).is_error
        marker = cast.alice.say(message["channel"], "marker")
        assert [e.data.get("id") for e in stream.events_through(marker["seq"])] == [marker["id"]]


def cast_message(value: dict[str, Any]) -> FullMessage:
    return typing.cast(FullMessage, value)


def apply(messages: dict[str, FullMessage], event: Event) -> None:
    """What a client following the stream does with message and reaction events."""
    data = event.data
    if event.kind == ("message", "sent"):
        sent = {k: v for k, v in data.items() if k not in ("type", "event", "at")}
        messages[data["id"]] = cast_message(sent)
    elif event.kind == ("reaction", "added"):
        reactions = messages[data["message"]]["reactions"]
        for r in reactions:
            if r["emoji"] == data["emoji"]:
                r["users"].append(data["user"])
                break
        else:
            reactions.append({"emoji": data["emoji"], "users": [data["user"]]})
    elif event.kind == ("reaction", "removed"):
        reactions = messages[data["message"]]["reactions"]
        for r in reactions:
            if r["emoji"] == data["emoji"]:
                r["users"].remove(data["user"])
        messages[data["message"]]["reactions"] = [r for r in reactions if r["users"]]
    elif event.kind == ("message", "deleted"):
        messages.pop(data["id"], None)


def test_boot_plus_the_stream_live_or_replayed_equals_a_fresh_boot(cast: Cast) -> None:
    channel = cast.alice.create_channel(fresh_name("channel"))["id"]
    boot = cast.carol.full_boot()
    with open_stream(cast.carol, boot["resume_point"]) as live:
        one = cast.alice.say(channel, "one")
        two = cast.bob.say(channel, "two")
        cast.bob.react(one["id"], "+1")
        cast.carol.react(one["id"], "\U0001f389")
        cast.alice.react(one["id"], "+1")
        cast.carol.react(two["id"], "x")
        cast.alice.unreact(one["id"], "+1")
        cast.carol.unreact(two["id"], "x")
        cast.carol.react(two["id"], "y")
        cast.alice.react(one["id"], "\U0001f389")
        done = cast.alice.resume_point()
        live_events = live.events_through(done)
    with open_stream(cast.carol, last_event_id=str(boot["resume_point"])) as replay:
        replayed = replay.events_through(done)
    fresh = [m for m in cast.carol.full_boot()["messages"] if m["channel"] == channel]
    assert pairs(fresh[0]) != []
    for events in (live_events, replayed):
        held: dict[str, FullMessage] = {}
        for event in events:
            apply(held, event)
        assert list(held.values()) == fresh


def test_reactions_in_a_private_channel_reach_only_its_members(cast: Cast) -> None:
    channel = cast.bob.private_channel(fresh_name("private"), [cast.ids["carol"]])["id"]
    message = cast.bob.say(channel, "between us")
    public = cast.bob.create_channel(fresh_name("public"))["id"]
    start = cast.alice.resume_point()
    with open_stream(cast.alice, start) as outsider:
        cast.carol.react(message["id"], "+1")
        cast.carol.unreact(message["id"], "+1")
        marker = cast.bob.say(public, "marker")
        assert [e.data.get("id") for e in outsider.events_through(marker["seq"])] == [marker["id"]]


# --- gone with their message --------------------------------------------------------------


def stored_reactions(server: ServerProcess, message_id: str) -> int:
    """How many reactions, and events about them, the database still holds for a message."""
    queries = [
        "SELECT count(*) FROM reactions WHERE message_id = {}",
        "SELECT count(*) FROM events WHERE type = 'reaction' AND subject = {}",
    ]
    if ON_POSTGRES:
        import psycopg

        with psycopg.connect(server.database_url) as pg:
            rows = [pg.execute(q.format("%s"), (message_id,)).fetchone() for q in queries]
    else:
        with contextlib.closing(sqlite3.connect(server.database)) as lite:
            rows = [lite.execute(q.format("?"), (message_id,)).fetchone() for q in queries]
    return sum(int(row[0]) for row in rows if row is not None)


def react_all(cast: Cast, message: FullMessage) -> None:
    cast.bob.react(message["id"], "+1")
    cast.carol.react(message["id"], "+1")
    cast.carol.react(message["id"], f"gone-{uuid.uuid4().hex[:8]}")


def test_reactions_go_with_their_deleted_message(cast: Cast) -> None:
    message = message_of(cast.alice)
    start = message["seq"] - 1
    react_all(cast, message)
    assert stored_reactions(cast.server, message["id"]) > 0, "the test cannot see reactions"
    deleted = cast.alice.delete_message(message["id"])
    assert stored_reactions(cast.server, message["id"]) == 0
    assert cast.alice.retained_messages(message["channel"]) == []
    with open_stream(cast.carol, last_event_id=str(start)) as replay:
        events = replay.events_until(lambda e: e.kind == ("message", "deleted"), 10)
    assert [e.kind for e in events if e.data.get("message") == message["id"]] == []
    assert events[-1].data["id"] == deleted["id"]


def test_reactions_go_with_their_expired_message(start_server: Any) -> None:
    server: ServerProcess = start_server("--message-expiry", "2s", "--expiry-interval", "1s")
    alice = server.set_up()
    bob = invite_user(server, alice, "Bob")
    start = alice.resume_point()
    message = alice.say(alice.create_channel("general")["id"], "short-lived")
    bob.react(message["id"], "+1")
    alice.react(message["id"], "+1")
    with open_stream(bob, start) as stream:
        stream.events_until(
            lambda e: e.kind == ("message", "deleted") and e.data["id"] == message["id"],
            timeout=2 + 1 + 10,
        )
    # (No replay from before: with a 2 s expiry, the events before the deletion are soon
    # forgotten and such a resume point gets 410.)
    assert stored_reactions(server, message["id"]) == 0
    assert bob.full_boot()["messages"] == []
