"""Safe retries of a send with `client_id` (issue 16).

docs/api/channels-and-messages.md: an optional `client_id` (1-64 printable ASCII characters)
makes a retry safe: a send whose `client_id` this user already used in this channel, while
that message is retained, creates nothing and answers 200 with the message as it now is
(no event). The message JSON carries `client_id` (or null).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from conftest import ServerProcess, Site
from parlour_client import (
    UNKNOWN_CHANNEL,
    ParlourClient,
    assert_problem,
    at_once,
    fresh_name,
    invite_user,
)
from sse_client import open_stream

PRINTABLE_ASCII = "".join(chr(c) for c in range(0x20, 0x7F))


@dataclass(frozen=True)
class Cast:
    """The module's shared server: Alice (the owner) and Bob."""

    server: ServerProcess
    alice: ParlourClient
    bob: ParlourClient
    ids: dict[str, str]


@pytest.fixture(scope="module")
def cast(shared_site: Site) -> Cast:
    server, alice = shared_site.server, shared_site.owner
    bob = invite_user(server, alice, fresh_name("Bob"))
    return Cast(server, alice, bob, {"alice": alice.me()["id"], "bob": bob.me()["id"]})


def channel_of(cast: Cast) -> str:
    return cast.alice.create_channel(fresh_name("channel"))["id"]


def send(client: ParlourClient, channel: str, body: str, client_id: Any) -> httpx.Response:
    return client.post(f"/api/channels/{channel}", json={"body": body, "client_id": client_id})


# --- what a client_id may be ----------------------------------------------------------------


@pytest.mark.parametrize(
    "client_id",
    [
        "a",
        " ",
        "~",
        "x" * 64,
        PRINTABLE_ASCII[:64],
        PRINTABLE_ASCII[64:],
        "550e8400-e29b-41d4-a716-446655440000",
        '"quoted" <tag> & {json: [1]}',
    ],
    ids=["one", "space", "tilde", "64", "printable-1", "printable-2", "uuid", "punctuation"],
)
def test_a_message_carries_the_client_id_it_was_sent_with(cast: Cast, client_id: str) -> None:
    channel = channel_of(cast)
    message = cast.alice.say(channel, "hi", client_id=client_id)
    assert message["client_id"] == client_id
    assert cast.alice.retained_messages(channel) == [message]


@pytest.mark.parametrize("data", [{"body": "hi"}, {"body": "hi", "client_id": None}])
def test_a_message_sent_without_a_client_id_has_none(cast: Cast, data: dict[str, Any]) -> None:
    answer = cast.alice.post(f"/api/channels/{channel_of(cast)}", json=data)
    assert answer.status_code == 202, answer.text
    assert answer.json()["client_id"] is None


@pytest.mark.parametrize(
    "client_id",
    [
        "",
        "x" * 65,
        "caf\u00e9",
        "\u65e5\u672c",
        "del\x7f",
        "tab\t",
        "a\nb",
        "nul\x00",
        7,
        ["a"],
        True,
    ],
    ids=[
        "empty",
        "65",
        "non-ascii",
        "cjk",
        "delete",
        "tab",
        "line-feed",
        "nul",
        "a-number",
        "a-list",
        "a-boolean",
    ],
)
def test_any_other_client_id_answers_400_and_sends_nothing(cast: Cast, client_id: Any) -> None:
    channel = channel_of(cast)
    assert_problem(send(cast.alice, channel, "hi", client_id), 400)
    assert cast.alice.retained_messages(channel) == []


def test_an_invalid_client_id_is_a_400_even_in_an_unknown_channel(cast: Cast) -> None:
    # docs/api/errors.md, "Which error wins": 400 before 404.
    assert_problem(send(cast.alice, UNKNOWN_CHANNEL, "hi", "x" * 65), 400)


# --- a retry -------------------------------------------------------------------------------


def test_a_retry_answers_200_with_the_message_and_posts_nothing(cast: Cast) -> None:
    channel = channel_of(cast)
    message = cast.alice.say(channel, "once", client_id="retry-1")
    with open_stream(cast.bob, cast.bob.resume_point()) as stream:
        again = cast.alice.say(channel, "once", client_id="retry-1", status=200)
        # Whatever the retry carries, it finds the message that was sent.
        other = cast.alice.say(
            channel, "a different body", mentions=[cast.ids["bob"]], client_id="retry-1", status=200
        )
        marker = cast.alice.say(channel, "marker")
        assert [e.data["id"] for e in stream.events_through(marker["seq"])] == [marker["id"]]
    assert again == message
    assert other == message
    assert cast.alice.retained_messages(channel) == [message, marker]


def test_a_retry_answers_the_message_as_it_now_is(cast: Cast) -> None:
    channel = channel_of(cast)
    message = cast.alice.say(channel, "helo", client_id="edited-later")
    edited = cast.alice.edit(message["id"], "hello", [cast.ids["bob"]])
    assert cast.alice.say(channel, "helo", client_id="edited-later", status=200) == edited
    reacted = cast.bob.react(message["id"], "+1")
    assert cast.alice.say(channel, "helo", client_id="edited-later", status=200) == reacted
    assert reacted["body"] == "hello"


def test_a_retry_from_another_session_of_the_sender_finds_the_message(cast: Cast) -> None:
    channel = channel_of(cast)
    message = cast.bob.say(channel, "from the phone", client_id="tab-1")
    laptop = cast.server.client(token=cast.bob.token)
    assert laptop.say(channel, "from the phone", client_id="tab-1", status=200) == message


def test_the_message_sent_event_carries_the_client_id(cast: Cast) -> None:
    channel = channel_of(cast)
    with open_stream(cast.alice, cast.alice.resume_point()) as stream:
        message = cast.alice.say(channel, "hi", client_id="for my other tabs")
        [event] = stream.events_through(message["seq"])
    assert event.kind == ("message", "sent")
    assert event.data["client_id"] == "for my other tabs"


def test_another_channel_may_use_the_same_client_id(cast: Cast) -> None:
    first, second = channel_of(cast), channel_of(cast)
    one = cast.alice.say(first, "hi", client_id="shared")
    two = cast.alice.say(second, "hi", client_id="shared")
    assert one["id"] != two["id"]
    assert two["client_id"] == "shared"
    assert cast.alice.retained_messages(second) == [two]


def test_another_sender_may_use_the_same_client_id(cast: Cast) -> None:
    channel = channel_of(cast)
    mine = cast.alice.say(channel, "hi", client_id="shared")
    theirs = cast.bob.say(channel, "hi", client_id="shared")
    assert mine["id"] != theirs["id"]
    assert cast.alice.retained_messages(channel) == [mine, theirs]
    assert cast.bob.say(channel, "hi", client_id="shared", status=200) == theirs


def test_a_deleted_messages_client_id_may_be_used_again(cast: Cast) -> None:
    channel = channel_of(cast)
    message = cast.alice.say(channel, "first try", client_id="again")
    cast.alice.delete_message(message["id"])
    fresh = cast.alice.say(channel, "second try", client_id="again")
    assert fresh["id"] != message["id"]
    assert fresh["body"] == "second try"
    assert cast.alice.say(channel, "second try", client_id="again", status=200) == fresh
    assert cast.alice.retained_messages(channel) == [fresh]


def test_a_retry_into_a_channel_one_has_left_answers_404(cast: Cast) -> None:
    channel = cast.bob.private_channel(fresh_name("private"), [cast.ids["alice"]])["id"]
    cast.bob.say(channel, "before I go", client_id="left")
    answer = cast.bob.delete(f"/api/channels/{channel}/members/{cast.ids['bob']}")
    assert answer.status_code == 202, answer.text
    assert_problem(send(cast.bob, channel, "before I go", "left"), 404)


def test_concurrent_retries_of_one_client_id_create_exactly_one_message(cast: Cast) -> None:
    channel = channel_of(cast)
    attempts = 8
    clients = [cast.server.client(token=cast.bob.token) for _ in range(attempts)]
    with open_stream(cast.alice, cast.alice.resume_point()) as stream:
        answers = at_once(attempts, lambda i: send(clients[i], channel, "exactly once", "race"))
        marker = cast.alice.say(channel, "marker")
        sent = [e for e in stream.events_through(marker["seq"]) if e.data["id"] != marker["id"]]
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] * (attempts - 1) + [202], [a.text for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    message = answers[0].json()
    assert cast.alice.retained_messages(channel) == [message, marker]
    assert [(e.kind, e.data["id"]) for e in sent] == [(("message", "sent"), message["id"])]


def test_concurrent_sends_with_different_client_ids_all_create_a_message(cast: Cast) -> None:
    channel = channel_of(cast)
    attempts = 6
    clients = [cast.server.client(token=cast.bob.token) for _ in range(attempts)]
    answers = at_once(attempts, lambda i: send(clients[i], channel, f"number {i}", f"id-{i}"))
    assert [a.status_code for a in answers] == [202] * attempts
    assert len(cast.alice.retained_messages(channel)) == attempts


def test_an_expired_messages_client_id_may_be_used_again(start_server: Any) -> None:
    server: ServerProcess = start_server("--message-expiry", "2s", "--expiry-interval", "1s")
    alice = server.set_up()
    channel = alice.create_channel("general")["id"]
    start = alice.resume_point()
    message = alice.say(channel, "short-lived", client_id="kept")
    with open_stream(alice, start) as stream:
        stream.events_until(
            lambda e: e.kind == ("message", "deleted") and e.data["id"] == message["id"],
            timeout=2 + 1 + 10,
        )
    fresh = alice.say(channel, "short-lived", client_id="kept")
    assert fresh["id"] != message["id"]


def test_client_ids_are_compared_exactly(cast: Cast) -> None:
    channel = channel_of(cast)
    lower = cast.alice.say(channel, "hi", client_id="abc")
    upper = cast.alice.say(channel, "hi", client_id="ABC")
    spaced = cast.alice.say(channel, "hi", client_id="abc ")
    assert len({lower["id"], upper["id"], spaced["id"]}) == 3
