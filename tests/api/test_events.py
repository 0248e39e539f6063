"""The event stream, `GET /api/events`: resume points, framing, event kinds, endings.

docs/api/events.md: the endpoint, and "What the server promises". Every test reads the
stream of a real server over a real socket (see tests/sse_client.py).
"""

from __future__ import annotations

import json
import re
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from conftest import ServerProcess, Site
from parlour_client import (
    OWNER_PASSWORD,
    Message,
    ParlourClient,
    assert_problem,
    invite_user,
    parse_time,
)
from sse_client import (
    Event,
    StalledReader,
    apply_event,
    empty_world,
    open_raw_stream,
    open_stream,
    world,
)

ID_LINE = re.compile(r"id: (\d+)")


def stream_status(
    client: httpx.Client,
    resume_point: int | str | None = None,
    last_event_id: str | None = None,
) -> httpx.Response:
    """Open the stream, keep only the response head (and the body of an error), close."""
    with open_stream(client, resume_point, last_event_id=last_event_id) as stream:
        return stream.response


def assert_recent(value: str) -> None:
    assert abs(datetime.now(UTC) - parse_time(value)) < timedelta(minutes=1)


def without_at(event: Event) -> dict[str, Any]:
    assert_recent(event.data["at"])
    return {k: v for k, v in event.data.items() if k != "at"}


def populate(server: ServerProcess, owner: ParlourClient) -> None:
    """Every kind of event: users, channels made and removed, messages sent and deleted."""
    bob = invite_user(server, owner, "Bob")
    general = owner.create_channel("general")
    random = bob.create_channel("random")
    owner.send_message(general["id"], "hello")
    doomed = bob.send_message(general["id"], "this will be deleted")
    bob.send_message(random["id"], "bob was here")
    bob.delete_message(doomed["id"])
    empty = owner.create_channel("short-lived")
    owner.delete_channel(empty["id"])
    owner.send_message(random["id"], "last word")


# --- the response ---------------------------------------------------------------------


def test_event_stream_is_uncached_unbuffered_text_event_stream(shared_site: Site) -> None:
    owner = shared_site.owner
    with open_stream(owner, owner.resume_point()) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].split(";")[0].strip() == "text/event-stream"
        assert "no-cache" in stream.headers["cache-control"]
        assert stream.headers["x-accel-buffering"] == "no"


def test_event_stream_requires_a_login(shared_site: Site) -> None:
    server = shared_site.server
    stranger = server.client()
    assert_problem(stream_status(stranger, 0), 401)


def test_missing_login_outranks_a_bad_resume_point(shared_site: Site) -> None:
    server = shared_site.server
    assert_problem(stream_status(server.client(), "not-a-number"), 401)


def test_event_stream_before_setup_answers_503(unset_server: ServerProcess) -> None:
    assert_problem(stream_status(unset_server.client(), 0), 503)


def test_revoked_session_cannot_open_a_stream(owner: ParlourClient) -> None:
    cookies = httpx.Cookies(owner.cookies)
    owner.log_out()
    stale = httpx.Client(base_url=owner.base_url, cookies=cookies)
    with stale:
        assert_problem(stream_status(stale, 0), 401)


# --- the resume point -----------------------------------------------------------------


def test_last_event_id_header_wins_over_the_query(owner: ParlourClient) -> None:
    for name in ("one", "two", "three"):
        owner.create_channel(name)
    newest = owner.resume_point()
    assert newest >= 4
    with open_stream(owner, 1, last_event_id=str(newest - 1)) as stream:
        assert stream.status_code == 200
        first = stream.next_event(5)
        assert first.id == newest
        assert stream.quiet_events(0.3) == []


def test_empty_last_event_id_counts_as_absent(owner: ParlourClient) -> None:
    owner.create_channel("one")
    newest = owner.resume_point()
    with open_stream(owner, newest - 1, last_event_id="") as stream:
        assert stream.status_code == 200
        assert stream.next_event(5).id == newest


def test_invalid_last_event_id_is_not_rescued_by_a_valid_query(shared_site: Site) -> None:
    owner = shared_site.owner
    assert_problem(stream_status(owner, 0, last_event_id="banana"), 400)
    assert_problem(stream_status(owner, 0, last_event_id="-1"), 400)


def test_missing_resume_point_gets_400(shared_site: Site) -> None:
    owner = shared_site.owner
    assert_problem(stream_status(owner), 400)


@pytest.mark.parametrize("value", ["-1", "abc", "1.5", "", " ", "1e1", "0x1", "1 2", "½"])
def test_resume_point_that_is_not_a_non_negative_integer_in_the_query_gets_400(
    shared_site: Site, value: str
) -> None:
    owner = shared_site.owner
    assert_problem(stream_status(owner, value), 400)


@pytest.mark.parametrize("value", ["-1", "abc", "1.5", "1e1", "0x1"])
def test_last_event_id_that_is_not_a_non_negative_integer_gets_400(
    shared_site: Site, value: str
) -> None:
    owner = shared_site.owner
    assert_problem(stream_status(owner, last_event_id=value), 400)


def test_resume_point_beyond_the_newest_sequence_gets_400(shared_site: Site) -> None:
    owner = shared_site.owner
    newest = owner.resume_point()
    assert_problem(stream_status(owner, newest + 1), 400)
    assert_problem(stream_status(owner, last_event_id=str(newest + 1)), 400)
    assert_problem(stream_status(owner, "99999999999999999999999999"), 400)
    assert stream_status(owner, newest).status_code == 200


def test_resume_point_zero_is_accepted(shared_site: Site) -> None:
    owner = shared_site.owner
    with open_stream(owner, 0) as stream:
        assert stream.status_code == 200
        assert stream.next_event(5).id == 1


# --- framing --------------------------------------------------------------------------


def test_each_event_is_an_id_line_and_one_data_line_without_an_event_field(
    owner: ParlourClient,
) -> None:
    general = owner.create_channel("general")
    start = owner.resume_point()
    # Line breaks and SSE-looking text in a body must stay inside one JSON data line.
    body = "first line\nsecond line\r\nid: 999\n\ndata: injected\revent: heartbeat"
    with open_raw_stream(owner, start) as stream:
        assert stream.status_code == 200
        message = owner.send_message(general["id"], body)
        owner.delete_message(message["id"])
        events: list[list[str]] = []
        while len(events) < 2:
            (block,) = stream.messages(1, timeout=10)
            # The stream may begin with a `retry:` line, and a heartbeat may come at any
            # moment (a loaded machine is slow): neither is an event.
            retry = all(line.startswith("retry:") for line in block)
            heartbeat = sorted(block) == ["data: {}", "event: heartbeat"]
            if not retry and not heartbeat:
                events.append(block)
    ids: list[int] = []
    for lines in events:
        assert len(lines) == 2, f"an event is `id:` then one `data:` line, got {lines!r}"
        id_match = ID_LINE.fullmatch(lines[0])
        assert id_match, f"first line must be `id: <sequence>`, got {lines[0]!r}"
        assert lines[1].startswith("data: "), lines
        assert not any(line.startswith("event") for line in lines)
        ids.append(int(id_match.group(1)))
        json.loads(lines[1].removeprefix("data: "))
    assert start < ids[0] < ids[1]
    sent = json.loads(events[0][1].removeprefix("data: "))
    assert sent["body"] == body
    assert sent["event"] == "sent"


def test_heartbeat_is_written_when_idle_and_carries_no_id(start_server: Any) -> None:
    server: ServerProcess = start_server("--heartbeat", "1s")
    owner = server.set_up()
    assert owner.boot()["heartbeat"] == 1
    with open_raw_stream(owner, owner.resume_point()) as stream:
        assert stream.status_code == 200
        opened = time.monotonic()
        blocks = stream.messages(3, timeout=6)
        waited = time.monotonic() - opened
    heartbeats = [b for b in blocks if not all(line.startswith("retry:") for line in b)]
    assert len(heartbeats) >= 2, blocks
    for lines in heartbeats:
        assert sorted(lines) == ["data: {}", "event: heartbeat"], lines
    assert waited < 5, f"three messages took {waited:.1f} s with a 1 s heartbeat"


def test_heartbeat_does_not_move_the_resume_point(start_server: Any) -> None:
    server: ServerProcess = start_server("--heartbeat", "1s")
    owner = server.set_up()
    start = owner.resume_point()
    with open_stream(owner, start) as stream:
        time.sleep(2.5)  # at least two heartbeats
        general = owner.create_channel("general")
        event = stream.next_event(5)
    assert event.id > start
    assert event.data["id"] == general["id"]


# --- the event kinds ------------------------------------------------------------------


def test_setup_writes_user_created_with_sequence_one(server: ServerProcess) -> None:
    owner = server.client()
    user = owner.set_up("Ada Lovelace")
    with open_stream(owner, 0) as stream:
        event = stream.next_event(5)
    assert event.id == 1
    assert without_at(event) == {
        "type": "user",
        "event": "created",
        "id": user["id"],
        "name": "Ada Lovelace",
        "role": "admin",
        "active": True,
    }


def test_accepting_an_invite_writes_user_created(
    owner: ParlourClient, server: ServerProcess
) -> None:
    start = owner.resume_point()
    with open_stream(owner, start) as stream:
        bob = invite_user(server, owner, "Bob")
        me = bob.me()
        event = stream.next_event(5)
    assert event.id > start
    assert without_at(event) == {"type": "user", "event": "created", **me}
    assert me == {"id": me["id"], "name": "Bob", "role": "member", "active": True}


def test_channel_events_carry_exactly_the_specified_fields(owner: ParlourClient) -> None:
    start = owner.resume_point()
    with open_stream(owner, start) as stream:
        channel = owner.create_channel("Café Society")
        created = stream.next_event(5)
        owner.delete_channel(channel["id"])
        deleted = stream.next_event(5)
    assert without_at(created) == {
        "type": "channel",
        "event": "created",
        "id": channel["id"],
        "name": "Café Society",
        "created_at": channel["created_at"],
        "kind": "public",
    }
    assert without_at(deleted) == {"type": "channel", "event": "deleted", "id": channel["id"]}
    assert start < created.id < deleted.id
    assert parse_time(created.data["at"]) <= parse_time(deleted.data["at"])


def test_message_events_carry_exactly_the_specified_fields(
    owner: ParlourClient, server: ServerProcess
) -> None:
    bob = invite_user(server, owner, "Bob")
    bob_id = bob.boot()["user"]["id"]
    channel = owner.create_channel("general")
    start = owner.resume_point()
    with open_stream(owner, start) as stream:
        message = bob.send_message(channel["id"], "Hi <b>all</b> 👋\nsecond line")
        sent = stream.next_event(5)
        bob.delete_message(message["id"])
        deleted = stream.next_event(5)
    assert message["body"] == "Hi <b>all</b> 👋\nsecond line"
    assert without_at(sent) == {
        "type": "message",
        "event": "sent",
        "id": message["id"],
        "seq": sent.id,
        "channel": channel["id"],
        "sender": bob_id,
        "body": "Hi <b>all</b> 👋\nsecond line",
        "sent_at": message["sent_at"],
        "edited_at": None,
        "mentions": [],
        "reactions": [],
        "client_id": None,
    }
    assert without_at(sent) == {"type": "message", "event": "sent", **message}
    assert without_at(deleted) == {
        "type": "message",
        "event": "deleted",
        "id": message["id"],
        "channel": channel["id"],
    }
    assert start < sent.id < deleted.id


def test_an_event_reaches_every_connected_stream(
    owner: ParlourClient, server: ServerProcess
) -> None:
    bob = invite_user(server, owner, "Bob")
    start = owner.resume_point()
    with open_stream(owner, start) as mine, open_stream(bob, start) as bobs:
        channel = bob.create_channel("general")
        for stream in (mine, bobs):
            event = stream.next_event(5)
            assert event.data["id"] == channel["id"]
            assert event.id > start


# --- replay ---------------------------------------------------------------------------


def replay(client: ParlourClient, start: int) -> list[Event]:
    """Everything the stream sends from `start` until the newest event, then silence."""
    newest = client.resume_point()
    with open_stream(client, start) as stream:
        events = stream.events_through(newest, timeout=10) if newest > start else []
        events += stream.quiet_events(0.5)
    return events


def test_replay_from_zero_rebuilds_the_boot_snapshot_in_increasing_order(
    owner: ParlourClient, server: ServerProcess
) -> None:
    populate(server, owner)
    snapshot = owner.boot()
    events = replay(owner, 0)
    ids = [e.id for e in events]
    assert ids == sorted(set(ids)), f"ids not strictly increasing: {ids}"
    assert ids[0] == 1
    assert ids[-1] == snapshot["resume_point"]
    state = empty_world(snapshot["user"]["id"])
    for event in events:
        apply_event(state, event.data)
    assert world(state) == world(snapshot)


def test_deleted_message_is_not_replayed_but_its_deletion_is(owner: ParlourClient) -> None:
    channel = owner.create_channel("general")
    start = owner.resume_point()
    kept = owner.send_message(channel["id"], "kept message")
    doomed = owner.send_message(channel["id"], "secret-bd1c0a7e regretted at once")
    owner.delete_message(doomed["id"])
    events = replay(owner, start)
    kinds = [(e.kind, e.data["id"]) for e in events]
    assert kinds == [
        (("message", "sent"), kept["id"]),
        (("message", "deleted"), doomed["id"]),
    ]
    assert events[1].data["channel"] == channel["id"]
    assert not any("secret-bd1c0a7e" in json.dumps(e.data) for e in events)


def test_resuming_from_the_middle_delivers_exactly_the_later_events(
    owner: ParlourClient, server: ServerProcess
) -> None:
    populate(server, owner)
    full = replay(owner, 0)
    for start in {full[len(full) // 2].id, full[len(full) // 2].id - 1, full[-2].id}:
        later = replay(owner, start)
        assert [(e.id, e.data) for e in later] == [(e.id, e.data) for e in full if e.id > start]


def test_resuming_at_the_newest_sequence_waits_for_new_events(owner: ParlourClient) -> None:
    newest = owner.resume_point()
    with open_stream(owner, newest) as stream:
        assert stream.quiet_events(0.5) == []
        channel = owner.create_channel("general")
        event = stream.next_event(5)
    assert event.id > newest
    assert event.data["id"] == channel["id"]


def test_reconnecting_with_last_event_id_continues_without_gaps_or_repeats(
    owner: ParlourClient,
) -> None:
    channel = owner.create_channel("general")
    start = owner.resume_point()
    with open_stream(owner, start) as first:
        sent = [owner.send_message(channel["id"], f"m{i}") for i in range(3)]
        before = [first.next_event(5) for _ in range(3)]
    sent += [owner.send_message(channel["id"], f"m{i}") for i in range(3, 6)]
    with open_stream(owner, last_event_id=str(before[-1].id)) as second:
        after = [second.next_event(5) for _ in range(3)]
        assert second.quiet_events(0.3) == []
    received = before + after
    assert [e.data["id"] for e in received] == [m["id"] for m in sent]
    ids = [e.id for e in received]
    assert ids == sorted(set(ids))


# --- how a stream ends ----------------------------------------------------------------


def test_logout_ends_the_streams_opened_with_that_token_only(
    owner: ParlourClient, server: ServerProcess
) -> None:
    other_session = server.log_in()
    start = owner.resume_point()
    with open_stream(owner, start) as mine, open_stream(other_session, start) as other:
        owner.log_out()
        mine.wait_ended(5)
        channel = other_session.create_channel("still here")
        assert other.next_event(5).data["id"] == channel["id"]


def test_password_change_ends_the_streams_of_other_sessions(
    owner: ParlourClient, server: ServerProcess
) -> None:
    other_session = server.log_in()
    start = owner.resume_point()
    with open_stream(owner, start) as mine, open_stream(other_session, start) as other:
        owner.change_password(OWNER_PASSWORD, "a new secret")
        other.wait_ended(5)
        channel = owner.create_channel("after the change")
        assert mine.next_event(5).data["id"] == channel["id"]
    assert other_session.get("/api/boot").status_code == 401


def test_session_expiry_ends_the_stream(start_server: Any) -> None:
    server: ServerProcess = start_server("--session-expiry", "2s", "--expiry-interval", "1s")
    owner = server.set_up()
    with open_stream(owner, owner.resume_point()) as stream:
        opened = time.monotonic()
        stream.wait_ended(2 + 1 + 4)
        lasted = time.monotonic() - opened
    assert lasted > 1.5, f"the stream ended after {lasted:.1f} s, before the session expired"
    assert owner.get("/api/boot").status_code == 401


def test_resume_point_older_than_a_purged_tombstone_gets_410(start_server: Any) -> None:
    server: ServerProcess = start_server("--message-expiry", "2s", "--expiry-interval", "1s")
    owner = server.set_up()
    channel = owner.create_channel("general")
    before = owner.resume_point()
    message = owner.send_message(channel["id"], "soon gone")
    owner.delete_message(message["id"])
    deleted_at = time.monotonic()
    after = owner.resume_point()
    assert stream_status(owner, before).status_code == 200, "tombstone purged at once"
    gone_at: float | None = None
    while time.monotonic() < deleted_at + 2 + 1 + 2:
        response = stream_status(owner, before)
        if response.status_code != 200:
            assert_problem(response, 410)
            gone_at = time.monotonic()
            break
        time.sleep(0.2)
    assert gone_at is not None, "a resume point before a purged deletion still answered 200"
    assert gone_at - deleted_at > 1.8, "the tombstone was purged before the message expiry"
    assert stream_status(owner, after).status_code == 200
    assert stream_status(owner, last_event_id=str(after)).status_code == 200
    assert_problem(stream_status(owner, last_event_id=str(before)), 410)


# --- a stalled reader -----------------------------------------------------------------

# The kernel buffers about 3 MB between a server and a reader that never reads (measured on
# loopback with a 4 KiB receive buffer), so the flood must exceed that by more than the
# 1 MiB / 1,000-event bound before the server's own backlog is over the limit either way.
FLOOD_MESSAGES = 2_200
FLOOD_BODY_CHARACTERS = 3_000
FLOOD_SENDERS = 4


def flood(
    server: ServerProcess, owner: ParlourClient, channel_id: str, count: int
) -> list[Message]:
    """Send `count` big messages from several threads at once."""
    results: list[list[Message]] = [[] for _ in range(FLOOD_SENDERS)]
    errors: list[BaseException] = []

    def sender(index: int) -> None:
        try:
            with ParlourClient(server.url, cookies=owner.cookies) as c:
                for i in range(index, count, FLOOD_SENDERS):
                    body = f"{i:06d} " + "x" * (FLOOD_BODY_CHARACTERS - 7)
                    results[index].append(c.send_message(channel_id, body))
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=sender, args=(i,)) for i in range(FLOOD_SENDERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(100)
    assert not errors, errors
    return [m for part in results for m in part]


def wait_for_bytes(reader: StalledReader, needle: bytes, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    seen = b""
    while needle not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"{needle!r} never arrived; got {seen[-500:]!r}"
        reader.sock.settimeout(left)
        chunk = reader.sock.recv(65536)
        assert chunk, f"the stream closed before {needle!r}: {seen[-500:]!r}"
        seen += chunk


def test_a_stalled_reader_is_disconnected_while_others_receive_everything(
    owner: ParlourClient, server: ServerProcess
) -> None:
    channel = owner.create_channel("flood")
    start = owner.resume_point()
    token = owner.token
    stalled = StalledReader(server.url, token, start)
    try:
        with open_stream(owner, start) as follower:
            # Make sure the stalled reader is live (past its replay) before it stops reading.
            marker = owner.send_message(channel["id"], "stall-marker-5b1e")
            wait_for_bytes(stalled, b"stall-marker-5b1e", 10)
            assert follower.next_event(5).data["id"] == marker["id"]
            began = time.monotonic()
            sent = flood(server, owner, channel["id"], FLOOD_MESSAGES)
            flooded = time.monotonic() - began
            newest = owner.resume_point()
            events = follower.events_through(newest, timeout=30)
        received = [e.data["id"] for e in events if e.kind == ("message", "sent")]
        assert sorted(received) == sorted(m["id"] for m in sent)
        assert len(received) == len(set(received)) == FLOOD_MESSAGES
        ids = [e.id for e in events]
        assert ids == sorted(set(ids))
        _, closed = stalled.drain_until_closed(timeout=30)
        assert closed, (
            f"a reader that read nothing while {FLOOD_MESSAGES} events "
            f"({FLOOD_MESSAGES * FLOOD_BODY_CHARACTERS // 1_000_000} MB) were sent in "
            f"{flooded:.1f} s was still connected"
        )
    finally:
        stalled.close()


def test_a_stalled_reader_does_not_delay_a_live_one(
    owner: ParlourClient, server: ServerProcess
) -> None:
    channel = owner.create_channel("general")
    start = owner.resume_point()
    token = owner.token
    stalled = StalledReader(server.url, token, start)
    try:
        with open_stream(owner, start) as follower:
            latencies: list[float] = []
            for i in range(20):
                began = time.monotonic()
                message = owner.send_message(channel["id"], f"ping {i} " + "y" * 4000)
                event = follower.next_event(5)
                latencies.append(time.monotonic() - began)
                assert event.data["id"] == message["id"]
        assert max(latencies) < 2, latencies
    finally:
        stalled.close()
