"""Read state on the server: read positions, unread and mention counts, notification levels,
and the per-user events that keep every tab and device of a user in agreement (issue 14).

docs/api/reads.md: the position starts where the user could first see the channel, sending
does not move it, `POST /read` moves it forward only; `POST /notify` sets the level (default
`mentions`, `all` in direct channels); a request that changes nothing answers 202 and makes
no event; `read updated` and `notify updated` reach only their own user's streams.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from conftest import ServerProcess, Site
from parlour_client import (
    UNKNOWN_CHANNEL,
    FullMessage,
    ParlourClient,
    Read,
    assert_problem,
    fresh_name,
    invite_user,
    parse_time,
    password_for,
)
from sse_client import Event, EventStream, open_stream

READ_FIELDS = {"type", "event", "at", "channel", "seq"}
NOTIFY_FIELDS = {"type", "event", "at", "channel", "level"}


@dataclass(frozen=True)
class Cast:
    """The module's shared server: Alice (the owner), Bob and Carol."""

    server: ServerProcess
    alice: ParlourClient
    bob: ParlourClient
    carol: ParlourClient
    ids: dict[str, str]
    names: dict[str, str]


@pytest.fixture(scope="module")
def cast(shared_site: Site) -> Cast:
    server, alice = shared_site.server, shared_site.owner
    names = {"bob": fresh_name("Bob"), "carol": fresh_name("Carol")}
    bob = invite_user(server, alice, names["bob"])
    carol = invite_user(server, alice, names["carol"])
    ids = {"alice": alice.me()["id"], "bob": bob.me()["id"], "carol": carol.me()["id"]}
    return Cast(server, alice, bob, carol, ids, names)


def channel_of(cast: Cast) -> str:
    return cast.alice.create_channel(fresh_name("channel"))["id"]


def read_of(client: ParlourClient, channel: str) -> Read:
    return client.reads()[channel]


def is_personal(item: object) -> bool:
    """Whether a stream item is a `read updated` or `notify updated` event."""
    return isinstance(item, Event) and item.kind in (("read", "updated"), ("notify", "updated"))


def events_until_marker(stream: EventStream, marker: FullMessage) -> list[Event]:
    """The events up to a marker message's (which is left out)."""
    return [e for e in stream.events_through(marker["seq"]) if e.data.get("id") != marker["id"]]


# --- boot's reads -----------------------------------------------------------------------------


def test_boot_has_the_read_state_of_every_visible_channel_and_no_other(cast: Cast) -> None:
    public = channel_of(cast)
    private = cast.bob.private_channel(fresh_name("private"), [cast.ids["carol"]])["id"]
    direct = cast.bob.direct_channel([cast.ids["carol"]])["id"]
    for client, visible in ((cast.alice, {public}), (cast.bob, {public, private, direct})):
        boot = client.full_boot()
        assert set(boot["reads"]) == {c["id"] for c in boot["channels"]}
        assert visible <= set(boot["reads"])
    assert private not in cast.alice.reads()
    assert direct not in cast.alice.reads()
    for read in cast.bob.reads().values():
        assert set(read) == {"seq", "unread", "mentions", "notify"}


def test_a_new_channel_has_nothing_unread(cast: Cast) -> None:
    channel = channel_of(cast)
    for client in (cast.alice, cast.bob):
        read = read_of(client, channel)
        assert read["unread"] == 0
        assert read["mentions"] == 0
        assert read["notify"] == "mentions"


def test_messages_of_others_are_unread_and_mentions_counted(cast: Cast) -> None:
    channel = channel_of(cast)
    cast.alice.say(channel, "one")
    cast.alice.say(channel, "@Bob two", mentions=[cast.ids["bob"]])
    cast.carol.say(channel, "@Bob @Carol three", mentions=[cast.ids["bob"], cast.ids["carol"]])
    bob = read_of(cast.bob, channel)
    assert (bob["unread"], bob["mentions"]) == (3, 2)
    carol = read_of(cast.carol, channel)
    assert (carol["unread"], carol["mentions"]) == (2, 0)  # her own message is not unread


def test_sending_does_not_move_the_read_position(cast: Cast) -> None:
    channel = channel_of(cast)
    before = read_of(cast.alice, channel)
    for body in ("one", "two", "three"):
        cast.alice.say(channel, body, mentions=[cast.ids["alice"]])
    after = read_of(cast.alice, channel)
    assert after == before
    assert (after["unread"], after["mentions"]) == (0, 0)


def test_a_new_user_inherits_nothing_unread_from_an_old_channel(cast: Cast) -> None:
    channel = channel_of(cast)
    for i in range(3):
        cast.alice.say(channel, f"before you came {i}")
    newcomer = invite_user(cast.server, cast.alice, fresh_name("Newcomer"))
    read = read_of(newcomer, channel)
    assert (read["unread"], read["mentions"]) == (0, 0)
    cast.alice.say(channel, "welcome", mentions=[newcomer.me()["id"]])
    read = read_of(newcomer, channel)
    assert (read["unread"], read["mentions"]) == (1, 1)


def test_a_member_added_to_a_private_channel_counts_only_later_messages(cast: Cast) -> None:
    channel = cast.alice.private_channel(fresh_name("private"), [cast.ids["bob"]])["id"]
    cast.alice.say(channel, "before Carol")
    cast.bob.say(channel, "also before Carol")
    cast.alice.add_member(channel, cast.ids["carol"])
    read = read_of(cast.carol, channel)
    assert (read["unread"], read["mentions"]) == (0, 0)
    cast.bob.say(channel, "hi Carol", mentions=[cast.ids["carol"]])
    read = read_of(cast.carol, channel)
    assert (read["unread"], read["mentions"]) == (1, 1)


def test_a_member_who_left_and_came_back_starts_afresh(cast: Cast) -> None:
    channel = cast.alice.private_channel(fresh_name("private"), [cast.ids["bob"]])["id"]
    cast.alice.say(channel, "while Bob is in")
    answer = cast.bob.delete(f"/api/channels/{channel}/members/{cast.ids['bob']}")
    assert answer.status_code == 202, answer.text
    cast.alice.say(channel, "while Bob is away")
    cast.alice.add_member(channel, cast.ids["bob"])
    read = read_of(cast.bob, channel)
    assert (read["unread"], read["mentions"]) == (0, 0)


def test_a_deleted_message_is_no_longer_unread(cast: Cast) -> None:
    channel = channel_of(cast)
    keep = cast.alice.say(channel, "stays")
    gone = cast.alice.say(channel, "@Bob goes", mentions=[cast.ids["bob"]])
    cast.alice.delete_message(gone["id"])
    read = read_of(cast.bob, channel)
    assert (read["unread"], read["mentions"]) == (1, 0)
    assert keep["seq"] > read["seq"]


def test_an_edit_moves_the_mention_counts_with_its_mentions(cast: Cast) -> None:
    channel = channel_of(cast)
    message = cast.alice.say(channel, "@Bob", mentions=[cast.ids["bob"]])
    cast.alice.edit(message["id"], "@Carol", [cast.ids["carol"]])
    assert read_of(cast.bob, channel)["mentions"] == 0
    assert read_of(cast.carol, channel)["mentions"] == 1
    cast.alice.edit(message["id"], "nobody")
    assert read_of(cast.carol, channel)["mentions"] == 0
    assert read_of(cast.carol, channel)["unread"] == 1


# --- POST /read -------------------------------------------------------------------------------


def test_reading_up_to_a_message_leaves_only_later_ones_unread(cast: Cast) -> None:
    channel = channel_of(cast)
    one = cast.alice.say(channel, "one", mentions=[cast.ids["bob"]])
    two = cast.alice.say(channel, "two")
    cast.alice.say(channel, "three", mentions=[cast.ids["bob"]])
    read = cast.bob.mark_read(channel, one["seq"])
    assert read == {"seq": one["seq"], "unread": 2, "mentions": 1, "notify": "mentions"}
    assert read_of(cast.bob, channel) == read
    read = cast.bob.mark_read(channel, two["seq"])
    assert (read["seq"], read["unread"], read["mentions"]) == (two["seq"], 1, 1)
    newest = cast.bob.resume_point()
    read = cast.bob.mark_read(channel, newest)  # the newest sequence itself
    assert (read["seq"], read["unread"], read["mentions"]) == (newest, 0, 0)


def test_the_read_position_never_moves_back(cast: Cast) -> None:
    channel = channel_of(cast)
    one = cast.alice.say(channel, "one")
    two = cast.alice.say(channel, "two")
    read = cast.bob.mark_read(channel, two["seq"])
    for lower in (two["seq"], one["seq"], 0):
        assert cast.bob.mark_read(channel, lower) == read
    assert read_of(cast.bob, channel) == read


def test_reading_below_where_one_could_first_see_the_channel_changes_nothing(cast: Cast) -> None:
    channel = channel_of(cast)
    cast.alice.say(channel, "before Bob reads")
    before = read_of(cast.bob, channel)
    assert cast.bob.mark_read(channel, 1) == before
    assert read_of(cast.bob, channel) == before


def test_reading_is_per_user_and_agrees_across_sessions(cast: Cast) -> None:
    channel = channel_of(cast)
    message = cast.alice.say(channel, "hi")
    other_tab = cast.server.client(token=cast.bob.token)
    other_device = cast.server.log_in(cast.names["bob"], password_for(cast.names["bob"]))
    read = cast.bob.mark_read(channel, message["seq"])
    assert read_of(other_tab, channel) == read
    assert read_of(other_device, channel) == read
    assert read_of(cast.carol, channel)["unread"] == 1


@pytest.mark.parametrize(
    "seq",
    [2**63, 2**63 - 1, 2**64, 10**30, -1, 1.5, "5", None, True, [5]],
    ids=[
        "2^63",
        "2^63-1",
        "2^64",
        "huge",
        "negative",
        "a-fraction",
        "a-string",
        "null",
        "a-boolean",
        "a-list",
    ],
)
def test_an_invalid_or_future_position_answers_400(cast: Cast, seq: Any) -> None:
    channel = channel_of(cast)
    before = read_of(cast.bob, channel)
    assert_problem(cast.bob.post(f"/api/channels/{channel}/read", json={"seq": seq}), 400)
    assert read_of(cast.bob, channel) == before


def test_a_position_above_the_newest_sequence_answers_400(cast: Cast) -> None:
    channel = channel_of(cast)
    newest = cast.bob.resume_point()
    answer = cast.bob.post(f"/api/channels/{channel}/read", json={"seq": newest + 1})
    assert_problem(answer, 400)


def test_a_read_without_a_position_answers_400(cast: Cast) -> None:
    channel = channel_of(cast)
    assert_problem(cast.bob.post(f"/api/channels/{channel}/read", json={}), 400)
    assert_problem(cast.bob.post(f"/api/channels/{channel}/read"), 400)


@pytest.mark.parametrize("path", ["read", "notify"])
def test_read_state_of_an_unknown_or_invisible_channel_answers_404(cast: Cast, path: str) -> None:
    private = cast.bob.private_channel(fresh_name("private"), [])["id"]
    data = {"seq": 1} if path == "read" else {"level": "all"}
    for channel in (UNKNOWN_CHANNEL, "general", private):
        assert_problem(cast.alice.post(f"/api/channels/{channel}/{path}", json=data), 404)
    assert private not in cast.alice.reads()


@pytest.mark.parametrize("path", ["read", "notify"])
def test_read_state_needs_a_session(cast: Cast, path: str) -> None:
    channel = channel_of(cast)
    data = {"seq": 1} if path == "read" else {"level": "all"}
    assert_problem(cast.server.client().post(f"/api/channels/{channel}/{path}", json=data), 401)


def test_an_invalid_position_is_a_400_before_an_unknown_channel_is_a_404(cast: Cast) -> None:
    # docs/api/errors.md, "Which error wins": 400 before 404.
    answer = cast.bob.post(f"/api/channels/{UNKNOWN_CHANNEL}/read", json={"seq": -1})
    assert_problem(answer, 400)


# --- POST /notify -----------------------------------------------------------------------------


def test_the_default_level_is_mentions_except_in_direct_channels(cast: Cast) -> None:
    public = channel_of(cast)
    private = cast.bob.private_channel(fresh_name("private"), [cast.ids["carol"]])["id"]
    direct = cast.bob.direct_channel([cast.ids["carol"]])["id"]
    alone = cast.bob.direct_channel([])["id"]  # a direct channel with oneself
    reads = cast.bob.reads()
    assert reads[public]["notify"] == "mentions"
    assert reads[private]["notify"] == "mentions"
    assert reads[direct]["notify"] == "all"
    assert reads[alone]["notify"] == "all"
    assert read_of(cast.carol, direct)["notify"] == "all"


@pytest.mark.parametrize("level", ["all", "none", "mentions"])
def test_setting_a_level_answers_202_with_the_read_state(cast: Cast, level: str) -> None:
    channel = channel_of(cast)
    cast.alice.say(channel, "hi")
    read = cast.bob.set_notify(channel, level)
    assert read == {**read_of(cast.bob, channel), "notify": level}
    assert read_of(cast.bob, channel)["notify"] == level
    assert read_of(cast.carol, channel)["notify"] == "mentions"


def test_levels_are_per_channel(cast: Cast) -> None:
    first, second = channel_of(cast), channel_of(cast)
    cast.bob.set_notify(first, "none")
    direct = cast.bob.direct_channel([cast.ids["alice"]])["id"]
    cast.bob.set_notify(direct, "mentions")
    reads = cast.bob.reads()
    assert (reads[first]["notify"], reads[second]["notify"]) == ("none", "mentions")
    assert reads[direct]["notify"] == "mentions"
    assert read_of(cast.alice, direct)["notify"] == "all"


@pytest.mark.parametrize(
    "data",
    [{"level": "ALL"}, {"level": ""}, {"level": "loud"}, {"level": 1}, {"level": None}, {}],
    ids=["upper-case", "empty", "unknown", "a-number", "null", "missing"],
)
def test_an_unknown_level_answers_400(cast: Cast, data: dict[str, Any]) -> None:
    channel = channel_of(cast)
    assert_problem(cast.bob.post(f"/api/channels/{channel}/notify", json=data), 400)
    assert read_of(cast.bob, channel)["notify"] == "mentions"


# --- the per-user events ----------------------------------------------------------------------


def test_moving_the_position_makes_a_read_updated_event_for_each_of_ones_streams(
    cast: Cast,
) -> None:
    channel = channel_of(cast)
    message = cast.alice.say(channel, "hi")
    start = cast.bob.resume_point()
    other_device = cast.server.log_in(cast.names["bob"], password_for(cast.names["bob"]))
    with open_stream(cast.bob, start) as mine, open_stream(other_device, start) as theirs:
        cast.bob.mark_read(channel, message["seq"])
        for stream in (mine, theirs):
            [event] = stream.events_until(lambda e: e.kind == ("read", "updated"), 10)
            assert set(event.data) == READ_FIELDS
            assert event.data["channel"] == channel
            assert event.data["seq"] == message["seq"]
            assert event.id > start
            assert abs(parse_time(event.data["at"]) - datetime.now(UTC)) < timedelta(minutes=1)


def test_setting_a_level_makes_a_notify_updated_event(cast: Cast) -> None:
    channel = channel_of(cast)
    with open_stream(cast.bob, cast.bob.resume_point()) as stream:
        cast.bob.set_notify(channel, "none")
        [event] = stream.events_until(lambda e: e.kind == ("notify", "updated"), 10)
    assert set(event.data) == NOTIFY_FIELDS
    assert (event.data["channel"], event.data["level"]) == (channel, "none")


def test_a_change_that_changes_nothing_makes_no_event(cast: Cast) -> None:
    channel = channel_of(cast)
    one = cast.alice.say(channel, "one")
    two = cast.alice.say(channel, "two")
    cast.bob.mark_read(channel, two["seq"])
    cast.bob.set_notify(channel, "all")
    direct = cast.bob.direct_channel([cast.ids["carol"]])["id"]
    with open_stream(cast.bob, cast.bob.resume_point()) as stream:
        cast.bob.mark_read(channel, two["seq"])  # where it is
        cast.bob.mark_read(channel, one["seq"])  # below
        cast.bob.set_notify(channel, "all")  # the level it has
        cast.bob.set_notify(direct, "all")  # the default, never set
        cast.bob.set_notify(channel_of(cast), "mentions")  # the default, never set
        assert cast.bob.post(f"/api/channels/{channel}/read", json={"seq": -1}).is_error
        marker = cast.alice.say(channel, "marker")
        assert [e for e in events_until_marker(stream, marker) if is_personal(e)] == []


def test_read_and_notify_events_never_reach_another_users_streams(cast: Cast) -> None:
    channel = channel_of(cast)
    message = cast.alice.say(channel, "hi")
    start = cast.alice.resume_point()
    with open_stream(cast.alice, start) as alice, open_stream(cast.carol, start) as carol:
        cast.bob.mark_read(channel, message["seq"])
        cast.bob.set_notify(channel, "all")
        marker = cast.alice.say(channel, "marker")
        for stream in (alice, carol):
            assert [e.data for e in events_until_marker(stream, marker) if is_personal(e)] == []
    # Nor a replay: resuming from before, others see neither; Bob sees both.
    for client in (cast.alice, cast.carol):
        with open_stream(client, last_event_id=str(start)) as replay:
            assert [e for e in events_until_marker(replay, marker) if is_personal(e)] == []
    with open_stream(cast.bob, last_event_id=str(start)) as replay:
        mine = [e.kind for e in events_until_marker(replay, marker) if is_personal(e)]
    assert mine == [("read", "updated"), ("notify", "updated")]


def test_a_client_following_its_stream_holds_the_read_state_of_a_fresh_boot(cast: Cast) -> None:
    channel = channel_of(cast)
    messages = [cast.alice.say(channel, f"message {i}") for i in range(3)]
    boot = cast.bob.full_boot()
    held = {c: (r["seq"], r["notify"]) for c, r in boot["reads"].items()}
    other_tab = cast.server.client(token=cast.bob.token)
    with open_stream(cast.bob, boot["resume_point"]) as stream:
        other_tab.mark_read(channel, messages[1]["seq"])
        other_tab.set_notify(channel, "none")
        other_tab.mark_read(channel, messages[0]["seq"])  # no event
        other_tab.mark_read(channel, messages[2]["seq"])
        other_tab.set_notify(channel, "all")
        marker = cast.alice.say(channel_of(cast), "marker")
        for event in events_until_marker(stream, marker):
            if event.kind == ("read", "updated"):
                held[event.data["channel"]] = (event.data["seq"], held[event.data["channel"]][1])
            elif event.kind == ("notify", "updated"):
                held[event.data["channel"]] = (held[event.data["channel"]][0], event.data["level"])
    fresh = cast.bob.reads()
    assert held[channel] == (fresh[channel]["seq"], fresh[channel]["notify"])
    assert held[channel] == (messages[2]["seq"], "all")
