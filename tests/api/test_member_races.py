"""Races of members and administration (issue 11): requests released at the same moment.

- Two admins demoting (or deactivating) each other, or themselves, at once: exactly one
  succeeds, and an active admin always remains.
- Concurrent uses of one reset link: exactly one 200, and only its password works.
- Deactivation while that user's streams and writes are in flight: nothing of theirs is
  acknowledged after the deactivation. Checked by sequence numbers: every write of theirs
  that got a 2xx committed before the deactivation's `user updated` event, no event of theirs
  follows it in the log, no request they sent after the deactivation's 202 arrived succeeded,
  and no stream of theirs delivers anything after it.
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from conftest import ServerProcess
from parlour_client import ParlourClient, at_once, invite_user, password_for
from sse_client import Event, open_stream

ROUNDS = 4


def posts_at_once(calls: list[tuple[ParlourClient, str, dict[str, Any]]]) -> list[int]:
    """Each (client, path, body) POSTed on a thread of its own, all released at the same
    moment; their statuses, in order."""
    return at_once(
        len(calls), lambda i: calls[i][0].post(calls[i][1], json=calls[i][2]).status_code
    )


def active_admins(client: ParlourClient) -> list[str]:
    return [u["name"] for u in client.boot()["users"] if u["role"] == "admin" and u["active"]]


def two_admins(server: ServerProcess, owner: ParlourClient, tag: str) -> list[ParlourClient]:
    """Alice (the owner) demotes everyone else, then makes a new admin: two admins."""
    other = invite_user(server, owner, f"Admin {tag}")
    owner.change_user(other.me()["id"], role="admin")
    return [owner, other]


def test_two_admins_demoting_each_other_at_once_leave_exactly_one_admin(
    server: ServerProcess, owner: ParlourClient
) -> None:
    for round_number in range(ROUNDS):
        admins = two_admins(server, owner, str(round_number))
        ids = [a.me()["id"] for a in admins]

        statuses = posts_at_once(
            [(admins[i], f"/api/users/{ids[1 - i]}", {"role": "member"}) for i in range(2)]
        )
        # The loser is no admin any more when its turn comes: 403.
        assert sorted(statuses) == [202, 403], statuses
        winner = admins[statuses.index(202)]
        assert active_admins(winner) == [winner.me()["name"]]
        # Back to Alice as the only admin for the next round.
        if winner is not owner:
            winner.change_user(ids[0], role="admin")
            owner.change_user(ids[1], role="member")
        assert active_admins(owner) == ["Alice"]


def test_two_admins_deactivating_each_other_at_once_leave_exactly_one(
    server: ServerProcess, owner: ParlourClient
) -> None:
    bob = invite_user(server, owner, "Bob")
    owner.change_user(bob.me()["id"], role="admin")
    admins = [owner, bob]
    ids = [a.me()["id"] for a in admins]

    statuses = posts_at_once(
        [(admins[i], f"/api/users/{ids[1 - i]}", {"active": False}) for i in range(2)]
    )
    # The loser's session ended with the winner's change: 401.
    assert sorted(statuses) == [202, 401], statuses
    winner = admins[statuses.index(202)]
    assert len(active_admins(winner)) == 1


def test_the_last_two_admins_stepping_down_at_once_leave_exactly_one(
    server: ServerProcess, owner: ParlourClient
) -> None:
    alice = owner
    for round_number, change in itertools.product(range(ROUNDS), ("role", "active")):
        admins = two_admins(server, alice, f"{round_number} {change}")
        ids = [a.me()["id"] for a in admins]
        body: dict[str, Any] = {"role": "member"} if change == "role" else {"active": False}

        statuses = posts_at_once([(admins[i], f"/api/users/{ids[i]}", body) for i in range(2)])
        assert sorted(statuses) == [202, 409], statuses
        stayed = admins[statuses.index(409)]
        assert len(active_admins(stayed)) == 1
        if stayed is not alice:  # Alice stepped down: the other puts her back and steps down
            stayed.change_user(ids[0], role="admin", active=True)
            if change == "active":
                alice = server.log_in()  # her sessions ended with her deactivation
            alice.change_user(ids[1], role="member")
        assert active_admins(alice) == ["Alice"]


def test_many_admins_demoting_everyone_at_once_leave_an_active_admin(
    server: ServerProcess, owner: ParlourClient
) -> None:
    admins = [owner] + [invite_user(server, owner, f"Admin {i}") for i in range(5)]
    ids = [a.me()["id"] for a in admins]
    for user_id in ids[1:]:
        owner.change_user(user_id, role="admin")
    # Each admin demotes every admin (itself last), all at once.
    targets = [[*ids[:i], *ids[i + 1 :], ids[i]] for i in range(len(ids))]

    def demote_all(i: int) -> list[int]:
        return [
            admins[i].post(f"/api/users/{t}", json={"role": "member"}).status_code
            for t in targets[i]
        ]

    statuses = [s for answers in at_once(len(admins), demote_all) for s in answers]
    assert set(statuses) <= {202, 403, 409}, statuses
    assert len(active_admins(owner)) == 1


# --- one reset link, used at once -----------------------------------------------------------


def test_of_concurrent_uses_of_one_reset_link_exactly_one_succeeds(
    server: ServerProcess, owner: ParlourClient
) -> None:
    bob_id = invite_user(server, owner, "Bob").me()["id"]
    attempts = 10
    for _ in range(2):
        link = owner.make_reset_link(bob_id)
        clients = [server.client() for _ in range(attempts)]

        statuses = posts_at_once(
            [
                (clients[i], f"/api/reset/{link['id']}", {"password": f"new password {i}"})
                for i in range(attempts)
            ]
        )
        assert statuses.count(200) == 1, statuses
        assert set(statuses) == {200, 404}, statuses
        winner = statuses.index(200)
        assert clients[winner].boot()["user"]["id"] == bob_id
        # The winner's password, and a few losers' (every loser's would be 18 wrong
        # passwords for one name: the login throttle would answer 429, rightly).
        losers = [i for i in range(attempts) if i != winner]
        for i in [winner, *losers[:3]]:
            body = {"name": "Bob", "password": f"new password {i}"}
            r = server.client().post("/api/auth/login", json=body)
            assert r.status_code == (200 if i == winner else 401), (i, winner, r.text)


# --- deactivation while that user's writes and streams are in flight ---------------------------


@dataclass
class Write:
    what: str
    thing: str  # the id (or the body, for an edit) that identifies its event
    status: int
    sent_at: float
    answered_at: float


@dataclass
class Writes:
    lock: threading.Lock = field(default_factory=threading.Lock)
    done: list[Write] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def note(self, write: Write) -> None:
        with self.lock:
            self.done.append(write)


def write_loop(url: str, cookies: httpx.Cookies, channel: str, kind: str, writes: Writes) -> None:
    """Bob's writes of one kind, as fast as they come back, until told to stop: messages,
    channels, or reactions (each a new emoji, on a message of his that holds fewer than 40)."""
    with ParlourClient(url, cookies=cookies, timeout=30) as bob:
        target = ""
        reactions = 0
        for n in itertools.count():
            if writes.stop.is_set():
                return
            sent_at = time.monotonic()
            what, thing = kind, ""
            if kind == "channel":
                r = bob.post("/api/channels", json={"name": f"bob's room {n}"})
            elif kind == "send" or not target or reactions >= 40:
                what = "send"
                r = bob.post(f"/api/channels/{channel}", json={"body": f"{kind} {n}"})
            else:
                thing = f"r{n}"
                r = bob.post(f"/api/messages/{target}/reactions", json={"emoji": thing})
                reactions += 1
            if r.status_code == 202 and what != "reaction":
                thing = r.json()["id"]
                if kind == "reaction":
                    target, reactions = thing, 0
            writes.note(Write(what, thing, r.status_code, sent_at, time.monotonic()))


def test_no_write_of_a_deactivated_user_is_acknowledged_after_the_deactivation(
    server: ServerProcess, owner: ParlourClient
) -> None:
    bob = invite_user(server, owner, "Bob")
    bob_id = bob.me()["id"]
    channel = owner.create_channel("general")["id"]
    start = owner.resume_point()
    cookies = httpx.Cookies(bob.cookies)
    writes = Writes()
    kinds = ["send", "send", "channel", "reaction"]
    threads = [
        threading.Thread(target=write_loop, args=(server.url, cookies, channel, kind, writes))
        for kind in kinds
    ]
    with (
        open_stream(bob, start) as bobs_first,
        open_stream(server.log_in("Bob", password_for("Bob")), start) as bobs_second,
    ):
        for t in threads:
            t.start()
        # Let the writes get going, then deactivate Bob in the middle of them.
        deadline = time.monotonic() + 30
        while len([w for w in writes.done if w.status == 202]) < 30:
            assert time.monotonic() < deadline, "Bob's writes did not get going"
            time.sleep(0.01)
        deactivation_sent = time.monotonic()
        r = owner.post(f"/api/users/{bob_id}", json={"active": False})
        deactivation_answered = time.monotonic()
        assert r.status_code == 202, r.text
        time.sleep(0.5)  # Bob keeps trying for a while after the 202
        writes.stop.set()
        for t in threads:
            t.join(30)
            assert not t.is_alive()
        streamed = [stream.wait_ended(5) for stream in (bobs_first, bobs_second)]

    # The log, in sequence order, from the deactivation's event.
    newest = owner.resume_point()
    with open_stream(owner, start) as replay:
        log = replay.events_through(newest, timeout=30)
    deactivated = [e for e in log if e.kind == ("user", "updated") and e.data["id"] == bob_id]
    assert len(deactivated) == 1
    cut = deactivated[0].id
    assert deactivated[0].data["active"] is False

    seq_of: dict[tuple[str, str], int] = {}
    for e in log:
        if e.kind == ("message", "sent"):
            seq_of["send", e.data["id"]] = e.id
        elif e.kind == ("channel", "created"):
            seq_of["channel", e.data["id"]] = e.id
        elif e.kind == ("reaction", "added"):
            seq_of["reaction", e.data["emoji"]] = e.id
    acknowledged = [w for w in writes.done if 200 <= w.status < 300]
    refused = [w for w in writes.done if w.status >= 300]
    assert acknowledged, "no write of Bob's was acknowledged"
    assert refused, "no write of Bob's was refused: the deactivation came too late"
    assert {w.status for w in refused} == {401}, {w.status for w in refused}
    for w in acknowledged:
        # Committed before the deactivation (a message deleted since would leave no event to
        # find: nobody deletes in this test).
        assert seq_of[w.what, w.thing] < cut, (w, cut)
        assert w.sent_at < deactivation_answered, w
    for w in writes.done:
        if w.sent_at > deactivation_answered:
            assert w.status == 401, w
    # Nothing of Bob's follows the deactivation in the log.
    after = [e for e in log if e.id > cut]
    assert not [e for e in after if e.data.get("sender") == bob_id], after
    assert not [e for e in after if e.data.get("user") == bob_id], after  # reactions
    assert not [e for e in after if e.kind == ("channel", "created")], after
    # Bob's streams ended, having delivered nothing after the deactivation.
    for items in streamed:
        ids = [item.id for item in items if isinstance(item, Event)]
        assert all(i <= cut for i in ids), (ids[-5:], cut)
    # And what boot shows agrees: every message of Bob's is older than the cut.
    messages = owner.all_messages(channel)
    assert all(m["seq"] < cut for m in messages if m["sender"] == bob_id)
    assert deactivation_sent < deactivation_answered
