"""Expiry: messages, channels, invites and sessions go away on time, and bodies leave no trace.

docs/operations.md, "Expiry", run with periods of seconds (no clock is faked).
"""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from conftest import ServerProcess
from parlour_client import Message, ParlourClient, parse_time
from sse_client import open_stream

SHORT = ("--message-expiry", "2s", "--channel-expiry", "2s", "--expiry-interval", "1s")
# Timestamps are rounded to milliseconds, so allow a little for the comparison of two.
ROUNDING = timedelta(milliseconds=50)


def start(start_server: Any, *args: str) -> tuple[ServerProcess, ParlourClient]:
    server: ServerProcess = start_server(*args)
    return server, server.set_up()


def test_an_expired_message_is_deleted_with_an_event_and_leaves_boot(
    start_server: Any,
) -> None:
    _, owner = start(start_server, *SHORT)
    channel = owner.create_channel("general")
    with open_stream(owner, owner.resume_point()) as stream:
        message = owner.send_message(channel["id"], "here today")
        events = stream.events_until(
            lambda e: e.kind == ("message", "deleted") and e.data["id"] == message["id"],
            timeout=2 + 1 + 4,
        )
    deleted = events[-1]
    assert set(deleted.data) == {"type", "event", "at", "id", "channel"}
    assert deleted.data["channel"] == channel["id"]
    assert (
        parse_time(deleted.data["at"])
        >= parse_time(message["sent_at"]) + timedelta(seconds=2) - ROUNDING
    )
    assert message["id"] not in [m["id"] for m in owner.boot()["messages"]]


def test_an_expired_channel_is_deleted_after_its_messages(start_server: Any) -> None:
    _, owner = start(start_server, *SHORT)
    with open_stream(owner, owner.resume_point()) as stream:
        channel = owner.create_channel("general")
        first = owner.send_message(channel["id"], "one")
        time.sleep(0.5)
        second = owner.send_message(channel["id"], "two")
        events = stream.events_until(
            lambda e: e.kind == ("channel", "deleted") and e.data["id"] == channel["id"],
            timeout=2.5 + 2 + 1 + 4,
        )
    deletions = {e.data["id"]: e.id for e in events if e.kind == ("message", "deleted")}
    channel_deleted = events[-1]
    assert set(deletions) == {first["id"], second["id"]}
    assert max(deletions.values()) < channel_deleted.id
    assert set(channel_deleted.data) == {"type", "event", "at", "id"}
    assert (
        parse_time(channel_deleted.data["at"])
        >= parse_time(second["sent_at"]) + timedelta(seconds=2) - ROUNDING
    )
    assert channel["id"] not in [c["id"] for c in owner.boot()["channels"]]


def test_an_empty_channel_expires_after_the_channel_expiry(start_server: Any) -> None:
    _, owner = start(start_server, *SHORT)
    with open_stream(owner, owner.resume_point()) as stream:
        channel = owner.create_channel("quiet")
        events = stream.events_until(
            lambda e: e.kind == ("channel", "deleted") and e.data["id"] == channel["id"],
            timeout=2 + 1 + 4,
        )
    deleted = events[-1]
    assert (
        parse_time(deleted.data["at"])
        >= parse_time(channel["created_at"]) + timedelta(seconds=2) - ROUNDING
    )
    assert owner.boot()["channels"] == []


def test_a_channel_lives_for_the_channel_expiry_after_its_newest_message(
    start_server: Any,
) -> None:
    _, owner = start(
        start_server,
        "--message-expiry", "1s",
        "--channel-expiry", "3s",
        "--expiry-interval", "1s",
    )  # fmt: skip
    with open_stream(owner, owner.resume_point()) as stream:
        channel = owner.create_channel("general")
        time.sleep(2)
        message = owner.send_message(channel["id"], "keeps the room open")
        events = stream.events_until(
            lambda e: e.kind == ("channel", "deleted") and e.data["id"] == channel["id"],
            timeout=2 + 3 + 1 + 4,
        )
    kinds = [(e.kind, e.data["id"]) for e in events]
    assert (("message", "deleted"), message["id"]) in kinds
    deleted = events[-1]
    # 3 s after the newest message, although the message itself went after 1 s.
    assert (
        parse_time(deleted.data["at"])
        >= parse_time(message["sent_at"]) + timedelta(seconds=3) - ROUNDING
    )


def test_a_channel_is_kept_while_it_holds_a_message(start_server: Any) -> None:
    _, owner = start(
        start_server,
        "--message-expiry", "4s",
        "--channel-expiry", "1s",
        "--expiry-interval", "1s",
    )  # fmt: skip
    channel = owner.create_channel("general")
    message = owner.send_message(channel["id"], "still here")
    time.sleep(2.5)  # past the channel expiry, not the message expiry
    snapshot = owner.boot()
    assert [c["id"] for c in snapshot["channels"]] == [channel["id"]]
    assert [m["id"] for m in snapshot["messages"]] == [message["id"]]


def poll_status(client: ParlourClient, path: str, status: int, timeout: float) -> float:
    """Seconds until GET `path` answers `status` (fails when it does not within timeout)."""
    began = time.monotonic()
    while (waited := time.monotonic() - began) < timeout:
        if client.get(path).status_code == status:
            return waited
        time.sleep(0.2)
    raise AssertionError(f"GET {path} did not answer {status} within {timeout} s")


def test_an_invite_expires_after_the_invite_expiry(start_server: Any) -> None:
    server, owner = start(start_server, "--invite-expiry", "2s", "--expiry-interval", "1s")
    invite = owner.invite()
    anyone = server.client()
    assert anyone.get(f"/api/invite/{invite['id']}").status_code == 200
    waited = poll_status(anyone, f"/api/invite/{invite['id']}", 404, timeout=2 + 1 + 2)
    assert waited > 1.5, f"the invite expired after {waited:.1f} s"
    r = anyone.post(f"/api/invite/{invite['id']}", json={"name": "Late", "password": "too late!"})
    assert r.status_code == 404, r.text


def boot_with_token(server: ServerProcess, token: str) -> int:
    """GET /api/boot with the token itself, whatever a cookie jar would do with the cookie."""
    return server.client(token=token).get("/api/boot").status_code


def test_an_idle_session_expires_after_the_session_expiry(start_server: Any) -> None:
    server, owner = start(start_server, "--session-expiry", "2s", "--expiry-interval", "1s")
    token = owner.token
    assert boot_with_token(server, token) == 200
    used = time.monotonic()
    time.sleep(2 + 1 + 1)
    assert boot_with_token(server, token) == 401, (
        f"a session idle for {time.monotonic() - used:.1f} s was still accepted"
    )


def test_each_use_extends_a_session(start_server: Any) -> None:
    server, owner = start(start_server, "--session-expiry", "3s", "--expiry-interval", "1s")
    token = owner.token
    began = time.monotonic()
    for _ in range(4):
        time.sleep(1.5)  # well within the expiry; 6 s in all, twice the expiry
        assert boot_with_token(server, token) == 200, (
            f"a session used every 1.5 s ended {time.monotonic() - began:.1f} s after login"
        )


def test_a_used_session_outlives_its_first_expiry_in_a_client_that_keeps_cookies(
    start_server: Any,
) -> None:
    # A browser drops a cookie when its Max-Age or Expires passes; for "each use extends
    # it" to hold for a browser, the cookie's lifetime must follow the session's.
    _, owner = start(start_server, "--session-expiry", "3s", "--expiry-interval", "1s")
    began = time.monotonic()
    for _ in range(4):
        time.sleep(1.5)
        r = owner.get("/api/boot")
        assert r.status_code == 200, (
            f"a session used every 1.5 s ended {time.monotonic() - began:.1f} s after login "
            f"for a client that honours the cookie's lifetime"
        )


def database_files(server: ServerProcess) -> list[Path]:
    return sorted(server.database.parent.glob(server.database.name + "*"))


def found_in(files: list[Path], needle: bytes) -> list[str]:
    return [f.name for f in files if f.is_file() and needle in f.read_bytes()]


def send_canary(owner: ParlourClient) -> tuple[Message, bytes]:
    canary = f"canary-{uuid.uuid4().hex}-body"
    channel = owner.create_channel("general")
    message = owner.send_message(channel["id"], canary)
    return message, canary.encode()


def wait_for_expiry(owner: ParlourClient, stream_start: int, message_id: str) -> None:
    with open_stream(owner, stream_start) as stream:
        stream.events_until(
            lambda e: e.kind == ("message", "deleted") and e.data["id"] == message_id,
            timeout=2 + 1 + 4,
        )


@pytest.mark.sqlite_only
def test_an_expired_body_is_gone_from_the_database_files_of_a_running_server(
    start_server: Any,
) -> None:
    server, owner = start(start_server, *SHORT)
    start_at = owner.resume_point()
    message, canary = send_canary(owner)
    assert found_in(database_files(server), canary), "the test cannot see the stored body"
    wait_for_expiry(owner, start_at, message["id"])
    deadline = time.monotonic() + 3
    while (holders := found_in(database_files(server), canary)) and time.monotonic() < deadline:
        time.sleep(0.25)
    assert holders == [], f"an expired message body is still in {holders}"


@pytest.mark.sqlite_only
def test_an_expired_body_is_gone_from_the_database_files_after_shutdown(
    start_server: Any,
) -> None:
    server, owner = start(start_server, *SHORT)
    start_at = owner.resume_point()
    message, canary = send_canary(owner)
    wait_for_expiry(owner, start_at, message["id"])
    assert server.stop() == 0
    holders = found_in(database_files(server), canary)
    assert holders == [], f"an expired message body is still in {holders}"
