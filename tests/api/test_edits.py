"""Editing a message: by its sender only, `edited_at`, the `message edited` event, and the
old body gone for good.

docs/api/channels-and-messages.md, "Mentions, edits and reactions": `POST /api/messages/{id}`
`{"body", "mentions"}` → 202 message; only the sender may edit (403, admins too); 404 if
unknown or invisible; the old body is erased as expired bodies are, with no edit history
anywhere in the database. docs/api/events.md: the `message edited` event.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from conftest import ServerProcess, Site
from parlour_client import (
    UNKNOWN_MESSAGE,
    FullMessage,
    ParlourClient,
    assert_problem,
    fresh_name,
    invite_user,
    parse_time,
)
from sse_client import Event, open_stream

EDITED_FIELDS = {"type", "event", "at", "id", "channel", "body", "mentions", "edited_at"}


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


def channel_of(client: ParlourClient) -> str:
    return client.create_channel(fresh_name("channel"))["id"]


def current(client: ParlourClient, message: FullMessage) -> FullMessage:
    """The message as the history endpoint shows it now."""
    [found] = [m for m in client.retained_messages(message["channel"]) if m["id"] == message["id"]]
    return found


# --- the answer -----------------------------------------------------------------------------


def test_an_edit_answers_202_with_the_message_as_edited(cast: Cast) -> None:
    message = cast.bob.say(channel_of(cast.bob), "helo", client_id="draft-1")
    before = datetime.now(UTC)
    edited = cast.bob.edit(message["id"], "hello")
    assert edited["body"] == "hello"
    assert edited["edited_at"] is not None
    edited_at = parse_time(edited["edited_at"])
    assert before - timedelta(seconds=5) <= edited_at <= datetime.now(UTC) + timedelta(seconds=5)
    assert edited_at >= parse_time(message["sent_at"])
    unchanged = {k: v for k, v in message.items() if k not in ("body", "edited_at")}
    assert {k: v for k, v in edited.items() if k not in ("body", "edited_at")} == unchanged
    assert current(cast.bob, message) == edited
    assert [m for m in cast.carol.full_boot()["messages"] if m["id"] == message["id"]] == [edited]


def test_a_new_message_has_no_edited_at(cast: Cast) -> None:
    assert cast.bob.say(channel_of(cast.bob), "fresh")["edited_at"] is None


def test_each_edit_moves_edited_at_forward(cast: Cast) -> None:
    message = cast.bob.say(channel_of(cast.bob), "one")
    first = cast.bob.edit(message["id"], "two")
    time.sleep(0.01)
    second = cast.bob.edit(message["id"], "three")
    assert first["edited_at"] is not None
    assert second["edited_at"] is not None
    assert parse_time(second["edited_at"]) > parse_time(first["edited_at"])
    assert current(cast.bob, message)["body"] == "three"


def test_an_edited_body_follows_the_rules_of_bodies(cast: Cast) -> None:
    message = cast.bob.say(channel_of(cast.bob), "plain")
    edited = cast.bob.edit(message["id"], "cafe\u0301\n  <b>bold</b>  ")
    assert edited["body"] == "caf\u00e9\n  <b>bold</b>  "


@pytest.mark.parametrize(
    "data",
    [
        {"body": ""},
        {"body": "   \n"},
        {"body": "bell \x07"},
        {"body": "x" * 8193},
        {"body": 42},
        {},
        {"body": "ok", "mentions": "nobody"},
    ],
    ids=["empty", "blank", "control", "too-long", "not-a-string", "missing", "bad-mentions"],
)
def test_an_invalid_edit_answers_400_and_changes_nothing(cast: Cast, data: dict[str, Any]) -> None:
    message = cast.bob.say(channel_of(cast.bob), "as it was")
    assert_problem(cast.bob.post(f"/api/messages/{message['id']}", json=data), 400)
    assert current(cast.bob, message) == message


def test_editing_without_a_session_answers_401(cast: Cast) -> None:
    message = cast.bob.say(channel_of(cast.bob), "mine")
    stranger = cast.server.client()
    assert_problem(stranger.post(f"/api/messages/{message['id']}", json={"body": "x"}), 401)
    assert current(cast.bob, message) == message


# --- who may edit -------------------------------------------------------------------------


@pytest.mark.parametrize("editor", ["carol", "alice"], ids=["another member", "an admin"])
def test_only_the_sender_may_edit_a_message(cast: Cast, editor: str) -> None:
    message = cast.bob.say(channel_of(cast.bob), "Bob's words")
    other: ParlourClient = getattr(cast, editor)
    assert_problem(other.post(f"/api/messages/{message['id']}", json={"body": "mine now"}), 403)
    assert current(cast.bob, message) == message


@pytest.mark.parametrize(
    "message_id",
    [UNKNOWN_MESSAGE, "hello", "M", "C" + "x" * 24],
    ids=["unknown", "not-an-id", "prefix-only", "a-channel-id"],
)
def test_editing_an_unknown_message_answers_404(cast: Cast, message_id: str) -> None:
    assert_problem(cast.bob.post(f"/api/messages/{message_id}", json={"body": "x"}), 404)


def test_editing_a_deleted_message_answers_404(cast: Cast) -> None:
    message = cast.bob.say(channel_of(cast.bob), "soon gone")
    cast.bob.delete_message(message["id"])
    assert_problem(cast.bob.post(f"/api/messages/{message['id']}", json={"body": "x"}), 404)


def test_a_message_in_a_private_channel_is_unknown_to_outsiders_even_admins(cast: Cast) -> None:
    channel = cast.bob.private_channel(fresh_name("private"), [cast.ids["carol"]])["id"]
    message = cast.bob.say(channel, "between us")
    # Alice is an admin, but not a member: for her the message does not exist (no 403).
    assert_problem(cast.alice.post(f"/api/messages/{message['id']}", json={"body": "x"}), 404)
    assert_problem(cast.carol.post(f"/api/messages/{message['id']}", json={"body": "x"}), 403)
    assert current(cast.bob, message) == message


def test_a_sender_who_left_a_private_channel_can_no_longer_edit_there(cast: Cast) -> None:
    channel = cast.carol.private_channel(fresh_name("private"), [cast.ids["bob"]])["id"]
    message = cast.bob.say(channel, "before I go")
    answer = cast.bob.delete(f"/api/channels/{channel}/members/{cast.ids['bob']}")
    assert answer.status_code == 202, answer.text
    assert_problem(cast.bob.post(f"/api/messages/{message['id']}", json={"body": "x"}), 404)
    assert current(cast.carol, message) == message


@pytest.mark.parametrize("whose", ["unknown", "another's"])
def test_an_invalid_body_is_a_400_before_a_404_or_a_403(cast: Cast, whose: str) -> None:
    # docs/api/errors.md, "Which error wins": 400 → 404 → 403.
    message_id = UNKNOWN_MESSAGE
    if whose == "another's":
        message_id = cast.carol.say(channel_of(cast.carol), "Carol's")["id"]
    assert_problem(cast.bob.post(f"/api/messages/{message_id}", json={"body": ""}), 400)


# --- the event ----------------------------------------------------------------------------


def test_an_edit_makes_a_message_edited_event_with_exactly_its_fields(cast: Cast) -> None:
    channel = channel_of(cast.bob)
    message = cast.bob.say(channel, "@Carol hi", mentions=[cast.ids["carol"]])
    with open_stream(cast.carol, message["seq"]) as stream:
        edited = cast.bob.edit(message["id"], "@Alice hi", [cast.ids["alice"]])
        [event] = stream.events_until(lambda e: e.kind == ("message", "edited"), timeout=10)
    assert set(event.data) == EDITED_FIELDS
    assert event.id > message["seq"]
    assert event.data["id"] == message["id"]
    assert event.data["channel"] == channel
    assert event.data["body"] == "@Alice hi"
    assert event.data["mentions"] == [cast.ids["alice"]]
    assert event.data["edited_at"] == edited["edited_at"]
    assert abs(parse_time(event.data["at"]) - datetime.now(UTC)) < timedelta(minutes=1)


def test_an_edit_in_a_private_channel_reaches_only_its_members(cast: Cast) -> None:
    channel = cast.bob.private_channel(fresh_name("private"), [cast.ids["carol"]])["id"]
    message = cast.bob.say(channel, "draft")
    public = channel_of(cast.bob)
    start = cast.alice.resume_point()
    with open_stream(cast.alice, start) as outsider, open_stream(cast.carol, start) as member:
        cast.bob.edit(message["id"], "final")
        marker = cast.bob.say(public, "public marker")
        seen = outsider.events_through(marker["seq"])
        assert member.arrives(lambda e: isinstance(e, Event) and e.kind[1] == "edited", 10)
    assert [e.data["id"] for e in seen] == [marker["id"]]


def test_a_failed_edit_makes_no_event(cast: Cast) -> None:
    channel = channel_of(cast.bob)
    message = cast.bob.say(channel, "as it was")
    with open_stream(cast.bob, cast.bob.resume_point()) as stream:
        assert cast.carol.post(f"/api/messages/{message['id']}", json={"body": "x"}).is_error
        assert cast.bob.post(f"/api/messages/{message['id']}", json={"body": ""}).is_error
        marker = cast.bob.say(channel, "marker")
        assert [e.data["id"] for e in stream.events_through(marker["seq"])] == [marker["id"]]


def apply(messages: dict[str, dict[str, Any]], event: Event) -> None:
    """What a client following the stream does with the events of one channel's messages."""
    if event.kind == ("message", "sent"):
        messages[event.data["id"]] = {
            k: v for k, v in event.data.items() if k not in ("type", "event", "at")
        }
    elif event.kind == ("message", "edited"):
        for key in ("body", "mentions", "edited_at"):
            messages[event.data["id"]][key] = event.data[key]
    elif event.kind == ("message", "deleted"):
        messages.pop(event.data["id"], None)


def test_a_client_following_the_stream_holds_what_a_fresh_boot_shows(cast: Cast) -> None:
    channel = channel_of(cast.bob)
    boot = cast.carol.full_boot()
    held = {m["id"]: dict(m) for m in boot["messages"] if m["channel"] == channel}
    with open_stream(cast.carol, boot["resume_point"]) as stream:
        first = cast.bob.say(channel, "one", mentions=[cast.ids["carol"]])
        second = cast.alice.say(channel, "two")
        cast.bob.edit(first["id"], "one, edited")
        cast.alice.edit(second["id"], "two, edited", [cast.ids["bob"]])
        last = cast.bob.edit(first["id"], "one, edited again", [cast.ids["alice"]])
        for event in stream.events_until(
            lambda e: e.kind == ("message", "edited") and e.data["edited_at"] == last["edited_at"],
            timeout=10,
        ):
            apply(held, event)
    fresh = [m for m in cast.carol.full_boot()["messages"] if m["channel"] == channel]
    assert list(held.values()) == fresh


# --- replay shows the current body, never an old one ----------------------------------------


def test_a_replay_shows_only_the_current_body_whatever_the_resume_point(cast: Cast) -> None:
    channel = channel_of(cast.bob)
    before_send = cast.bob.resume_point()
    old, older = f"old body {uuid.uuid4().hex}", f"older body {uuid.uuid4().hex}"
    message = cast.bob.say(channel, older)
    cast.bob.edit(message["id"], old)
    between_edits = cast.bob.resume_point()
    final = cast.bob.edit(message["id"], "the body as it is now")
    done = cast.bob.resume_point()
    for start in (before_send, message["seq"], between_edits):
        # Last-Event-ID, as a browser reconnecting sends it.
        with open_stream(cast.carol, last_event_id=str(start)) as stream:
            events = stream.events_through(done)
        replayed = [e for e in events if e.data.get("id") == message["id"]]
        assert replayed, f"nothing about the message was replayed after {start}"
        text = json.dumps([e.data for e in events], ensure_ascii=False)
        assert old not in text
        assert older not in text
        for event in replayed:
            assert event.data["body"] == final["body"]
            assert event.data["edited_at"] == final["edited_at"]


# --- the old body leaves the database files (SQLite) ------------------------------------------


def database_files(server: ServerProcess) -> list[Path]:
    return sorted(server.database.parent.glob(server.database.name + "*"))


def holders(server: ServerProcess, needle: str) -> list[str]:
    """The database files (the file, -wal, -shm…) whose bytes hold `needle`."""
    return [
        f.name for f in database_files(server) if f.is_file() and needle.encode() in f.read_bytes()
    ]


def wait_until_gone(server: ServerProcess, needle: str, seconds: float) -> list[str]:
    """The files that still hold `needle` after up to `seconds` of waiting for it to go."""
    deadline = time.monotonic() + seconds
    while (found := holders(server, needle)) and time.monotonic() < deadline:
        time.sleep(0.25)
    return found


def edit_canary(owner: ParlourClient) -> tuple[str, str]:
    """Send a message with a unique body and edit it twice; (an old body, the new body)."""
    old = f"canary-{uuid.uuid4().hex}-old"
    new = f"canary-{uuid.uuid4().hex}-new"
    channel = owner.create_channel(fresh_name("edits"))["id"]
    message = owner.say(channel, f"{old} (first)")
    owner.edit(message["id"], f"{old} (second)")
    owner.edit(message["id"], new)
    return old, new


@pytest.mark.sqlite_only
def test_an_edited_away_body_leaves_the_files_at_the_expiry_sweeps_checkpoint(
    start_server: Any,
) -> None:
    # The sweep checkpoints the WAL after it expired something: here, an empty channel.
    server: ServerProcess = start_server("--channel-expiry", "2s", "--expiry-interval", "1s")
    owner = server.set_up()
    start = owner.resume_point()
    old, new = edit_canary(owner)
    assert holders(server, new), "the test cannot see the stored body"
    empty = owner.create_channel(fresh_name("empty"))
    with open_stream(owner, start) as stream:
        stream.events_until(
            lambda e: e.kind == ("channel", "deleted") and e.data["id"] == empty["id"],
            timeout=2 + 1 + 10,
        )
    assert wait_until_gone(server, old, 5) == [], "an edited-away body is still in the files"
    assert holders(server, new), "the message itself must stay"


@pytest.mark.sqlite_only
def test_an_edited_away_body_is_not_in_the_files_after_shutdown(start_server: Any) -> None:
    server: ServerProcess = start_server()
    owner = server.set_up()
    old, new = edit_canary(owner)
    assert server.stop() == 0
    assert holders(server, old) == []
    assert holders(server, new)


@pytest.mark.sqlite_only
def test_an_edited_away_body_leaves_the_files_of_a_running_server_that_expires_nothing(
    start_server: Any,
) -> None:
    # docs/api/channels-and-messages.md: the old body is erased as expired bodies are, and
    # an expired body leaves the files of a running server within a sweep or so.
    server: ServerProcess = start_server("--expiry-interval", "1s")
    owner = server.set_up()
    old, new = edit_canary(owner)
    assert holders(server, new), "the test cannot see the stored body"
    assert wait_until_gone(server, old, 1 + 5) == [], "an edited-away body is still in the files"
