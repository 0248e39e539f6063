"""Boot's unread and mention counts equal a recount from history (issue 14).

docs/api/reads.md: a user's unread messages in a channel are those sent by others with a
`seq` above their read position, and `mentions` counts those of them that mention the user.
The server keeps these counts with indexes; this test counts them the slow way. Hypothesis
draws what several users do — send (with mentions), edit (changing mentions), delete, move
read positions, join a private channel — in small batches run at the same moment. After
each batch, once the server is quiet, every user's boot `reads` must show:
- for each channel of the example the user can see, the read position a model predicts (the
  larger of where they could first see it and every position they asked for), and the counts
  recounted from all of the channel's retained messages, fetched with the history endpoint;
- no entry for a channel they cannot see.
The history must also hold exactly the messages the model says are retained.

One server serves the whole module; each example works in channels of its own (a public
one, and a private one that the third user may join), so that a failing example replays
alike.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st

from conftest import ServerProcess
from parlour_client import ParlourClient, at_once, fresh_name, invite_user

USERS = 3
ADMIN = 0  # the owner: may delete anyone's message in a channel they can see
# Each example makes a few hundred requests; shrinking is off so that a failure is reported
# within the time limit (the notes give the batches that led to it).
EXAMPLES = settings(
    max_examples=20,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow],
)
BATCHES = 12
BATCH_SIZE = 3


@dataclass
class Site:
    server: ServerProcess
    users: list[ParlourClient]
    sessions: list[list[ParlourClient]]
    """Per user, one client for each op of a batch (run on threads of their own)."""
    ids: list[str]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    database = tmp_path_factory.mktemp("read-counts") / "parlour.db"
    server = ServerProcess(database).start()
    try:
        owner = server.set_up()
        users = [owner] + [invite_user(server, owner, fresh_name("Reader")) for _ in range(2)]
        sessions = [[server.client(token=u.token) for _ in range(BATCH_SIZE)] for u in users]
        ids = [u.me()["id"] for u in users]
        yield Site(server, users, sessions, ids)
    finally:
        server.close()


@dataclass(frozen=True)
class Sent:
    channel: str
    sender: int
    seq: int


@dataclass
class World:
    """What the test knows: who sees which channel, which messages are retained, and where
    each user's read position must be."""

    seen_by: dict[str, set[int]]
    messages: dict[str, Sent] = field(default_factory=dict)
    positions: dict[tuple[int, str], int] = field(default_factory=dict)
    """(user, channel) → the read position."""
    joining: dict[tuple[int, str], int] = field(default_factory=dict)
    """(user, channel) → the newest sequence before they joined: their position starts at
    the join, above it (the check then learns where from boot)."""
    newest: int = 0
    sent: int = 0


@dataclass(frozen=True)
class Op:
    """What one user does, and how the model follows once it is done."""

    actor: int
    description: str
    act: Callable[[ParlourClient], Any]
    follow: Callable[[World, Any], None] = lambda world, answer: None


# --- operations -------------------------------------------------------------------------------


# Every op draws the same things, whatever the world holds, and picks among what the world
# holds with them (an index modulo the count): then a failing example replays with the same
# draws, although ids and sequences differ from one run to the next.
@dataclass(frozen=True)
class Choice:
    kind: str
    channel: int
    user: int
    mentions: list[int]
    message: int
    by_admin: bool
    position: str
    any: int


choices = st.builds(
    Choice,
    kind=st.sampled_from(["send", "send", "send", "edit", "delete", "read", "read", "join"]),
    channel=st.integers(0, 1),
    user=st.integers(0, USERS - 1),
    mentions=st.lists(st.integers(0, USERS - 1), max_size=4),
    message=st.integers(0, 10**6),
    by_admin=st.booleans(),
    position=st.sampled_from(["a message", "the newest", "zero", "any"]),
    any=st.integers(0, 10**6),
)


def pick(items: list[Any], index: int) -> Any:
    return items[index % len(items)]


def draw_op(data: st.DataObject, site: Site, world: World, busy: set[str]) -> Op | None:
    """One thing a user may do now, drawn from what the world holds (None: nothing fits).
    `busy` holds the messages and channels an op of this batch already works on, so that
    the ops of a batch never depend on each other's order."""
    choice = data.draw(choices)
    kind = choice.kind
    channel = pick(list(world.seen_by), choice.channel)
    user = pick(sorted(world.seen_by[channel]), choice.user)
    mentions = [site.ids[pick(sorted(world.seen_by[channel]), u)] for u in choice.mentions]
    if kind == "send":
        world.sent += 1
        body = f"message {world.sent}"

        def follow_send(w: World, message: Any) -> None:
            w.messages[message["id"]] = Sent(channel, user, message["seq"])

        return Op(
            user,
            f"user {user} sends {body!r} to {channel} mentioning {mentions}",
            lambda c: c.say(channel, body, mentions=mentions),
            follow_send,
        )
    if kind in ("edit", "delete"):
        candidates = sorted(
            (m for m in world.messages if m not in busy), key=lambda m: world.messages[m].seq
        )
        if not candidates:
            return None
        message_id = pick(candidates, choice.message)
        sent = world.messages[message_id]
        busy.add(message_id)
        if kind == "edit":
            mentions = [
                site.ids[pick(sorted(world.seen_by[sent.channel]), u)] for u in choice.mentions
            ]
            return Op(
                sent.sender,
                f"user {sent.sender} edits {message_id} to mention {mentions}",
                lambda c: c.edit(message_id, "edited", mentions),
            )
        deleter = sent.sender
        if ADMIN in world.seen_by[sent.channel] and choice.by_admin:
            deleter = ADMIN

        def follow_delete(w: World, _: Any) -> None:
            del w.messages[message_id]

        return Op(
            deleter,
            f"user {deleter} deletes {message_id} (sent by user {sent.sender})",
            lambda c: c.delete_message(message_id),
            follow_delete,
        )
    if kind == "read":
        seq = {
            "a message": pick([0, *sorted(m.seq for m in world.messages.values())], choice.any),
            "the newest": world.newest,
            "zero": 0,
            "any": choice.any % (world.newest + 1),
        }[choice.position]

        def follow_read(w: World, _: Any) -> None:
            w.positions[(user, channel)] = max(w.positions[(user, channel)], seq)

        return Op(
            user,
            f"user {user} reads {channel} up to {seq}",
            lambda c: c.mark_read(channel, seq),
            follow_read,
        )
    # join: the one user not yet in the example's private channel, added by a member
    private = [c for c, seen in world.seen_by.items() if len(seen) < USERS]
    if not private or private[0] in busy:
        return None
    joined = private[0]
    newcomer = next(u for u in range(USERS) if u not in world.seen_by[joined])
    adder = min(world.seen_by[joined])
    busy.add(joined)
    before = world.newest

    def follow_join(w: World, _: Any) -> None:
        w.seen_by[joined].add(newcomer)
        w.joining[(newcomer, joined)] = before

    return Op(
        adder,
        f"user {adder} adds user {newcomer} to {joined}",
        lambda c: c.add_member(joined, site.ids[newcomer]),
        follow_join,
    )


# --- the check --------------------------------------------------------------------------------


def check(site: Site, world: World) -> None:
    """At a quiet point: every user's boot `reads` against the model and a recount."""
    retained = {c: site.users[min(seen)].retained_messages(c) for c, seen in world.seen_by.items()}
    for channel, messages in retained.items():
        held = {m_id for m_id, sent in world.messages.items() if sent.channel == channel}
        assert {m["id"] for m in messages} == held, f"the history of {channel}"
    for user, client in enumerate(site.users):
        boot = client.full_boot(0)
        world.newest = max(world.newest, boot["resume_point"])
        for channel, seen in world.seen_by.items():
            if user not in seen:
                assert channel not in boot["reads"], f"user {user} has reads of {channel}"
                continue
            read = boot["reads"][channel]
            key = (user, channel)
            if key in world.joining:
                # Just joined: the position starts where they could first see the channel,
                # so nothing sent before is unread.
                assert world.joining[key] < read["seq"] <= boot["resume_point"], (
                    f"user {user}'s position in {channel} just after joining"
                )
                world.positions[key] = read["seq"]
                del world.joining[key]
            assert read["seq"] == world.positions[key], f"user {user}'s position in {channel}"
            unread = [
                m
                for m in retained[channel]
                if m["sender"] != site.ids[user] and m["seq"] > read["seq"]
            ]
            mentioning = [m for m in unread if site.ids[user] in m["mentions"]]
            assert (read["unread"], read["mentions"]) == (len(unread), len(mentioning)), (
                f"user {user}'s counts in {channel} at position {read['seq']}"
            )


def run_batch(site: Site, ops: list[Op]) -> list[Any]:
    """Each op by its user on a session of its own, all released at the same moment."""
    if not ops:
        return []
    return at_once(len(ops), lambda i: ops[i].act(site.sessions[ops[i].actor][i]))


# --- the property -----------------------------------------------------------------------------


@pytest.mark.timeout(600)
@EXAMPLES
@given(data=st.data())
def test_boot_counts_equal_a_recount_from_history(site: Site, data: st.DataObject) -> None:
    owner = site.users[0]
    public = owner.create_channel(fresh_name("public"))["id"]
    public_made = owner.resume_point()
    private = site.users[1].private_channel(fresh_name("private"), [site.ids[0]])["id"]
    private_made = owner.resume_point()
    world = World({public: {0, 1, 2}, private: {0, 1}})
    # Everyone could first see the channels when they were made (all users are older).
    for user in range(USERS):
        world.positions[(user, public)] = public_made
    for user in (0, 1):
        world.positions[(user, private)] = private_made
    check(site, world)

    for batch_number in range(data.draw(st.integers(1, BATCHES), label="batches")):
        busy: set[str] = set()
        size = data.draw(st.integers(1, BATCH_SIZE), label=f"batch {batch_number} size")
        ops = [op for _ in range(size) if (op := draw_op(data, site, world, busy)) is not None]
        note(f"batch {batch_number}: {[op.description for op in ops]}")
        for op, answer in zip(ops, run_batch(site, ops), strict=True):
            op.follow(world, answer)
        check(site, world)
