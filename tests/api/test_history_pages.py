"""Boot's newest messages and the history endpoint (docs/api/boot.md, docs/api/history.md).

Boot carries each visible channel's newest N messages (`?messages=N`, 0 to 200, default 50)
and `older` for every visible channel; `GET /api/channels/{id}/messages` pages through the
rest with `before`, `after` and `limit`, and says with `older` and `newer` what lies beyond
each page, and with `position` which events the page reflects. Every rule is checked here
on whichever store the tests run on (both in CI). The property that pages and the stream
join without a gap or a stale message is tests/properties/test_history_properties.py's
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from conftest import Site
from parlour_client import (
    UNKNOWN_CHANNEL,
    FullMessage,
    Page,
    ParlourClient,
    Senders,
    assert_problem,
    boot_newest,
    expect,
    fresh_name,
    history,
    invite_user,
    post_message,
    whole_history,
)
from sse_client import Ended, Event, StreamTimeout, open_stream

MAX_SEQ = 2**63 - 1
"""The largest sequence a client may name (docs/api/errors.md: 2^63 or more is a 400)."""


@dataclass(frozen=True)
class People:
    """The module's shared server: its first user (an admin) and a member, Bob."""

    owner: ParlourClient
    bob: ParlourClient


@pytest.fixture(scope="module")
def people(shared_site: Site) -> People:
    return People(shared_site.owner, invite_user(shared_site.server, shared_site.owner, "Bob"))


def new_channel(client: ParlourClient) -> str:
    return client.create_channel(fresh_name("channel"))["id"]


def filled_channel(client: ParlourClient, count: int) -> tuple[str, list[FullMessage]]:
    """A new channel holding `count` messages, and those messages, oldest first."""
    channel = new_channel(client)
    return channel, [post_message(client, channel, f"message {n}") for n in range(count)]


def private_channel_of(client: ParlourClient, name: str) -> str:
    """A private channel whose only member is the caller (docs/api/channels-and-messages.md)."""
    answer = client.post("/api/channels", json={"name": name, "kind": "private", "members": []})
    return str(expect(answer, 202)["id"])


def seqs(messages: list[FullMessage]) -> list[int]:
    return [m["seq"] for m in messages]


def ids(messages: list[FullMessage]) -> list[str]:
    return [m["id"] for m in messages]


def page_problem(client: ParlourClient, channel: str, query: dict[str, str], status: int) -> None:
    answer = client.get(f"/api/channels/{channel}/messages", params=query)
    assert_problem(answer, status)


# --- boot: ?messages=N ------------------------------------------------------------------


def test_boot_carries_each_channels_newest_messages_in_sequence_order(people: People) -> None:
    owner = people.owner
    empty, two, three, five = (new_channel(owner) for _ in range(4))
    sent: dict[str, list[FullMessage]] = {empty: [], two: [], three: [], five: []}
    # Interleaved, so that "in sequence order" is an order across channels.
    for round_ in range(5):
        for channel, count in ((two, 2), (three, 3), (five, 5)):
            if round_ < count:
                sent[channel].append(post_message(owner, channel, f"round {round_}"))

    snapshot = boot_newest(owner, 3)

    assert seqs(snapshot["messages"]) == sorted(set(seqs(snapshot["messages"])))
    assert set(snapshot["older"]) == {c["id"] for c in snapshot["channels"]}
    visible = set(snapshot["older"])
    assert all(m["channel"] in visible for m in snapshot["messages"])
    for channel, messages in sent.items():
        shown = [m for m in snapshot["messages"] if m["channel"] == channel]
        assert shown == messages[-3:], f"{len(messages)} sent"
        assert snapshot["older"][channel] is (len(messages) > 3)
    assert all(m["seq"] <= snapshot["resume_point"] for m in snapshot["messages"])


def test_boot_gives_fifty_by_default_and_any_count_from_0_to_200(people: People) -> None:
    owner = people.owner
    channel, messages = filled_channel(owner, 201)

    def mine(count: int | None) -> tuple[list[FullMessage], bool]:
        snapshot = boot_newest(owner, count)
        shown = [m for m in snapshot["messages"] if m["channel"] == channel]
        return shown, snapshot["older"][channel]

    assert mine(None) == (messages[-50:], True)
    assert mine(0) == ([], True)
    assert mine(1) == (messages[-1:], True)
    assert mine(200) == (messages[-200:], True)
    owner.delete_message(messages[0]["id"])
    assert mine(200) == (messages[1:], False), "the deleted oldest no longer counts"


def test_boot_counts_only_retained_messages_and_shows_them_as_they_are(people: People) -> None:
    owner = people.owner
    channel, messages = filled_channel(owner, 5)
    owner.delete_message(messages[4]["id"])
    edited = expect(owner.post(f"/api/messages/{messages[3]['id']}", json={"body": "fixed"}), 202)

    shown = [m for m in boot_newest(owner, 3)["messages"] if m["channel"] == channel]

    assert ids(shown) == ids(messages[1:4])
    assert shown[-1] == edited
    assert shown[-1]["body"] == "fixed"
    assert shown[-1]["edited_at"] is not None


def test_boot_leaves_out_the_private_channels_of_others(people: People) -> None:
    secret = private_channel_of(people.bob, fresh_name("secret"))
    post_message(people.bob, secret, "only for Bob")

    snapshot = boot_newest(people.owner, 200)

    assert secret not in snapshot["older"]
    assert secret not in {c["id"] for c in snapshot["channels"]}
    assert all(m["channel"] != secret for m in snapshot["messages"])
    assert boot_newest(people.bob, 1)["older"][secret] is False


@pytest.mark.parametrize(
    "value",
    ["201", "-1", "x", "", "1.5", "+1", " 1", "1 ", "0x10", "1e2", "\uff12", str(2**63), "9" * 30],
)
def test_boot_refuses_a_messages_count_out_of_0_to_200(people: People, value: str) -> None:
    problem = assert_problem(people.owner.get("/api/boot", params={"messages": value}), 400)
    assert "messages" in problem["detail"]


# --- history: paging --------------------------------------------------------------------


def test_pages_walk_back_from_the_newest_to_the_beginning(people: People) -> None:
    owner = people.owner
    channel, messages = filled_channel(owner, 13)
    owner.delete_message(messages[6]["id"])  # a hole in the middle is not a page's end
    retained = messages[:6] + messages[7:]

    first = history(owner, channel, limit=5)
    second = history(owner, channel, before=first["messages"][0]["seq"], limit=5)
    third = history(owner, channel, before=second["messages"][0]["seq"], limit=5)

    assert first["messages"] == retained[-5:]
    assert (first["older"], first["newer"]) == (True, False)
    assert second["messages"] == retained[-10:-5]
    assert (second["older"], second["newer"]) == (True, True)
    assert third["messages"] == retained[:-10]
    assert (third["older"], third["newer"]) == (False, True)
    assert whole_history(owner, channel, limit=3) == retained


def test_pages_walk_forward_from_after_0_to_the_newest(people: People) -> None:
    owner = people.owner
    channel, messages = filled_channel(owner, 11)

    first = history(owner, channel, after=0, limit=4)
    second = history(owner, channel, after=first["messages"][-1]["seq"], limit=4)
    third = history(owner, channel, after=second["messages"][-1]["seq"], limit=4)

    assert first["messages"] == messages[:4]
    assert (first["older"], first["newer"]) == (False, True)
    assert second["messages"] == messages[4:8]
    assert (second["older"], second["newer"]) == (True, True)
    assert third["messages"] == messages[8:]
    assert (third["older"], third["newer"]) == (True, False)


def test_before_and_after_are_exclusive_bounds(people: People) -> None:
    owner = people.owner
    channel, messages = filled_channel(owner, 5)
    middle = messages[2]["seq"]

    below = history(owner, channel, before=middle)
    above = history(owner, channel, after=middle)

    assert below["messages"] == messages[:2]
    assert (below["older"], below["newer"]) == (False, True)
    assert above["messages"] == messages[3:]
    assert (above["older"], above["newer"]) == (True, False)


def test_the_limit_is_fifty_by_default_and_any_count_from_1_to_200(people: People) -> None:
    owner = people.owner
    channel, messages = filled_channel(owner, 201)

    assert history(owner, channel)["messages"] == messages[-50:]
    assert history(owner, channel, limit=1)["messages"] == messages[-1:]
    assert history(owner, channel, limit=200)["messages"] == messages[-200:]
    assert history(owner, channel, after=0, limit=200)["messages"] == messages[:200]
    assert history(owner, channel, after=0)["messages"] == messages[:50]


def test_a_page_shows_each_message_as_it_is_now(people: People) -> None:
    owner = people.owner
    channel, messages = filled_channel(owner, 4)
    owner.delete_message(messages[1]["id"])
    edited = expect(owner.post(f"/api/messages/{messages[2]['id']}", json={"body": "new"}), 202)
    reacted = expect(owner.post(f"/api/messages/{messages[3]['id']}/reactions",
                                json={"emoji": "🎉"}), 202)  # fmt: skip

    page = history(owner, channel)

    assert page["messages"] == [messages[0], edited, reacted]
    assert reacted["reactions"] == [{"emoji": "🎉", "users": [messages[3]["sender"]]}]
    assert seqs(page["messages"]) == seqs([messages[0], messages[2], messages[3]])


# --- history: empty pages and far sequences ---------------------------------------------


def test_an_empty_channel_gives_empty_pages_with_nothing_beyond(people: People) -> None:
    owner = people.owner
    channel = new_channel(owner)
    for query in ({}, {"before": 1}, {"after": 0}, {"before": MAX_SEQ}, {"after": MAX_SEQ}):
        page = history(owner, channel, **query)
        assert (page["messages"], page["older"], page["newer"]) == ([], False, False), query


def test_an_empty_page_says_whether_messages_exist_below_and_above_its_bound(
    people: People,
) -> None:
    owner = people.owner
    channel, messages = filled_channel(owner, 3)
    first, last = messages[0]["seq"], messages[-1]["seq"]

    # Empty pages: `older` says whether retained messages exist below S, `newer` above S.
    below_all = history(owner, channel, before=first)
    assert (below_all["messages"], below_all["older"], below_all["newer"]) == ([], False, True)
    below_one = history(owner, channel, before=1)
    assert (below_one["messages"], below_one["older"], below_one["newer"]) == ([], False, True)
    above_all = history(owner, channel, after=last)
    assert (above_all["messages"], above_all["older"], above_all["newer"]) == ([], True, False)


def test_an_empty_page_next_to_the_only_message_follows_the_rule_literally(
    people: People,
) -> None:
    # The rule compares with S itself: a message whose seq is S is neither below nor above S.
    owner = people.owner
    channel, (only,) = filled_channel(owner, 1)

    below = history(owner, channel, before=only["seq"])
    above = history(owner, channel, after=only["seq"])

    assert (below["messages"], below["older"], below["newer"]) == ([], False, False)
    assert (above["messages"], above["older"], above["newer"]) == ([], False, False)


def test_before_beyond_every_sequence_is_the_newest_page(people: People) -> None:
    owner = people.owner
    channel, messages = filled_channel(owner, 4)
    far = owner.resume_point() + 1_000_000

    newest = history(owner, channel, limit=3)
    for before in (far, MAX_SEQ):
        page = history(owner, channel, before=before, limit=3)
        assert page["messages"] == newest["messages"] == messages[-3:]
        assert (page["older"], page["newer"]) == (True, False)


def test_after_beyond_every_sequence_is_an_empty_page(people: People) -> None:
    owner = people.owner
    channel, _ = filled_channel(owner, 2)
    for after in (owner.resume_point() + 1_000_000, MAX_SEQ):
        page = history(owner, channel, after=after)
        assert (page["messages"], page["older"], page["newer"]) == ([], True, False)


# --- history: refusals ------------------------------------------------------------------


@pytest.fixture(scope="module")
def some_channel(people: People) -> str:
    """A channel with a few messages, for the refusals (which change nothing)."""
    channel, _ = filled_channel(people.owner, 3)
    return channel


TOO_LARGE = [str(2**63), str(2**64), "9" * 30, "1" + "0" * 4400]
NOT_NON_NEGATIVE_INTEGERS = [
    "-1",
    "x",
    "",
    "1.5",
    "+1",
    " 1",
    "1 ",
    "0x10",
    "1e2",
    "\u0663",
    "\uff12",
]


@pytest.mark.parametrize("name", ["before", "after", "limit"])
@pytest.mark.parametrize("value", TOO_LARGE)
def test_a_value_of_2_63_or_more_is_400(
    people: People, some_channel: str, name: str, value: str
) -> None:
    page_problem(people.owner, some_channel, {name: value}, 400)


@pytest.mark.parametrize("name", ["before", "after", "limit"])
@pytest.mark.parametrize("value", NOT_NON_NEGATIVE_INTEGERS)
def test_a_value_that_is_not_a_non_negative_integer_is_400(
    people: People, some_channel: str, name: str, value: str
) -> None:
    page_problem(people.owner, some_channel, {name: value}, 400)


@pytest.mark.parametrize(
    "query",
    [{"before": "5", "after": "2"}, {"before": "0", "after": "0"}, {"before": "9", "after": "9"}],
)
def test_before_together_with_after_is_400(
    people: People, some_channel: str, query: dict[str, str]
) -> None:
    page_problem(people.owner, some_channel, query, 400)


@pytest.mark.parametrize("limit", ["0", "201", "1000", str(MAX_SEQ)])
def test_a_limit_out_of_1_to_200_is_400(people: People, some_channel: str, limit: str) -> None:
    page_problem(people.owner, some_channel, {"limit": limit}, 400)


def test_an_unknown_malformed_or_deleted_channel_is_404(people: People) -> None:
    owner = people.owner
    deleted = new_channel(owner)
    owner.delete_channel(deleted)
    for channel in (UNKNOWN_CHANNEL, "nope", "C", deleted):
        page_problem(owner, channel, {}, 404)
        page_problem(owner, channel, {"before": "10", "limit": "5"}, 404)


def test_a_private_channel_of_others_is_404_even_for_an_admin(people: People) -> None:
    secret = private_channel_of(people.bob, fresh_name("secret"))
    message = post_message(people.bob, secret, "only for Bob")
    for query in ({}, {"before": str(MAX_SEQ)}, {"after": "0"}, {"limit": "1"}):
        page_problem(people.owner, secret, query, 404)
    assert history(people.bob, secret)["messages"] == [message]


def test_a_bad_parameter_is_400_before_an_unknown_channel_is_404(people: People) -> None:
    # docs/api/errors.md: when several things are wrong, 400 comes before 404.
    page_problem(people.owner, UNKNOWN_CHANNEL, {"limit": "0"}, 400)
    page_problem(people.owner, UNKNOWN_CHANNEL, {"before": "1", "after": "1"}, 400)
    page_problem(people.owner, UNKNOWN_CHANNEL, {"after": str(2**63)}, 400)


def test_history_without_a_session_is_401(shared_site: Site, people: People) -> None:
    channel = new_channel(people.owner)
    stranger = shared_site.server.client()
    assert_problem(stranger.get(f"/api/channels/{channel}/messages"), 401)
    assert_problem(stranger.get(f"/api/channels/{UNKNOWN_CHANNEL}/messages?limit=0"), 401)


# --- history: position ------------------------------------------------------------------


def test_position_covers_what_the_stream_delivered_and_no_more_than_exists(
    people: People,
) -> None:
    owner = people.owner
    quiet = new_channel(owner)
    busy = new_channel(owner)
    with open_stream(owner, owner.resume_point()) as stream:
        sent = post_message(owner, busy, "heard on the stream")
        delivered = stream.events_until(lambda e: e.data.get("id") == sent["id"], 10)[-1].id

        page = history(owner, quiet)
        newest = owner.resume_point()

    assert delivered <= page["position"] <= newest
    busy_page = history(owner, busy)
    assert busy_page["messages"] == [sent]
    assert busy_page["position"] >= sent["seq"]


@dataclass
class Follower:
    """A stream read on a thread of its own; `delivered` is the newest id it has received."""

    delivered: int = 0
    error: str | None = None


@pytest.fixture
def follower(people: People) -> Iterator[Follower]:
    follower = Follower()
    stop = threading.Event()
    stream = open_stream(people.owner, people.owner.resume_point(), read_timeout=10)

    def follow() -> None:
        while not stop.is_set():
            try:
                item = stream.get(0.2)
            except StreamTimeout:
                continue
            if isinstance(item, Ended):
                follower.error = f"the stream ended: {item}"
                return
            if isinstance(item, Event):
                follower.delivered = item.id

    thread = threading.Thread(target=follow, daemon=True)
    thread.start()
    try:
        yield follower
    finally:
        stop.set()
        thread.join(10)
        stream.close()


def test_position_never_lags_the_stream_under_concurrent_sends(
    shared_site: Site, people: People, follower: Follower
) -> None:
    owner = people.owner
    busy, quiet = new_channel(owner), new_channel(owner)
    senders = Senders(shared_site.server.url, owner.cookies, busy, 4)
    pages: list[tuple[str, Page]] = []
    try:
        senders.wait_for(20, timeout=30)
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            for channel in (busy, quiet):
                delivered = follower.delivered  # read before the request leaves
                page = history(owner, channel, limit=200)
                assert page["position"] >= delivered, "the page is older than the stream"
                pages.append((channel, page))
    finally:
        senders.stop()
    assert follower.error is None, follower.error

    newest = owner.resume_point()
    everything = whole_history(owner, busy)  # nothing was deleted
    for channel, page in pages:
        assert page["position"] <= newest
        if channel != busy or not page["messages"]:
            continue
        # Every event up to `position` is in the page: from the page's first message on,
        # it holds each message sent at or below `position`, and none sent after it.
        first = page["messages"][0]["seq"]
        expected = [m["id"] for m in everything if first <= m["seq"] <= page["position"]]
        assert ids(page["messages"]) == expected, f"page at {page['position']}"
