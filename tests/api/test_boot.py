"""Boot: one consistent snapshot of users, channels and messages, with its resume point."""

from __future__ import annotations

import itertools
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from conftest import ServerProcess, Site
from parlour_client import (
    OWNER_NAME,
    TIME,
    Boot,
    ParlourClient,
    assert_problem,
    invite_user,
)
from sse_client import Event, open_stream


def events_through(client: httpx.Client, newest: int) -> list[Event]:
    """The events a stream opened at 0 sends, up to `newest`."""
    with open_stream(client, 0) as stream:
        return stream.events_through(newest)


def stream_status(client: httpx.Client, resume_point: int) -> int:
    """The status of opening the event stream at `resume_point` (the stream is then closed)."""
    with open_stream(client, resume_point) as stream:
        return stream.status_code


def test_boot_answers_the_snapshot_in_the_documented_shape(owner: ParlourClient) -> None:
    r = owner.get("/api/boot")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    snapshot = r.json()
    assert set(snapshot) == {
        *("user", "resume_point", "heartbeat", "users", "channels", "messages"),
        *("older", "reads"),
    }
    assert snapshot["user"] == {
        "id": snapshot["user"]["id"],
        "name": OWNER_NAME,
        "role": "admin",  # setup's user
        "active": True,
    }
    assert snapshot["users"] == [snapshot["user"]]
    assert snapshot["channels"] == []
    assert snapshot["messages"] == []
    assert snapshot["older"] == {}
    assert snapshot["reads"] == {}
    assert isinstance(snapshot["resume_point"], int)
    assert snapshot["resume_point"] == 1


def test_boot_heartbeat_is_30_seconds_by_default(shared_site: Site) -> None:
    owner = shared_site.owner
    assert owner.boot()["heartbeat"] == 30


@pytest.mark.parametrize(("flag", "seconds"), [("5s", 5), ("2m", 120), ("45", 45)])
def test_boot_heartbeat_follows_the_heartbeat_flag(
    start_server: Any, flag: str, seconds: int
) -> None:
    server: ServerProcess = start_server("--heartbeat", flag)
    assert server.set_up().boot()["heartbeat"] == seconds


def test_boot_without_a_session_answers_401(shared_site: Site) -> None:
    server = shared_site.server
    assert_problem(server.client().get("/api/boot"), 401)


def test_boot_names_the_caller_as_user(server: ServerProcess, owner: ParlourClient) -> None:
    bob = invite_user(server, owner, "Bob")
    bob_boot = bob.boot()
    assert bob_boot["user"]["name"] == "Bob"
    assert bob_boot["user"] in bob_boot["users"]
    assert owner.boot()["user"]["name"] == OWNER_NAME


def test_boot_lists_users_and_channels_in_creation_order(
    server: ServerProcess, owner: ParlourClient
) -> None:
    for name in ("Zed", "Bob", "Mia"):
        invite_user(server, owner, name)
    channels = [owner.create_channel(name) for name in ("zeta", "alpha", "Mid", "beta")]
    snapshot = owner.boot()
    assert [u["name"] for u in snapshot["users"]] == [OWNER_NAME, "Zed", "Bob", "Mia"]
    assert snapshot["channels"] == channels


def test_boot_lists_messages_in_sequence_order_across_channels(
    server: ServerProcess, owner: ParlourClient
) -> None:
    bob = invite_user(server, owner, "Bob")
    a = owner.create_channel("a")["id"]
    b = owner.create_channel("b")["id"]
    sent = [
        owner.send_message(b, "1"),
        bob.send_message(a, "2"),
        owner.send_message(a, "3"),
        bob.send_message(b, "4"),
        owner.send_message(b, "5"),
    ]
    assert owner.boot()["messages"] == sent
    assert bob.boot()["messages"] == sent


def test_boot_leaves_out_deleted_messages_and_channels(owner: ParlourClient) -> None:
    kept = owner.create_channel("kept")
    dropped = owner.create_channel("dropped")
    first = owner.send_message(kept["id"], "first")
    second = owner.send_message(kept["id"], "second")
    owner.delete_message(first["id"])
    owner.delete_channel(dropped["id"])
    snapshot = owner.boot()
    assert snapshot["channels"] == [kept]
    assert snapshot["messages"] == [second]


def test_boot_times_are_rfc3339_utc(owner: ParlourClient) -> None:
    channel = owner.create_channel("general")
    owner.send_message(channel["id"], "hi")
    snapshot = owner.boot()
    assert TIME.match(snapshot["channels"][0]["created_at"])
    assert TIME.match(snapshot["messages"][0]["sent_at"])


def test_resume_point_grows_with_every_change(server: ServerProcess, owner: ParlourClient) -> None:
    points = [owner.boot()["resume_point"]]
    invite_user(server, owner, "Bob")
    points.append(owner.boot()["resume_point"])
    channel = owner.create_channel("general")
    points.append(owner.boot()["resume_point"])
    message = owner.send_message(channel["id"], "hi")
    points.append(owner.boot()["resume_point"])
    owner.delete_message(message["id"])
    points.append(owner.boot()["resume_point"])
    owner.delete_channel(channel["id"])
    points.append(owner.boot()["resume_point"])
    assert all(later > earlier for earlier, later in itertools.pairwise(points)), points


def test_reads_and_rejected_changes_do_not_move_the_resume_point(
    server: ServerProcess, owner: ParlourClient
) -> None:
    channel = owner.create_channel("general")
    before = owner.boot()["resume_point"]
    assert owner.post("/api/invite", json={}).status_code == 200
    assert owner.post("/api/channels", json={"name": "GENERAL"}).status_code == 409
    assert owner.post(f"/api/channels/{channel['id']}", json={"body": ""}).status_code == 400
    assert owner.boot()["resume_point"] == before


def test_resume_point_is_the_newest_sequence(server: ServerProcess, owner: ParlourClient) -> None:
    channel = owner.create_channel("general")
    owner.send_message(channel["id"], "hi")
    resume_point = owner.boot()["resume_point"]
    # The stream accepts any resume point up to the newest sequence and none beyond it.
    assert stream_status(owner, resume_point) == 200
    assert stream_status(owner, resume_point + 1) == 400
    assert events_through(owner, resume_point)[-1].id == resume_point


def test_boot_shows_exactly_the_events_up_to_its_resume_point_while_others_write(
    server: ServerProcess, owner: ParlourClient
) -> None:
    channel = owner.create_channel("general")
    writers = [invite_user(server, owner, f"Writer {i}") for i in range(3)]
    reader = server.client(token=owner.token)
    writing = threading.Event()
    writing.set()

    def write(client: ParlourClient) -> None:
        for i in range(15):
            client.send_message(channel["id"], f"message {i}")

    def read() -> list[Boot]:
        snapshots = []
        while writing.is_set():
            snapshots.append(reader.boot())
        return snapshots

    with ThreadPoolExecutor(max_workers=len(writers) + 1) as pool:
        reading = pool.submit(read)
        try:
            for done in [pool.submit(write, w) for w in writers]:
                done.result()
        finally:
            writing.clear()
        snapshots = reading.result()

    final = owner.boot()
    assert len(final["messages"]) == 45
    sequence_of = {
        e.data["id"]: e.id
        for e in events_through(owner, final["resume_point"])
        if e.kind == ("message", "sent")
    }
    assert len(snapshots) > 1
    for snapshot in snapshots:
        shown = [m["id"] for m in snapshot["messages"]]
        expected = sorted(
            (m for m in sequence_of if sequence_of[m] <= snapshot["resume_point"]),
            key=sequence_of.__getitem__,
        )
        assert shown == expected, snapshot["resume_point"]
