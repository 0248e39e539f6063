"""Members and administration: roles, renaming, deactivation, reactivation (issue 11).

POST /api/users/{id} with any of {"name", "role", "active"} answers 202 with the user as they
now are, and writes a `user updated` event, even when nothing changes. Anyone renames
themselves; only admins change a role, the active flag or someone else's name (403); a name
taken by another user, or a change that would leave no active admin, is a 409; an unknown
user is a 404; the order of checks is 400 → 404 → 403 → 409 (docs/api/errors.md).

Deactivation takes effect at once: sessions revoked and streams ended, login refused with the
401 of a wrong password, invites and reset links dead for good, messages and name kept.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from conftest import ServerProcess, Site
from parlour_client import (
    OWNER_NAME,
    OWNER_PASSWORD,
    UNKNOWN_USER,
    ParlourClient,
    User,
    assert_problem,
    fresh_name,
    invite_user,
    password_for,
)
from sse_client import open_stream

# How long "at once" may take on a loaded test machine: a stream ends, an event arrives.
AT_ONCE_SECONDS = 5.0


def join(server: ServerProcess, inviter: ParlourClient, name: str | None = None) -> ParlourClient:
    """A new member, logged in (password `password_for(name)`)."""
    return invite_user(server, inviter, name or fresh_name())


def change(client: httpx.Client, user_id: str, **fields: Any) -> httpx.Response:
    return client.post(f"/api/users/{user_id}", json=fields)


def log_in(server: ServerProcess, name: str, password: str) -> httpx.Response:
    return server.client().post("/api/auth/login", json={"name": name, "password": password})


# --- the answer and the event ----------------------------------------------------------------


def test_renaming_oneself_answers_202_with_the_user_and_writes_user_updated(
    server: ServerProcess, owner: ParlourClient
) -> None:
    me = owner.me()
    start = owner.resume_point()
    with open_stream(owner, start) as stream:
        r = change(owner, me["id"], name="Alice Liddell")
        assert r.status_code == 202, r.text
        assert r.headers["content-type"].startswith("application/json")
        event = stream.next_event(AT_ONCE_SECONDS)
    user = r.json()
    assert user == {"id": me["id"], "name": "Alice Liddell", "role": "admin", "active": True}
    assert event.id > start
    assert {k: v for k, v in event.data.items() if k != "at"} == {
        "type": "user",
        "event": "updated",
        **user,
    }
    assert owner.boot()["user"] == user
    assert user in owner.boot()["users"]
    # The new name logs in; the old one no longer does.
    assert log_in(server, "alice liddell", OWNER_PASSWORD).status_code == 200
    assert_problem(log_in(server, OWNER_NAME, OWNER_PASSWORD), 401)


def test_a_member_renames_themselves(shared_site: Site) -> None:
    server, owner = shared_site.server, shared_site.owner
    bob = join(server, owner)
    me = bob.me()
    name = fresh_name()
    assert bob.change_user(me["id"], name=name) == {**me, "name": name}
    assert {**me, "name": name} in owner.boot()["users"]


def test_a_body_that_changes_nothing_is_still_202_and_still_an_event(owner: ParlourClient) -> None:
    me = owner.me()
    for body in ({}, {"name": OWNER_NAME, "role": "admin", "active": True}):
        start = owner.resume_point()
        with open_stream(owner, start) as stream:
            assert owner.change_user(me["id"], **body) == me
            event = stream.next_event(AT_ONCE_SECONDS)
        assert event.kind == ("user", "updated")
        assert event.data["id"] == me["id"]
        assert owner.resume_point() == event.id > start


def test_the_same_name_in_other_letters_is_ones_own_and_is_shown_as_typed(
    owner: ParlourClient,
) -> None:
    me = owner.me()
    assert owner.change_user(me["id"], name="ALICE")["name"] == "ALICE"
    assert owner.change_user(me["id"], name="Ali\u0301ce")["name"] == "Al\u00edce"  # NFC


def test_an_admin_renames_someone_else(shared_site: Site) -> None:
    server, owner = shared_site.server, shared_site.owner
    bob = join(server, owner)
    bob_user = bob.me()
    name = fresh_name()
    renamed = owner.change_user(bob_user["id"], name=name)
    assert renamed == {**bob_user, "name": name}
    assert bob.me() == renamed  # Bob's session goes on under his new name
    assert log_in(server, name, password_for(bob_user["name"])).status_code == 200


def test_an_admin_makes_a_member_an_admin_and_back(
    server: ServerProcess, owner: ParlourClient
) -> None:
    bob = join(server, owner, "Bob")
    bob_id = bob.me()["id"]
    assert owner.change_user(bob_id, role="admin")["role"] == "admin"
    # Now Bob may do what admins do: make Carol an admin, demote Alice.
    carol = join(server, owner, "Carol")
    carol_id = carol.me()["id"]
    assert bob.change_user(carol_id, role="admin")["role"] == "admin"
    assert bob.change_user(owner.me()["id"], role="member")["role"] == "member"
    assert_problem(change(owner, carol_id, role="member"), 403)  # Alice is a member now
    roles = {u["name"]: u["role"] for u in owner.boot()["users"]}
    assert roles == {OWNER_NAME: "member", "Bob": "admin", "Carol": "admin"}


def test_an_admin_may_demote_themselves_while_another_admin_is_active(
    server: ServerProcess, owner: ParlourClient
) -> None:
    bob = join(server, owner, "Bob")
    owner.change_user(bob.me()["id"], role="admin")
    me = owner.me()
    assert owner.change_user(me["id"], role="member") == {**me, "role": "member"}
    assert_problem(change(owner, bob.me()["id"], role="member"), 403)


# --- who may change what: 403 -----------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [{"role": "admin"}, {"role": "member"}, {"active": False}, {"active": True}],
    ids=["make-self-admin", "role-unchanged", "deactivate-self", "active-unchanged"],
)
def test_a_member_may_not_change_their_own_role_or_active_flag(
    shared_site: Site, fields: dict[str, Any]
) -> None:
    server, owner = shared_site.server, shared_site.owner
    bob = join(server, owner)
    me = bob.me()
    start = owner.resume_point()
    problem = assert_problem(change(bob, me["id"], **fields), 403)
    assert "admin" in problem["detail"]
    assert bob.me() == me
    assert owner.resume_point() == start  # a refusal is no event


@pytest.mark.parametrize(
    "fields",
    [{"name": "renamed by a member"}, {"role": "member"}, {"active": False}, {}],
    ids=["rename", "demote", "deactivate", "nothing"],
)
def test_a_member_may_not_change_someone_else(shared_site: Site, fields: dict[str, Any]) -> None:
    server, owner = shared_site.server, shared_site.owner
    bob = join(server, owner)
    carol = join(server, owner)
    carol_user = carol.me()
    if fields:
        assert_problem(change(bob, carol_user["id"], **fields), 403)
        assert_problem(change(bob, owner.me()["id"], **fields), 403)
    else:
        # A body that changes nothing names nothing the member may not change.
        assert bob.change_user(carol_user["id"]) == carol_user
    assert carol.me() == carol_user


# --- names: 400 and 409 -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"name": ""},
        {"name": " padded"},
        {"name": "b" * 65},
        {"name": "line\nbreak"},
        {"name": "bidi\u202eoverride"},
        {"name": None},
        {"name": 42},
        {"role": "owner"},
        {"role": "Admin"},
        {"role": None},
        {"active": "false"},
        {"active": 0},
        {"active": None},
    ],
    ids=[
        "empty-name",
        "leading-space",
        "name-65",
        "name-newline",
        "name-bidi",
        "name-null",
        "name-number",
        "role-unknown",
        "role-capitalised",
        "role-null",
        "active-string",
        "active-number",
        "active-null",
    ],
)
def test_an_invalid_field_answers_400_and_changes_nothing(
    shared_site: Site, fields: dict[str, Any]
) -> None:
    owner = shared_site.owner
    me = owner.me()
    start = owner.resume_point()
    assert_problem(change(owner, me["id"], **fields), 400)
    assert owner.me() == me
    assert owner.resume_point() == start


def test_a_body_that_is_not_json_answers_415(shared_site: Site) -> None:
    owner = shared_site.owner
    r = owner.post(
        f"/api/users/{owner.me()['id']}",
        content=b'{"name": "x"}',
        headers={"content-type": "text/plain"},
    )
    assert_problem(r, 415)


def test_a_name_taken_by_another_user_answers_409_whatever_its_spelling(
    shared_site: Site,
) -> None:
    server, owner = shared_site.server, shared_site.owner
    bob = join(server, owner)
    me = bob.me()
    for taken in (OWNER_NAME, OWNER_NAME.upper(), "\uff21lice"):  # fullwidth A: NFKC folds it
        problem = assert_problem(change(bob, me["id"], name=taken), 409)
        assert "taken" in problem["detail"]
        assert_problem(change(owner, me["id"], name=taken), 409)  # an admin renaming Bob
    assert bob.me() == me


def test_a_deactivated_users_name_stays_taken(server: ServerProcess, owner: ParlourClient) -> None:
    bob = join(server, owner, "Bob")
    owner.deactivate(bob.me()["id"])
    carol = join(server, owner, "Carol")
    assert_problem(change(carol, carol.me()["id"], name="bob"), 409)
    invite = owner.invite()
    r = server.client().post(
        f"/api/invite/{invite['id']}", json={"name": "BOB", "password": "password 1234"}
    )
    assert_problem(r, 409)


def test_an_unknown_or_malformed_user_answers_404(shared_site: Site) -> None:
    owner = shared_site.owner
    for user_id in (UNKNOWN_USER, "nobody", "U", "C" + "x" * 24):
        assert_problem(change(owner, user_id, name=fresh_name()), 404)
        assert_problem(change(owner, user_id, active=False), 404)


def test_without_a_session_answers_401(shared_site: Site) -> None:
    server, owner = shared_site.server, shared_site.owner
    anonymous = server.client()
    assert_problem(change(anonymous, owner.me()["id"], name="hijacked"), 401)
    assert_problem(change(anonymous, UNKNOWN_USER, name=""), 401)


# --- the order of checks: 400 → 404 → 403 → 409 ---------------------------------------------


def test_400_comes_before_404_403_and_409(shared_site: Site) -> None:
    server, owner = shared_site.server, shared_site.owner
    bob = join(server, owner)
    assert_problem(change(bob, UNKNOWN_USER, name=""), 400)  # and unknown, and not Bob's
    assert_problem(change(bob, owner.me()["id"], role="owner"), 400)  # and not an admin
    assert_problem(change(owner, owner.me()["id"], name=" ", active=False), 400)  # last admin


def test_404_comes_before_403(shared_site: Site) -> None:
    server, owner = shared_site.server, shared_site.owner
    bob = join(server, owner)
    assert_problem(change(bob, UNKNOWN_USER, role="admin"), 404)
    assert_problem(change(bob, UNKNOWN_USER, name=fresh_name()), 404)


def test_403_comes_before_409(shared_site: Site) -> None:
    server, owner = shared_site.server, shared_site.owner
    bob = join(server, owner)
    carol = join(server, owner)
    # Taken, but not Bob's to rename; not Bob's to demote, and the last admin.
    assert_problem(change(bob, carol.me()["id"], name=OWNER_NAME), 403)
    assert_problem(change(bob, owner.me()["id"], role="member"), 403)


# --- never no active admin --------------------------------------------------------------------


def test_the_last_active_admin_may_not_demote_or_deactivate_themselves(
    owner: ParlourClient,
) -> None:
    me = owner.me()
    start = owner.resume_point()
    for fields in ({"role": "member"}, {"active": False}, {"role": "member", "active": False}):
        problem = assert_problem(change(owner, me["id"], **fields), 409)
        assert "admin" in problem["detail"]
    assert owner.me() == me
    assert owner.resume_point() == start


def test_a_deactivated_admin_does_not_count_as_the_active_admin(
    server: ServerProcess, owner: ParlourClient
) -> None:
    bob = join(server, owner, "Bob")
    bob_id = bob.me()["id"]
    owner.change_user(bob_id, role="admin")
    owner.deactivate(bob_id)  # an admin, but not an active one
    assert_problem(change(owner, owner.me()["id"], role="member"), 409)
    # Reactivated, Bob is an active admin again: now Alice may step down.
    owner.reactivate(bob_id)
    assert owner.change_user(owner.me()["id"], role="member")["role"] == "member"
    # And Bob, the last active admin, may not.
    bob = server.log_in("Bob", password_for("Bob"))
    assert_problem(change(bob, bob_id, active=False), 409)


def test_an_admin_may_deactivate_another_admin_while_one_stays(
    server: ServerProcess, owner: ParlourClient
) -> None:
    bob = join(server, owner, "Bob")
    bob_id = bob.me()["id"]
    owner.change_user(bob_id, role="admin")
    assert bob.deactivate(owner.me()["id"])["active"] is False
    assert bob.boot()["user"]["id"] == bob_id
    assert_problem(owner.get("/api/boot"), 401)


# --- deactivation ------------------------------------------------------------------------------


def test_deactivation_ends_every_session_and_stream_of_that_user_at_once(
    server: ServerProcess, owner: ParlourClient
) -> None:
    bob = join(server, owner, "Bob")
    bob_id = bob.me()["id"]
    other_session = server.log_in("Bob", password_for("Bob"))
    carol = join(server, owner, "Carol")
    start = owner.resume_point()
    with (
        open_stream(bob, start) as bobs,
        open_stream(other_session, start) as bobs_other,
        open_stream(carol, start) as carols,
    ):
        assert owner.deactivate(bob_id) == {
            "id": bob_id,
            "name": "Bob",
            "role": "member",
            "active": False,
        }
        for stream in (bobs, bobs_other):
            stream.wait_ended(AT_ONCE_SECONDS)
        event = carols.next_event(AT_ONCE_SECONDS)  # Carol's stream goes on, and hears it
        assert event.kind == ("user", "updated")
        assert (event.data["id"], event.data["active"]) == (bob_id, False)
    for client in (bob, other_session):
        assert_problem(client.get("/api/boot"), 401)
        assert_problem(client.post("/api/channels", json={"name": "after the end"}), 401)
        with open_stream(client, start) as stream:
            assert_problem(stream.response, 401)
    assert carol.boot()["user"]["name"] == "Carol"


def test_a_deactivated_user_gets_the_401_of_a_wrong_password(
    server: ServerProcess, owner: ParlourClient
) -> None:
    bob = join(server, owner, "Bob")
    owner.deactivate(bob.me()["id"])
    refused = log_in(server, "Bob", password_for("Bob"))
    wrong = log_in(server, "Bob", "not the password at all")
    unknown = log_in(server, "Nobody", password_for("Bob"))
    bodies = [assert_problem(r, 401) for r in (refused, wrong, unknown)]
    assert bodies[0] == bodies[1] == bodies[2]  # nothing tells a deactivated user apart
    assert "set-cookie" not in refused.headers


def test_a_deactivated_user_stays_with_their_name_and_messages(
    server: ServerProcess, owner: ParlourClient
) -> None:
    bob = join(server, owner, "Bob")
    bob_user = bob.me()
    channel = owner.create_channel("general")["id"]
    said = bob.send_message(channel, "I was here")
    owner.deactivate(bob_user["id"])
    snapshot = owner.boot()
    assert {**bob_user, "active": False} in snapshot["users"]
    assert said in snapshot["messages"]


def test_a_deactivated_users_invites_die_for_good(
    server: ServerProcess, owner: ParlourClient
) -> None:
    bob = join(server, owner, "Bob")
    bob_id = bob.me()["id"]
    invites = [bob.invite()["id"] for _ in range(2)]
    kept = owner.invite()["id"]
    owner.deactivate(bob_id)
    owner.reactivate(bob_id)  # reactivation revives none of them
    for invite_id in invites:
        assert_problem(server.client().get(f"/api/invite/{invite_id}"), 404)
        body = {"name": fresh_name(), "password": "password 1234"}
        assert_problem(server.client().post(f"/api/invite/{invite_id}", json=body), 404)
    assert [i["id"] for i in owner.invites()] == [kept]
    assert server.client().look_at_invite(kept)["id"] == kept


def test_a_deactivated_users_reset_link_dies_for_good(
    server: ServerProcess, owner: ParlourClient
) -> None:
    bob = join(server, owner, "Bob")
    bob_id = bob.me()["id"]
    link = owner.make_reset_link(bob_id)
    owner.deactivate(bob_id)
    assert_problem(server.client().get(f"/api/reset/{link['id']}"), 404)
    owner.reactivate(bob_id)
    assert_problem(server.client().get(f"/api/reset/{link['id']}"), 404)
    r = server.client().post(f"/api/reset/{link['id']}", json={"password": "a new password"})
    assert_problem(r, 404)
    assert log_in(server, "Bob", password_for("Bob")).status_code == 200


def test_deactivating_twice_is_202_and_an_event_each_time(
    server: ServerProcess, owner: ParlourClient
) -> None:
    bob_id = join(server, owner, "Bob").me()["id"]
    first = owner.deactivate(bob_id)
    start = owner.resume_point()
    assert owner.deactivate(bob_id) == first
    assert owner.resume_point() == start + 1


def test_an_admin_may_rename_a_deactivated_user(
    server: ServerProcess, owner: ParlourClient
) -> None:
    bob_id = join(server, owner, "Bob").me()["id"]
    owner.deactivate(bob_id)
    renamed = owner.change_user(bob_id, name="Robert")
    assert renamed == {"id": bob_id, "name": "Robert", "role": "member", "active": False}


# --- reactivation -------------------------------------------------------------------------------


def test_reactivation_lets_them_log_in_again_with_their_old_password(
    server: ServerProcess, owner: ParlourClient
) -> None:
    bob = join(server, owner, "Bob")
    bob_user: User = bob.me()
    owner.deactivate(bob_user["id"])
    start = owner.resume_point()
    with open_stream(owner, start) as stream:
        assert owner.reactivate(bob_user["id"]) == bob_user
        event = stream.next_event(AT_ONCE_SECONDS)
    assert event.kind == ("user", "updated")
    assert event.data["active"] is True
    # The old sessions stay dead: only a new login lets Bob in.
    assert_problem(bob.get("/api/boot"), 401)
    again = server.log_in("Bob", password_for("Bob"))
    assert again.boot()["user"] == bob_user
