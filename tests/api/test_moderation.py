"""Moderation: an admin deletes any message and any public channel, even one that holds
messages (its messages first, a `message deleted` event each, then the channel); members
keep revision 1's rules (docs/api/members.md, "Moderation"; issue 11)."""

from __future__ import annotations

from conftest import ServerProcess
from parlour_client import ParlourClient, assert_problem, invite_user
from sse_client import open_stream


def test_an_admin_deletes_a_members_message_and_everyone_hears_it(
    server: ServerProcess, owner: ParlourClient
) -> None:
    bob = invite_user(server, owner, "Bob")
    channel = owner.create_channel("general")["id"]
    spam = bob.send_message(channel, "buy cheap watches")
    kept = bob.send_message(channel, "sorry about that")
    start = owner.resume_point()
    with open_stream(bob, start) as bobs:
        assert owner.delete_message(spam["id"]) == {"id": spam["id"]}
        event = bobs.next_event(5)
    assert event.kind == ("message", "deleted")
    assert (event.data["id"], event.data["channel"]) == (spam["id"], channel)
    assert owner.boot()["messages"] == [kept]
    assert_problem(bob.delete(f"/api/messages/{spam['id']}"), 404)


def test_a_member_may_still_delete_only_their_own_messages(
    server: ServerProcess, owner: ParlourClient
) -> None:
    bob = invite_user(server, owner, "Bob")
    carol = invite_user(server, owner, "Carol")
    channel = owner.create_channel("general")["id"]
    owners = owner.send_message(channel, "the admin's")
    carols = carol.send_message(channel, "Carol's")
    problem = assert_problem(bob.delete(f"/api/messages/{owners['id']}"), 403)
    assert "sender" in problem["detail"]
    assert_problem(bob.delete(f"/api/messages/{carols['id']}"), 403)
    assert carol.delete_message(carols["id"]) == {"id": carols["id"]}
    assert owner.boot()["messages"] == [owners]


def test_an_admin_deletes_a_channel_with_its_messages_in_order(
    server: ServerProcess, owner: ParlourClient
) -> None:
    bob = invite_user(server, owner, "Bob")
    carol = invite_user(server, owner, "Carol")
    channel = bob.create_channel("spam")["id"]
    other = owner.create_channel("other")["id"]
    sent = [(bob if i % 2 else carol).send_message(channel, f"message {i}") for i in range(6)]
    elsewhere = bob.send_message(other, "stays")
    bob.delete_message(sent[1]["id"])  # (Bob's own: gone before the channel is)
    left = owner.all_messages(channel)
    assert left == sent[:1] + sent[2:]
    start = owner.resume_point()
    with open_stream(carol, start) as carols:
        r = owner.delete(f"/api/channels/{channel}")
        assert r.status_code == 202, r.text
        assert r.json() == {"id": channel}
        events = carols.events_until(lambda e: e.kind == ("channel", "deleted"), 10)
    # Each message deleted, oldest first, then the channel: nothing else, in sequence order.
    assert [(e.kind, e.data["id"]) for e in events] == [
        *((("message", "deleted"), m["id"]) for m in left),
        (("channel", "deleted"), channel),
    ]
    assert all(e.data["channel"] == channel for e in events[:-1])
    ids = [e.id for e in events]
    assert ids == sorted(set(ids))
    assert ids[0] > start
    assert owner.resume_point() == ids[-1]
    snapshot = owner.boot()
    assert [c["id"] for c in snapshot["channels"]] == [other]
    assert snapshot["messages"] == [elsewhere]
    assert_problem(owner.get(f"/api/channels/{channel}/messages"), 404)


def test_a_channel_deleted_with_its_messages_replays_in_the_same_order(
    server: ServerProcess, owner: ParlourClient
) -> None:
    bob = invite_user(server, owner, "Bob")
    channel = bob.create_channel("spam")["id"]
    start = owner.resume_point()
    sent = [bob.send_message(channel, f"message {i}") for i in range(3)]
    owner.delete_channel(channel)
    newest = owner.resume_point()
    with open_stream(bob, start) as stream:
        events = stream.events_through(newest)
    # The sends were erased: only the deletions that erased them are replayed.
    assert [(e.kind, e.data["id"]) for e in events] == [
        *((("message", "deleted"), m["id"]) for m in sent),
        (("channel", "deleted"), channel),
    ]
    assert not any("message" in str(e.data.get("body", "")) for e in events)


def test_a_member_may_not_delete_a_channel_that_holds_messages(
    server: ServerProcess, owner: ParlourClient
) -> None:
    bob = invite_user(server, owner, "Bob")
    channel = bob.create_channel("bob's")["id"]
    bob.send_message(channel, "mine")
    problem = assert_problem(bob.delete(f"/api/channels/{channel}"), 409)
    assert "messages" in problem["detail"]
    assert owner.channel_names() == ["bob's"]
    # An empty one, anyone may delete.
    empty = owner.create_channel("empty")["id"]
    assert bob.delete_channel(empty) == {"id": empty}


def test_an_admin_deletes_an_empty_channel_as_before(owner: ParlourClient) -> None:
    channel = owner.create_channel("empty")["id"]
    start = owner.resume_point()
    assert owner.delete_channel(channel) == {"id": channel}
    assert owner.resume_point() == start + 1


def test_an_admin_cannot_see_or_delete_a_private_channel_they_are_not_in(
    server: ServerProcess, owner: ParlourClient
) -> None:
    bob = invite_user(server, owner, "Bob")
    r = bob.post("/api/channels", json={"name": "secret", "kind": "private"})
    assert r.status_code == 202, r.text
    channel = r.json()["id"]
    message = bob.send_message(channel, "just us")
    assert_problem(owner.delete(f"/api/channels/{channel}"), 404)
    assert_problem(owner.delete(f"/api/messages/{message['id']}"), 404)
    assert channel in [c["id"] for c in bob.boot()["channels"]]
    assert bob.all_messages(channel) == [message]


def test_an_admin_who_is_a_member_deletes_a_private_channel_with_its_messages(
    server: ServerProcess, owner: ParlourClient
) -> None:
    bob = invite_user(server, owner, "Bob")
    me = owner.me()["id"]
    r = bob.post("/api/channels", json={"name": "ours", "kind": "private", "members": [me]})
    assert r.status_code == 202, r.text
    channel = r.json()["id"]
    bob.send_message(channel, "a private word")
    assert_problem(bob.delete(f"/api/channels/{channel}"), 409)  # Bob is a member, no admin
    assert owner.delete_channel(channel) == {"id": channel}
    assert channel not in [c["id"] for c in bob.boot()["channels"]]
