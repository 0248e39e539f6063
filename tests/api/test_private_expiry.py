"""Expiry is one more way for an event to reach a stream, and it too reaches only the members
(issue 13; docs/api/events.md, "Who receives what"; docs/operations.md, "Expiry").

Run with periods of seconds (no clock is faked): the messages of a private channel and of a
direct one expire, then the emptied channels; each deletion reaches the streams of the
channel's members and of nobody else.
"""

from __future__ import annotations

import time
from typing import Any

from parlour_client import fresh_name, invite_user
from sse_client import Event, open_stream

SHORT = ("--message-expiry", "2s", "--channel-expiry", "2s", "--expiry-interval", "1s")
# Expiry of the messages, then of the channels, each found by a sweep; with room for a busy
# machine.
WAIT_SECONDS = 2 + 2 + 2 + 10


def ours(events: list[Event], ids: set[str]) -> list[tuple[str, str, str]]:
    return [
        (e.kind[0], e.kind[1], str(e.data["id"]))
        for e in events
        if e.data.get("id") in ids or e.data.get("channel") in ids
    ]


def test_expiry_deletes_private_messages_and_channels_for_their_members_only(
    start_server: Any,
) -> None:
    server = start_server(*SHORT)
    alice = server.set_up()
    bob = invite_user(server, alice, "Bob")
    carol = invite_user(server, alice, "Carol")
    clients = {"Alice": alice, "Bob": bob, "Carol": carol}
    start = alice.resume_point()
    streams = {name: open_stream(client, start) for name, client in clients.items()}
    try:
        room = alice.create_private_channel(fresh_name("room"), [bob.me()["id"]])["id"]
        direct = bob.open_direct([carol.me()["id"]], status=202)["id"]
        in_room = alice.send_message(room, "gone soon")["id"]
        in_direct = carol.send_message(direct, "gone soon too")["id"]
        deadline = time.monotonic() + WAIT_SECONDS
        while {room, direct} & {c["id"] for c in bob.snapshot(0)["channels"]}:
            assert time.monotonic() < deadline, "the channels did not expire"
            time.sleep(0.2)
        # Every user sees a public channel: once a stream has it, it has all before it.
        end = alice.create_channel(fresh_name("end"))["id"]
        got = {
            name: stream.events_until(lambda e: e.data.get("id") == end, 15)[:-1]
            for name, stream in streams.items()
        }
    finally:
        for stream in streams.values():
            stream.close()
    room_life = [
        ("channel", "created", room),
        ("message", "sent", in_room),
        ("message", "deleted", in_room),
        ("channel", "deleted", room),
    ]
    direct_life = [
        ("channel", "created", direct),
        ("message", "sent", in_direct),
        ("message", "deleted", in_direct),
        ("channel", "deleted", direct),
    ]
    ids = {room, direct, in_room, in_direct}
    assert ours(got["Alice"], ids) == room_life
    assert ours(got["Carol"], ids) == direct_life
    # Bob is in both: each channel's events in order (the two lives interleave).
    bobs = ours(got["Bob"], ids)
    assert [e for e in bobs if e in room_life] == room_life
    assert [e for e in bobs if e in direct_life] == direct_life
    assert len(bobs) == 8
