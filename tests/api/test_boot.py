"""Boot: one consistent snapshot of users, channels and messages, with its resume point."""

from __future__ import annotations

import itertools
import json
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from conftest import OWNER_NAME, ServerProcess, assert_problem, invite_user

TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


def boot(client: httpx.Client) -> dict[str, Any]:
    r = client.get("/api/boot")
    assert r.status_code == 200, r.text
    snapshot: dict[str, Any] = r.json()
    return snapshot


def create(client: httpx.Client, name: str) -> dict[str, Any]:
    r = client.post("/api/channels", json={"name": name})
    assert r.status_code == 202, r.text
    channel: dict[str, Any] = r.json()
    return channel


def send(client: httpx.Client, channel_id: str, body: str) -> dict[str, Any]:
    r = client.post(f"/api/channels/{channel_id}", json={"body": body})
    assert r.status_code == 202, r.text
    message: dict[str, Any] = r.json()
    return message


def events_status(client: httpx.Client, resume_point: int) -> int:
    """The status of opening the event stream at `resume_point` (the stream is then closed)."""
    with client.stream("GET", "/api/events", params={"resume_point": str(resume_point)}) as r:
        return r.status_code


def read_events(client: httpx.Client, resume_point: int, until: int) -> list[dict[str, Any]]:
    """Events with sequence in (resume_point, until], each with its SSE id as `seq`."""
    events: list[dict[str, Any]] = []
    if until <= resume_point:
        return events
    seq: int | None = None
    with client.stream(
        "GET",
        "/api/events",
        params={"resume_point": str(resume_point)},
        timeout=httpx.Timeout(10.0),
    ) as r:
        assert r.status_code == 200
        for line in r.iter_lines():
            if line.startswith("id:"):
                seq = int(line[3:].strip())
            elif line.startswith("data:") and seq is not None:
                events.append({**json.loads(line[5:].strip()), "seq": seq})
                if seq >= until:
                    break
            elif line == "":
                seq = None
    return events


def test_boot_answers_the_snapshot_in_the_documented_shape(owner: httpx.Client) -> None:
    r = owner.get("/api/boot")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    snapshot = r.json()
    assert {"user", "resume_point", "heartbeat", "users", "channels", "messages"} <= set(snapshot)
    assert set(snapshot["user"]) == {"id", "name"}
    assert snapshot["user"]["name"] == OWNER_NAME
    assert snapshot["users"] == [snapshot["user"]]
    assert snapshot["channels"] == []
    assert snapshot["messages"] == []
    assert isinstance(snapshot["resume_point"], int)
    assert snapshot["resume_point"] == 1


def test_boot_heartbeat_is_30_seconds_by_default(owner: httpx.Client) -> None:
    assert boot(owner)["heartbeat"] == 30


@pytest.mark.parametrize(("flag", "seconds"), [("5s", 5), ("2m", 120), ("45", 45)])
def test_boot_heartbeat_follows_the_heartbeat_flag(
    start_server: Any, flag: str, seconds: int
) -> None:
    server: ServerProcess = start_server("--heartbeat", flag)
    c = server.client()
    assert c.post("/api/setup", json={"name": OWNER_NAME, "password": "password 1234"}).is_success
    assert boot(c)["heartbeat"] == seconds


def test_boot_without_a_session_answers_401(server: ServerProcess, owner: httpx.Client) -> None:
    assert_problem(server.client().get("/api/boot"), 401)


def test_boot_names_the_caller_as_user(server: ServerProcess, owner: httpx.Client) -> None:
    bob = invite_user(server, owner, "Bob")
    bob_boot = boot(bob)
    assert bob_boot["user"]["name"] == "Bob"
    assert bob_boot["user"] in bob_boot["users"]
    assert boot(owner)["user"]["name"] == OWNER_NAME


def test_boot_lists_users_and_channels_in_creation_order(
    server: ServerProcess, owner: httpx.Client
) -> None:
    for name in ("Zed", "Bob", "Mia"):
        invite_user(server, owner, name)
    channels = [create(owner, name) for name in ("zeta", "alpha", "Mid", "beta")]
    snapshot = boot(owner)
    assert [u["name"] for u in snapshot["users"]] == [OWNER_NAME, "Zed", "Bob", "Mia"]
    assert snapshot["channels"] == channels


def test_boot_lists_messages_in_sequence_order_across_channels(
    server: ServerProcess, owner: httpx.Client
) -> None:
    bob = invite_user(server, owner, "Bob")
    a = create(owner, "a")["id"]
    b = create(owner, "b")["id"]
    sent = [
        send(owner, b, "1"),
        send(bob, a, "2"),
        send(owner, a, "3"),
        send(bob, b, "4"),
        send(owner, b, "5"),
    ]
    assert boot(owner)["messages"] == sent
    assert boot(bob)["messages"] == sent


def test_boot_leaves_out_deleted_messages_and_channels(owner: httpx.Client) -> None:
    kept = create(owner, "kept")
    dropped = create(owner, "dropped")
    first = send(owner, kept["id"], "first")
    second = send(owner, kept["id"], "second")
    assert owner.delete(f"/api/messages/{first['id']}").status_code == 202
    assert owner.delete(f"/api/channels/{dropped['id']}").status_code == 202
    snapshot = boot(owner)
    assert snapshot["channels"] == [kept]
    assert snapshot["messages"] == [second]


def test_boot_times_are_rfc3339_utc(owner: httpx.Client) -> None:
    channel = create(owner, "general")
    send(owner, channel["id"], "hi")
    snapshot = boot(owner)
    assert TIME.match(snapshot["channels"][0]["created_at"])
    assert TIME.match(snapshot["messages"][0]["sent_at"])


def test_resume_point_grows_with_every_change(server: ServerProcess, owner: httpx.Client) -> None:
    points = [boot(owner)["resume_point"]]
    invite_user(server, owner, "Bob")
    points.append(boot(owner)["resume_point"])
    channel = create(owner, "general")
    points.append(boot(owner)["resume_point"])
    message = send(owner, channel["id"], "hi")
    points.append(boot(owner)["resume_point"])
    assert owner.delete(f"/api/messages/{message['id']}").status_code == 202
    points.append(boot(owner)["resume_point"])
    assert owner.delete(f"/api/channels/{channel['id']}").status_code == 202
    points.append(boot(owner)["resume_point"])
    assert all(later > earlier for earlier, later in itertools.pairwise(points)), points


def test_reads_and_rejected_changes_do_not_move_the_resume_point(
    server: ServerProcess, owner: httpx.Client
) -> None:
    channel = create(owner, "general")
    before = boot(owner)["resume_point"]
    assert owner.post("/api/invite", json={}).status_code == 200
    assert owner.post("/api/channels", json={"name": "GENERAL"}).status_code == 409
    assert owner.post(f"/api/channels/{channel['id']}", json={"body": ""}).status_code == 400
    assert boot(owner)["resume_point"] == before


def test_resume_point_is_the_newest_sequence(server: ServerProcess, owner: httpx.Client) -> None:
    channel = create(owner, "general")
    send(owner, channel["id"], "hi")
    resume_point = boot(owner)["resume_point"]
    # The stream accepts any resume point up to the newest sequence and none beyond it.
    assert events_status(owner, resume_point) == 200
    assert events_status(owner, resume_point + 1) == 400
    events = read_events(owner, 0, resume_point)
    assert events[-1]["seq"] == resume_point


def test_boot_shows_exactly_the_events_up_to_its_resume_point_while_others_write(
    server: ServerProcess, owner: httpx.Client
) -> None:
    channel = create(owner, "general")
    writers = [invite_user(server, owner, f"Writer {i}") for i in range(3)]
    reader = server.client(headers={"cookie": f"identity={owner.cookies.get('identity')}"})
    writing = threading.Event()
    writing.set()

    def write(client: httpx.Client) -> None:
        for i in range(15):
            send(client, channel["id"], f"message {i}")

    def read() -> list[dict[str, Any]]:
        snapshots = []
        while writing.is_set():
            snapshots.append(boot(reader))
        return snapshots

    with ThreadPoolExecutor(max_workers=len(writers) + 1) as pool:
        reading = pool.submit(read)
        try:
            for done in [pool.submit(write, w) for w in writers]:
                done.result()
        finally:
            writing.clear()
        snapshots = reading.result()

    final = boot(owner)
    assert len(final["messages"]) == 45
    sequence_of = {
        e["id"]: e["seq"]
        for e in read_events(owner, 0, final["resume_point"])
        if e.get("type") == "message" and e.get("event") == "sent"
    }
    assert len(snapshots) > 1
    for snapshot in snapshots:
        shown = [m["id"] for m in snapshot["messages"]]
        expected = sorted(
            (m for m in sequence_of if sequence_of[m] <= snapshot["resume_point"]),
            key=sequence_of.__getitem__,
        )
        assert shown == expected, snapshot["resume_point"]
