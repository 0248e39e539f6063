"""Mentions on send and on edit: who may be mentioned, how many, in what order.

docs/api/channels-and-messages.md, "Mentions, edits and reactions": `mentions` is at most 50
user ids, each an active user who can see the channel (400 otherwise); duplicates collapse,
the order is kept. The server never parses bodies: mentions are what the client says.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest

from conftest import ServerProcess, Site
from parlour_client import (
    UNKNOWN_CHANNEL,
    UNKNOWN_USER,
    ParlourClient,
    assert_problem,
    fresh_name,
    invite_user,
)
from sse_client import open_stream

MAX_MENTIONS = 50


@dataclass(frozen=True)
class Cast:
    """The module's shared server and who is on it: Alice (the owner, an admin), Bob and
    Carol (members), Dave (deactivated), and #secret, a private channel of Alice and Bob."""

    server: ServerProcess
    alice: ParlourClient
    bob: ParlourClient
    carol: ParlourClient
    ids: dict[str, str]
    secret: str


@pytest.fixture(scope="module")
def cast(shared_site: Site) -> Cast:
    server, alice = shared_site.server, shared_site.owner
    bob = invite_user(server, alice, fresh_name("Bob"))
    carol = invite_user(server, alice, fresh_name("Carol"))
    dave = invite_user(server, alice, fresh_name("Dave"))
    ids = {
        "alice": alice.me()["id"],
        "bob": bob.me()["id"],
        "carol": carol.me()["id"],
        "dave": dave.me()["id"],
    }
    answer = alice.post(f"/api/users/{ids['dave']}", json={"active": False})
    assert answer.status_code == 202, answer.text
    secret = alice.private_channel(fresh_name("secret"), [ids["bob"]])["id"]
    return Cast(server, alice, bob, carol, ids, secret)


def channel_of(cast: Cast) -> str:
    return cast.alice.create_channel(fresh_name("channel"))["id"]


# --- on send ------------------------------------------------------------------------------


def test_a_message_carries_its_mentions_in_the_order_given(cast: Cast) -> None:
    channel = channel_of(cast)
    wanted = [cast.ids["carol"], cast.ids["bob"]]
    message = cast.alice.say(channel, "@Carol @Bob look", mentions=wanted)
    assert message["mentions"] == wanted
    assert cast.alice.retained_messages(channel) == [message]
    assert [m for m in cast.bob.full_boot()["messages"] if m["id"] == message["id"]] == [message]


def test_a_message_without_mentions_mentions_nobody(cast: Cast) -> None:
    message = cast.alice.say(channel_of(cast), "nobody in particular")
    assert message["mentions"] == []


def test_duplicate_mentions_collapse_keeping_the_first_place_of_each(cast: Cast) -> None:
    bob, carol = cast.ids["bob"], cast.ids["carol"]
    message = cast.alice.say(channel_of(cast), "twice", mentions=[carol, bob, carol, bob, bob])
    assert message["mentions"] == [carol, bob]


def test_one_may_mention_oneself(cast: Cast) -> None:
    message = cast.alice.say(channel_of(cast), "note to self", mentions=[cast.ids["alice"]])
    assert message["mentions"] == [cast.ids["alice"]]


def test_the_message_sent_event_carries_the_mentions(cast: Cast) -> None:
    channel = channel_of(cast)
    with open_stream(cast.bob, cast.bob.resume_point()) as stream:
        message = cast.alice.say(channel, "hey", mentions=[cast.ids["bob"]])
        event = stream.events_through(message["seq"])[-1]
    assert event.kind == ("message", "sent")
    assert event.data["mentions"] == [cast.ids["bob"]]


@pytest.mark.parametrize(
    "who",
    ["unknown", "malformed", "a channel's id", "empty", "deactivated"],
)
def test_mentioning_someone_who_is_no_active_user_answers_400_and_sends_nothing(
    cast: Cast, who: str
) -> None:
    channel = channel_of(cast)
    mention = {
        "unknown": UNKNOWN_USER,
        "malformed": "Bob",
        "a channel's id": channel,
        "empty": "",
        "deactivated": cast.ids["dave"],
    }[who]
    answer = cast.alice.post(
        f"/api/channels/{channel}", json={"body": "hi", "mentions": [cast.ids["bob"], mention]}
    )
    assert_problem(answer, 400)
    assert cast.alice.retained_messages(channel) == []


def test_mentioning_a_non_member_in_a_private_channel_answers_400(cast: Cast) -> None:
    channel = cast.alice.private_channel(fresh_name("private"), [cast.ids["bob"]])["id"]
    answer = cast.alice.post(
        f"/api/channels/{channel}", json={"body": "hi", "mentions": [cast.ids["carol"]]}
    )
    assert_problem(answer, 400)
    assert cast.alice.retained_messages(channel) == []


def test_a_member_of_a_private_channel_may_be_mentioned_there(cast: Cast) -> None:
    message = cast.alice.say(cast.secret, "psst", mentions=[cast.ids["bob"]])
    assert message["mentions"] == [cast.ids["bob"]]


def test_someone_who_left_a_private_channel_can_no_longer_be_mentioned_there(cast: Cast) -> None:
    channel = cast.alice.private_channel(fresh_name("left"), [cast.ids["bob"], cast.ids["carol"]])
    answer = cast.carol.delete(f"/api/channels/{channel['id']}/members/{cast.ids['carol']}")
    assert answer.status_code == 202, answer.text
    answer = cast.alice.post(
        f"/api/channels/{channel['id']}", json={"body": "hi", "mentions": [cast.ids["carol"]]}
    )
    assert_problem(answer, 400)


def test_mentioning_an_outsider_in_a_direct_channel_answers_400(cast: Cast) -> None:
    direct = cast.alice.direct_channel([cast.ids["bob"]])
    answer = cast.alice.post(
        f"/api/channels/{direct['id']}", json={"body": "hi", "mentions": [cast.ids["carol"]]}
    )
    assert_problem(answer, 400)
    message = cast.alice.say(direct["id"], "hi", mentions=[cast.ids["bob"]])
    assert message["mentions"] == [cast.ids["bob"]]


@pytest.mark.parametrize(
    "mentions",
    ["U" + "x" * 24, [1], [["U" + "x" * 24]], {"U": 1}],
    ids=["a string", "a number", "a nested list", "an object"],
)
def test_mentions_that_are_not_a_list_of_ids_answer_400(cast: Cast, mentions: Any) -> None:
    channel = channel_of(cast)
    answer = cast.alice.post(f"/api/channels/{channel}", json={"body": "hi", "mentions": mentions})
    assert_problem(answer, 400)


def test_an_invalid_mention_is_a_400_even_in_an_unknown_channel(cast: Cast) -> None:
    # docs/api/errors.md, "Which error wins": 400 before 404.
    answer = cast.alice.post(
        f"/api/channels/{UNKNOWN_CHANNEL}", json={"body": "hi", "mentions": ["not an id"]}
    )
    assert_problem(answer, 400)


# --- on edit ------------------------------------------------------------------------------


def test_an_edit_replaces_the_mentions(cast: Cast) -> None:
    bob, carol = cast.ids["bob"], cast.ids["carol"]
    message = cast.alice.say(channel_of(cast), "@Bob", mentions=[bob])
    edited = cast.alice.edit(message["id"], "@Carol @Bob", [carol, bob, carol])
    assert edited["mentions"] == [carol, bob]
    assert cast.alice.retained_messages(message["channel"]) == [edited]


def test_an_edit_without_mentions_leaves_none(cast: Cast) -> None:
    message = cast.alice.say(channel_of(cast), "@Bob", mentions=[cast.ids["bob"]])
    edited = cast.alice.edit(message["id"], "never mind")
    assert edited["mentions"] == []
    assert cast.alice.retained_messages(message["channel"])[0]["mentions"] == []


@pytest.mark.parametrize("who", ["unknown", "malformed", "deactivated", "outsider"])
def test_an_edit_with_an_invalid_mention_answers_400_and_changes_nothing(
    cast: Cast, who: str
) -> None:
    message = cast.alice.say(cast.secret, "as it was", mentions=[cast.ids["bob"]])
    mention = {
        "unknown": UNKNOWN_USER,
        "malformed": "Carol",
        "deactivated": cast.ids["dave"],
        "outsider": cast.ids["carol"],  # not a member of #secret
    }[who]
    answer = cast.alice.post(
        f"/api/messages/{message['id']}", json={"body": "changed", "mentions": [mention]}
    )
    assert_problem(answer, 400)
    [now] = [m for m in cast.alice.retained_messages(cast.secret) if m["id"] == message["id"]]
    assert now == message


# --- at most 50 ---------------------------------------------------------------------------


def make_users(cast: Cast, count: int) -> list[str]:
    """The ids of `count` new users. Each costs the server a password hash, so they are made
    two at a time (a small server hashes on two threads at most)."""
    names = [fresh_name("Crowd") for _ in range(count)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        clients = list(pool.map(lambda n: invite_user(cast.server, cast.alice, n), names))
    ids = [c.me()["id"] for c in clients]
    for c in clients:
        c.close()
    return ids


# 51 password hashes: a few seconds on an idle machine, minutes on a crowded one.
@pytest.mark.timeout(600)
def test_at_most_fifty_people_may_be_mentioned_on_send_and_on_edit(cast: Cast) -> None:
    # One test, so that the 51 users are made once (tests of a module may run on different
    # workers, each with its own server).
    crowd = make_users(cast, MAX_MENTIONS + 1)
    fifty = crowd[:MAX_MENTIONS]
    channel = channel_of(cast)
    message = cast.alice.say(channel, "all hands", mentions=fifty)
    assert message["mentions"] == fifty

    answer = cast.alice.post(f"/api/channels/{channel}", json={"body": "hi", "mentions": crowd})
    assert_problem(answer, 400)
    assert cast.alice.retained_messages(channel) == [message]

    answer = cast.alice.post(
        f"/api/messages/{message['id']}", json={"body": "everyone", "mentions": crowd}
    )
    assert_problem(answer, 400)
    edited = cast.alice.edit(message["id"], "everyone", list(reversed(fifty)))
    assert edited["mentions"] == list(reversed(fifty))
