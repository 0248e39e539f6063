"""Private and direct channels: kinds and membership rules (issue 13;
docs/api/channels-and-messages.md, "Private channels and direct messages").

Creating private channels (the caller first, duplicates collapsed, only active users),
direct channels (one per set of users, even under concurrent requests), adding, leaving,
removing, the last member taking the channel with them, and what may not be deleted. What
a non-member may see of all this is test_visibility.py's; which streams carry it,
test_private_events.py's.
"""

from __future__ import annotations

import pytest
from private_crew import Crew, make_crew, mentions_any, sentinel, until_sentinel

from conftest import Site
from parlour_client import (
    CHANNEL_ID,
    UNKNOWN_USER,
    assert_problem,
    at_once,
    expect,
    fresh_name,
    parse_time,
    password_for,
)
from sse_client import open_stream


@pytest.fixture(scope="module")
def crew(shared_site: Site) -> Crew:
    return make_crew(shared_site)


# --- creating private channels ---------------------------------------------------------------


def test_a_private_channel_is_made_with_the_caller_first_then_the_others_in_order(
    crew: Crew,
) -> None:
    name = fresh_name("room")
    channel = crew.bob.client.create_private_channel(name, [crew.dave.id, crew.alice.id])
    assert CHANNEL_ID.match(channel["id"])
    parse_time(channel["created_at"])
    assert channel["name"] == name
    assert channel["kind"] == "private"
    assert channel["members"] == [crew.bob.id, crew.dave.id, crew.alice.id]
    assert set(channel) == {"id", "name", "created_at", "kind", "members"}
    for member in (crew.bob, crew.dave, crew.alice):
        assert channel in member.client.boot()["channels"]


def test_listing_oneself_or_someone_twice_collapses_to_one_membership_each(crew: Crew) -> None:
    channel = crew.bob.client.create_private_channel(
        fresh_name("room"), [crew.carol.id, crew.bob.id, crew.carol.id, crew.dave.id, crew.bob.id]
    )
    assert channel["members"] == [crew.bob.id, crew.carol.id, crew.dave.id]


def test_a_private_channel_without_members_holds_only_its_maker(crew: Crew) -> None:
    channel = crew.carol.client.create_private_channel(fresh_name("notes"), [])
    assert channel["members"] == [crew.carol.id]
    only_oneself = crew.carol.client.create_private_channel(fresh_name("notes"), [crew.carol.id])
    assert only_oneself["members"] == [crew.carol.id]


@pytest.mark.parametrize("bad", [UNKNOWN_USER, "not-an-id", "C" + "x" * 24, ""])
def test_an_unknown_member_gets_400_naming_the_id_and_makes_nothing(crew: Crew, bad: str) -> None:
    name = fresh_name("room")
    r = crew.bob.client.post(
        "/api/channels", json={"name": name, "kind": "private", "members": [crew.carol.id, bad]}
    )
    problem = assert_problem(r, 400)
    assert repr(bad) in problem["detail"] or f'"{bad}"' in problem["detail"], problem
    for person in (crew.bob, crew.carol, crew.alice):
        assert name not in person.client.channel_names()


def test_a_deactivated_user_cannot_be_made_a_member(crew: Crew) -> None:
    gone = crew.newcomer()
    crew.alice.client.change_user(gone.id, active=False)
    name = fresh_name("room")
    r = crew.bob.client.post(
        "/api/channels", json={"name": name, "kind": "private", "members": [gone.id]}
    )
    assert gone.id in assert_problem(r, 400)["detail"]
    assert name not in crew.bob.client.channel_names()


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "direct", "members": []},
        {"kind": "secret"},
        {"kind": 1},
        {"kind": "private", "members": "Ubob"},
        {"kind": "private", "members": [1]},
    ],
)
def test_a_kind_other_than_public_or_private_or_mistyped_members_get_400(
    crew: Crew, body: dict[str, object]
) -> None:
    name = fresh_name("room")
    assert_problem(crew.bob.client.post("/api/channels", json={"name": name, **body}), 400)
    assert name not in crew.bob.client.channel_names()


def test_a_channel_is_public_unless_told_otherwise(crew: Crew) -> None:
    channel = expect(crew.bob.client.post("/api/channels", json={"name": fresh_name()}), 202)
    assert channel["kind"] == "public"
    assert "members" not in channel
    explicit = crew.bob.client.post(
        "/api/channels", json={"name": fresh_name(), "kind": "public", "members": [crew.dave.id]}
    )
    assert "members" not in expect(explicit, 202)


def test_public_names_are_unique_among_public_channels_only(crew: Crew) -> None:
    name = fresh_name("Shared")
    crew.alice.client.create_channel(name)
    # A private channel may take a public channel's name, and a public one a private's: a
    # 409 would tell the caller about a channel they may not see.
    private = crew.bob.client.create_private_channel(name.upper(), [crew.carol.id])
    assert private["name"] == name.upper()
    another_private = crew.dave.client.create_private_channel(name, [])
    assert another_private["id"] != private["id"]
    hidden = fresh_name("Hidden")
    crew.bob.client.create_private_channel(hidden, [])
    assert crew.dave.client.create_channel(hidden.lower())["name"] == hidden.lower()
    assert_problem(crew.dave.client.post("/api/channels", json={"name": name.lower()}), 409)


# --- direct channels -------------------------------------------------------------------------


def test_a_direct_channel_is_made_once_then_found_whoever_asks(crew: Crew) -> None:
    first = crew.dave.client.open_direct([crew.carol.id], status=202)
    assert CHANNEL_ID.match(first["id"])
    assert first["kind"] == "direct"
    assert first["name"] is None
    assert first["members"] == [crew.dave.id, crew.carol.id]
    parse_time(first["created_at"])
    assert crew.dave.client.open_direct([crew.carol.id], status=200) == first
    assert crew.carol.client.open_direct([crew.dave.id], status=200) == first
    assert crew.carol.client.open_direct([crew.dave.id, crew.carol.id, crew.dave.id], 200) == first
    for person in (crew.dave, crew.carol):
        mine = [c for c in person.client.boot()["channels"] if c["id"] == first["id"]]
        assert mine == [first]


def test_a_different_set_of_users_is_a_different_direct_channel(crew: Crew) -> None:
    a = crew.newcomer()
    pair = a.client.open_direct([crew.bob.id], status=202)
    trio = a.client.open_direct([crew.bob.id, crew.carol.id], status=202)
    alone = a.client.open_direct([], status=202)
    assert len({pair["id"], trio["id"], alone["id"]}) == 3
    assert alone["members"] == [a.id]
    assert a.client.open_direct([a.id], status=200) == alone
    assert crew.carol.client.open_direct([a.id, crew.bob.id], status=200) == trio


def test_concurrent_requests_for_one_set_of_users_make_one_direct_channel(crew: Crew) -> None:
    a, b = crew.newcomer(), crew.newcomer()
    callers = [a, b, crew.carol]

    def attempt(i: int) -> tuple[int, str]:
        me = callers[i % 3]
        others = [p.id for p in callers if p is not me][:: 1 if i % 2 else -1]
        answer = me.client.post("/api/direct", json={"members": others})
        return answer.status_code, expect(answer, answer.status_code)["id"]

    results = at_once(12, attempt)
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] * 11 + [202], results
    assert len({channel for _, channel in results}) == 1
    direct = [c for c in a.client.snapshot()["channels"] if c["kind"] == "direct"]
    assert [c["id"] for c in direct] == [results[0][1]]


def test_a_direct_channel_with_fifteen_others_is_fine_and_sixteen_is_400(crew: Crew) -> None:
    others = [crew.bob.id, crew.carol.id, crew.dave.id, crew.erin.id]
    others += [crew.newcomer().id for _ in range(11)]
    channel = crew.alice.client.open_direct(others, status=202)
    assert channel["members"] == [crew.alice.id, *others]
    sixteen = [*others, "U" + "y" * 24]
    r = crew.alice.client.post("/api/direct", json={"members": sixteen})
    assert "15" in assert_problem(r, 400)["detail"]


def test_a_direct_channel_with_an_unknown_or_deactivated_user_gets_400(crew: Crew) -> None:
    gone = crew.newcomer()
    before = crew.bob.client.boot()["channels"]
    crew.alice.client.change_user(gone.id, active=False)
    for bad in (UNKNOWN_USER, "nobody", gone.id):
        r = crew.bob.client.post("/api/direct", json={"members": [crew.carol.id, bad]})
        assert bad in assert_problem(r, 400)["detail"]
    assert_problem(crew.bob.client.post("/api/direct", json={"members": "x"}), 400)
    assert_problem(crew.bob.client.post("/api/direct", json={}), 400)
    assert crew.bob.client.boot()["channels"] == before


# --- adding, leaving, removing ---------------------------------------------------------------


def test_any_member_adds_an_active_user_who_then_sees_the_channel(crew: Crew) -> None:
    channel = crew.bob.client.create_private_channel(fresh_name("room"), [crew.carol.id])
    message = crew.bob.client.send_message(channel["id"], "before Dave came")
    assert channel["id"] not in {c["id"] for c in crew.dave.client.boot()["channels"]}
    added = crew.carol.client.add_member(channel["id"], crew.dave.id)
    assert added == {**channel, "members": [crew.bob.id, crew.carol.id, crew.dave.id]}
    snapshot = crew.dave.client.boot()
    assert added in snapshot["channels"]
    # While a member, the channel's retained messages are theirs to read.
    assert message["id"] in {m["id"] for m in snapshot["messages"]}
    crew.dave.client.send_message(channel["id"], "hello")


def test_adding_to_a_public_or_direct_channel_or_adding_a_member_again_gets_409(
    crew: Crew,
) -> None:
    public = crew.bob.client.create_channel(fresh_name())
    direct = crew.bob.client.open_direct([crew.carol.id])
    private = crew.bob.client.create_private_channel(fresh_name(), [crew.carol.id])
    for channel, user in ((public, crew.dave), (direct, crew.dave), (private, crew.carol)):
        r = crew.bob.client.post(f"/api/channels/{channel['id']}/members", json={"user": user.id})
        assert_problem(r, 409)
    assert crew.bob.client.open_direct([crew.carol.id], status=200) == direct


@pytest.mark.parametrize("bad", [UNKNOWN_USER, "nobody", "deactivated"])
def test_adding_an_unknown_or_deactivated_user_gets_400(crew: Crew, bad: str) -> None:
    channel = crew.bob.client.create_private_channel(fresh_name(), [])
    if bad == "deactivated":
        gone = crew.newcomer()
        crew.alice.client.change_user(gone.id, active=False)
        bad = gone.id
    r = crew.bob.client.post(f"/api/channels/{channel['id']}/members", json={"user": bad})
    assert bad in assert_problem(r, 400)["detail"]
    assert_problem(crew.bob.client.post(f"/api/channels/{channel['id']}/members", json={}), 400)


def test_a_member_leaves_and_the_channel_is_gone_for_them(crew: Crew) -> None:
    channel = crew.bob.client.create_private_channel(fresh_name(), [crew.carol.id])
    crew.carol.client.send_message(channel["id"], "bye")
    left = crew.carol.client.remove_member(channel["id"], crew.carol.id)
    assert left == {**channel, "members": [crew.bob.id]}
    assert channel["id"] not in {c["id"] for c in crew.carol.client.boot()["channels"]}
    assert_problem(
        crew.carol.client.post(f"/api/channels/{channel['id']}", json={"body": "x"}), 404
    )
    assert_problem(
        crew.carol.client.delete(f"/api/channels/{channel['id']}/members/{crew.carol.id}"), 404
    )
    # Her message stays, for those who remain.
    assert [m["body"] for m in crew.bob.client.all_messages(channel["id"])] == ["bye"]


def test_a_member_who_left_can_be_added_again(crew: Crew) -> None:
    channel = crew.bob.client.create_private_channel(fresh_name(), [crew.carol.id])
    crew.carol.client.remove_member(channel["id"], crew.carol.id)
    again = crew.bob.client.add_member(channel["id"], crew.carol.id)
    assert again["members"] == [crew.bob.id, crew.carol.id]
    assert again in crew.carol.client.boot()["channels"]


def test_an_admin_who_is_a_member_removes_others_and_nobody_else_may(crew: Crew) -> None:
    channel = crew.bob.client.create_private_channel(
        fresh_name(), [crew.alice.id, crew.carol.id, crew.dave.id]
    )
    path = f"/api/channels/{channel['id']}/members"
    # A member who is not an admin may not remove someone else.
    assert_problem(crew.bob.client.delete(f"{path}/{crew.carol.id}"), 403)
    # An admin who is not a member does not see the channel at all.
    assert_problem(crew.erin.client.delete(f"{path}/{crew.carol.id}"), 404)
    removed = crew.alice.client.remove_member(channel["id"], crew.carol.id)
    assert removed["members"] == [crew.bob.id, crew.alice.id, crew.dave.id]
    # Removing someone who is not a member: 404, even for an admin who is one.
    assert_problem(crew.alice.client.delete(f"{path}/{crew.carol.id}"), 404)
    assert_problem(crew.alice.client.delete(f"{path}/{crew.erin.id}"), 404)
    assert_problem(crew.alice.client.delete(f"{path}/{UNKNOWN_USER}"), 404)
    assert_problem(crew.alice.client.delete(f"{path}/nobody"), 404)
    assert crew.dave.client.snapshot()["channels"].count(removed) == 1


def test_members_of_public_and_direct_channels_cannot_be_removed(crew: Crew) -> None:
    public = crew.alice.client.create_channel(fresh_name())
    direct = crew.alice.client.open_direct([crew.bob.id])
    for channel, user in ((public, crew.alice), (public, crew.bob), (direct, crew.alice),
                          (direct, crew.bob)):  # fmt: skip
        r = crew.alice.client.delete(f"/api/channels/{channel['id']}/members/{user.id}")
        assert_problem(r, 409)
    assert crew.bob.client.open_direct([crew.alice.id], status=200) == direct


def test_the_last_member_leaving_deletes_the_channel_and_its_messages_quietly(
    crew: Crew,
) -> None:
    channel = crew.bob.client.create_private_channel(fresh_name(), [crew.carol.id])
    sent = [crew.bob.client.send_message(channel["id"], f"m{i}")["id"] for i in range(3)]
    crew.carol.client.remove_member(channel["id"], crew.carol.id)
    start = crew.bob.client.resume_point()
    with (
        open_stream(crew.bob.client, start) as bob,
        open_stream(crew.carol.client, start) as carol,
        open_stream(crew.erin.client, start) as erin,
    ):
        last = crew.bob.client.remove_member(channel["id"], crew.bob.id)
        assert last == {**channel, "members": []}
        end = sentinel(crew)
        ours = [channel["id"], *sent]
        got = [e for e in until_sentinel(bob, end) if mentions_any(e, ours)]
        # The leaver hears that they left; the deletions that follow reach nobody.
        assert [(e.kind, e.data["id"]) for e in got] == [(("channel", "updated"), channel["id"])]
        assert got[0].data["members"] == []
        for other in (carol, erin):
            assert not [e for e in until_sentinel(other, end) if mentions_any(e, ours)]
    for person in crew.everyone:
        assert channel["id"] not in {c["id"] for c in person.client.boot()["channels"]}
    assert_problem(crew.bob.client.get(f"/api/channels/{channel['id']}/messages"), 404)
    for message in sent:
        assert_problem(crew.bob.client.delete(f"/api/messages/{message}"), 404)
    # The channel is gone, not just hidden: nobody can add themselves back into it.
    r = crew.bob.client.post(f"/api/channels/{channel['id']}/members", json={"user": crew.bob.id})
    assert_problem(r, 404)


# --- deleting --------------------------------------------------------------------------------


def test_a_direct_channel_is_never_deleted_by_hand(crew: Crew) -> None:
    direct = crew.alice.client.open_direct([crew.dave.id])
    for person in (crew.alice, crew.dave):
        assert_problem(person.client.delete(f"/api/channels/{direct['id']}"), 409)
    crew.dave.client.send_message(direct["id"], "still here")
    assert_problem(crew.alice.client.delete(f"/api/channels/{direct['id']}"), 409)
    # Not a member: it does not exist.
    assert_problem(crew.erin.client.delete(f"/api/channels/{direct['id']}"), 404)
    assert crew.dave.client.open_direct([crew.alice.id], status=200) == direct


def test_a_private_channel_is_deleted_as_a_public_one_by_those_who_see_it(crew: Crew) -> None:
    empty = crew.bob.client.create_private_channel(fresh_name(), [crew.carol.id])
    assert_problem(crew.erin.client.delete(f"/api/channels/{empty['id']}"), 404)
    assert crew.carol.client.delete_channel(empty["id"]) == {"id": empty["id"]}
    full = crew.bob.client.create_private_channel(fresh_name(), [crew.alice.id])
    crew.bob.client.send_message(full["id"], "keep me")
    assert_problem(crew.bob.client.delete(f"/api/channels/{full['id']}"), 409)
    assert_problem(crew.erin.client.delete(f"/api/channels/{full['id']}"), 404)
    assert crew.alice.client.delete_channel(full["id"]) == {"id": full["id"]}
    assert full["id"] not in {c["id"] for c in crew.bob.client.boot()["channels"]}


# --- deactivation ----------------------------------------------------------------------------


def test_a_deactivated_user_stays_a_member_and_sees_the_channel_when_back(crew: Crew) -> None:
    frank = crew.newcomer()
    channel = crew.bob.client.create_private_channel(fresh_name(), [frank.id])
    direct = frank.client.open_direct([crew.bob.id])
    crew.alice.client.change_user(frank.id, active=False)
    members = [crew.bob.id, frank.id]
    assert {**channel, "members": members} in crew.bob.client.boot()["channels"]
    assert direct in crew.bob.client.boot()["channels"]
    # Nobody starts a conversation with them meanwhile, not even the one that exists.
    assert (
        frank.id
        in assert_problem(crew.bob.client.post("/api/direct", json={"members": [frank.id]}), 400)[
            "detail"
        ]
    )
    crew.bob.client.send_message(channel["id"], "while Frank was away")
    crew.alice.client.change_user(frank.id, active=True)
    again = crew.server.log_in(frank.name, password_for(frank.name))
    snapshot = again.boot()
    assert {channel["id"], direct["id"]} <= {c["id"] for c in snapshot["channels"]}
    assert "while Frank was away" in {m["body"] for m in snapshot["messages"]}
