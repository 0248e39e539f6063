"""Messages: send with body rules; members delete only their own (admins: any, see
tests/api/test_moderation.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from conftest import ServerProcess
from parlour_client import (
    MESSAGE_ID,
    UNKNOWN_CHANNEL,
    UNKNOWN_MESSAGE,
    ParlourClient,
    assert_problem,
    invite_user,
    parse_time,
)


@pytest.fixture(scope="module")
def shared(shared_owner: ParlourClient) -> tuple[ParlourClient, str]:
    """The module's shared server, with a channel for checks of what bodies are accepted."""
    return shared_owner, shared_owner.create_channel("bodies")["id"]


def test_sending_a_message_answers_202_with_the_message(owner: ParlourClient) -> None:
    me = owner.me()
    channel_id = owner.create_channel()["id"]
    before = datetime.now(UTC)
    r = owner.post(f"/api/channels/{channel_id}", json={"body": "hello, world"})
    assert r.status_code == 202, r.text
    assert r.headers["content-type"].startswith("application/json")
    message = r.json()
    assert set(message) == {
        *("id", "seq", "channel", "sender", "body", "sent_at"),
        *("edited_at", "mentions", "reactions", "client_id"),
    }
    assert MESSAGE_ID.match(message["id"]), message["id"]
    assert isinstance(message["seq"], int)
    assert message["seq"] == owner.resume_point()  # the sequence of its `message sent`
    assert (message["edited_at"], message["mentions"], message["reactions"]) == (None, [], [])
    assert message["client_id"] is None
    assert message["channel"] == channel_id
    assert message["sender"] == me["id"]
    assert message["body"] == "hello, world"
    sent_at = parse_time(message["sent_at"])
    assert before - timedelta(seconds=5) <= sent_at <= datetime.now(UTC) + timedelta(seconds=5)


def test_sent_message_appears_in_every_users_boot(
    server: ServerProcess, owner: ParlourClient
) -> None:
    bob = invite_user(server, owner, "Bob")
    channel_id = owner.create_channel()["id"]
    message = bob.send_message(channel_id, "hi from Bob")
    assert owner.boot()["messages"] == [message]
    assert bob.boot()["messages"] == [message]


def test_sending_without_a_session_answers_401(server: ServerProcess, owner: ParlourClient) -> None:
    channel_id = owner.create_channel()["id"]
    assert_problem(server.client().post(f"/api/channels/{channel_id}", json={"body": "hi"}), 401)
    assert owner.boot()["messages"] == []


@pytest.mark.parametrize(
    "channel_id",
    [UNKNOWN_CHANNEL, "general", "C", "Cshort", "M" + "x" * 24],
    ids=["unknown", "name", "prefix-only", "too-short", "message-prefix"],
)
def test_sending_to_an_unknown_or_malformed_channel_answers_404(
    shared_owner: ParlourClient, channel_id: str
) -> None:
    assert_problem(shared_owner.post(f"/api/channels/{channel_id}", json={"body": "hi"}), 404)


@pytest.mark.parametrize(
    ("body", "stored"),
    [
        ("x" * 8192, "x" * 8192),
        ("\u00e9" * 8192, "\u00e9" * 8192),
        ("\U0001f600" * 8192, "\U0001f600" * 8192),
        ("e\u0301" * 8192, "\u00e9" * 8192),
        ("x", "x"),
        ("cafe\u0301", "caf\u00e9"),
        ("a\tb\r\nc\nd", "a\tb\r\nc\nd"),
        ("  spaced out  ", "  spaced out  "),
        ("\n\nhello\n\n", "\n\nhello\n\n"),
        ("<script>alert('x')</script> &amp; \"q\"", "<script>alert('x')</script> &amp; \"q\""),
        ("\ufb01 \uff21", "\ufb01 \uff21"),
        ("\U0001f469\u200d\U0001f4bb", "\U0001f469\u200d\U0001f4bb"),
    ],
    ids=[
        "8192-ascii",
        "8192-two-byte",
        "8192-astral",
        "8192-after-nfc",
        "one-char",
        "nfc",
        "tab-cr-lf",
        "no-trimming",
        "surrounding-newlines",
        "no-html-escaping",
        "nfc-not-nfkc",
        "emoji-zwj-sequence",
    ],
)
def test_bodies_within_the_rules_are_stored_exactly_after_nfc(
    shared: tuple[ParlourClient, str], body: str, stored: str
) -> None:
    client, channel_id = shared
    message = client.send_message(channel_id, body)
    assert message["body"] == stored
    assert next(m for m in client.boot()["messages"] if m["id"] == message["id"]) == message


@pytest.mark.parametrize(
    "body",
    [
        "",
        "x" * 8193,
        "\u00e9" * 8193,
        "e\u0301" * 8192 + "x",
        " ",
        "   \t\r\n  ",
        "\u3000\u00a0",
        "\u2028",
        "bell\u0007",
        "nul\u0000",
        "\u001b[31mred",
        "del\u007f",
        "next-line\u0085",
        "form\u000cfeed",
        "vertical\u000btab",
    ],
    ids=[
        "empty",
        "8193-ascii",
        "8193-two-byte",
        "8193-after-nfc",
        "space",
        "whitespace",
        "unicode-whitespace",
        "line-separator-only",
        "bell",
        "nul",
        "escape",
        "delete",
        "c1-next-line",
        "form-feed",
        "vertical-tab",
    ],
)
def test_invalid_bodies_answer_400(shared: tuple[ParlourClient, str], body: str) -> None:
    client, channel_id = shared
    before = client.boot()["messages"]
    assert_problem(client.post(f"/api/channels/{channel_id}", json={"body": body}), 400)
    assert client.boot()["messages"] == before


@pytest.mark.parametrize(
    "payload",
    [{}, {"body": None}, {"body": 42}, {"body": ["hi"]}, {"body": {"text": "hi"}}, {"text": "hi"}],
    ids=["empty", "null", "number", "list", "object", "wrong-field"],
)
def test_sending_with_a_missing_or_mistyped_body_answers_400(
    shared: tuple[ParlourClient, str], payload: dict[str, Any]
) -> None:
    client, channel_id = shared
    assert_problem(client.post(f"/api/channels/{channel_id}", json=payload), 400)


def test_messages_in_boot_are_in_the_order_they_were_sent(owner: ParlourClient) -> None:
    a = owner.create_channel("a")["id"]
    b = owner.create_channel("b")["id"]
    sent = [
        owner.send_message(channel, f"message {i}") for i, channel in enumerate([b, a, b, a, a, b])
    ]
    assert owner.boot()["messages"] == sent


def test_deleting_ones_own_message_answers_202_with_its_id(owner: ParlourClient) -> None:
    channel_id = owner.create_channel()["id"]
    keep = owner.send_message(channel_id, "keep")
    gone = owner.send_message(channel_id, "gone")
    r = owner.delete(f"/api/messages/{gone['id']}")
    assert r.status_code == 202, r.text
    assert r.json() == {"id": gone["id"]}
    assert owner.boot()["messages"] == [keep]


def test_deleting_a_message_twice_answers_404(owner: ParlourClient) -> None:
    message = owner.send_message(owner.create_channel()["id"])
    owner.delete_message(message["id"])
    assert_problem(owner.delete(f"/api/messages/{message['id']}"), 404)


def test_a_member_deleting_another_users_message_answers_403_and_keeps_it(
    server: ServerProcess, owner: ParlourClient
) -> None:
    bob = invite_user(server, owner, "Bob")
    message = owner.send_message(owner.create_channel()["id"], "Alice's words")
    assert_problem(bob.delete(f"/api/messages/{message['id']}"), 403)
    assert owner.boot()["messages"] == [message]


@pytest.mark.parametrize(
    "message_id",
    [UNKNOWN_MESSAGE, "hello", "M", "Mshort", "C" + "x" * 24, "M" + "." * 24],
    ids=["unknown", "no-prefix", "prefix-only", "too-short", "channel-prefix", "bad-alphabet"],
)
def test_deleting_an_unknown_or_malformed_message_answers_404(
    shared_owner: ParlourClient, message_id: str
) -> None:
    assert_problem(shared_owner.delete(f"/api/messages/{message_id}"), 404)


def test_deleting_a_message_without_a_session_answers_401(
    server: ServerProcess, owner: ParlourClient
) -> None:
    message = owner.send_message(owner.create_channel()["id"])
    assert_problem(server.client().delete(f"/api/messages/{message['id']}"), 401)
    assert owner.boot()["messages"] == [message]


def test_channel_id_is_not_a_message_id(owner: ParlourClient) -> None:
    channel_id = owner.create_channel()["id"]
    owner.send_message(channel_id)
    assert_problem(owner.delete(f"/api/messages/{channel_id}"), 404)
