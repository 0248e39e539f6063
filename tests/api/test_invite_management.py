"""Invitations to manage: list, revoke, and who may invite (docs/api/invitations.md; issue 11).

GET /api/invites → the usable invites (unused, unexpired), oldest first: all of them for an
admin, one's own for a member. DELETE /api/invite/{id} → 204, for its issuer or an admin
(403 otherwise), 404 if unknown, used or expired. `--who-can-invite admins`: a member who
asks for an invite gets 403.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from conftest import ServerProcess
from parlour_client import (
    UNKNOWN_INVITE,
    ParlourClient,
    assert_problem,
    fresh_name,
    invite_user,
)


def accept(server: ServerProcess, invite_id: str) -> int:
    body = {"name": fresh_name(), "password": "password 1234"}
    return server.client().post(f"/api/invite/{invite_id}", json=body).status_code


# --- listing -----------------------------------------------------------------------------------


def test_an_admin_sees_every_usable_invite_oldest_first_and_a_member_their_own(
    server: ServerProcess, owner: ParlourClient
) -> None:
    bob = invite_user(server, owner, "Bob")
    carol = invite_user(server, owner, "Carol")
    issued = [owner.invite(), bob.invite(), carol.invite(), bob.invite(), owner.invite()]
    r = owner.get("/api/invites")
    assert r.status_code == 200, r.text
    assert r.json() == {"invites": issued}
    assert bob.invites() == [issued[1], issued[3]]
    assert carol.invites() == [issued[2]]


def test_used_revoked_and_expired_invites_are_not_listed(start_server: Any) -> None:
    server: ServerProcess = start_server("--invite-expiry", "3s")
    owner = server.set_up()
    used, revoked, expiring = owner.invite(), owner.invite(), owner.invite()
    assert accept(server, used["id"]) == 200
    owner.revoke_invite(revoked["id"])
    assert owner.invites() == [expiring]
    time.sleep(3.5)
    fresh = owner.invite()
    assert owner.invites() == [fresh]


def test_a_new_member_has_no_invites_and_listing_needs_a_session(
    server: ServerProcess, owner: ParlourClient
) -> None:
    owner.invite()
    bob = invite_user(server, owner, "Bob")
    assert bob.invites() == []
    assert_problem(server.client().get("/api/invites"), 401)


# --- revoking ----------------------------------------------------------------------------------


def test_the_issuer_revokes_their_invite(server: ServerProcess, owner: ParlourClient) -> None:
    bob = invite_user(server, owner, "Bob")
    invite = bob.invite()
    start = owner.resume_point()
    r = bob.delete(f"/api/invite/{invite['id']}")
    assert r.status_code == 204, r.text
    assert r.content == b""
    assert owner.resume_point() == start  # no event
    assert_problem(server.client().get(f"/api/invite/{invite['id']}"), 404)
    assert accept(server, invite["id"]) == 404
    assert bob.invites() == []


def test_an_admin_revokes_anyones_invite(server: ServerProcess, owner: ParlourClient) -> None:
    bob = invite_user(server, owner, "Bob")
    invite = bob.invite()
    owner.revoke_invite(invite["id"])
    assert accept(server, invite["id"]) == 404


def test_a_member_may_not_revoke_someone_elses_invite(
    server: ServerProcess, owner: ParlourClient
) -> None:
    bob = invite_user(server, owner, "Bob")
    carol = invite_user(server, owner, "Carol")
    for invite in (owner.invite(), carol.invite()):
        problem = assert_problem(bob.delete(f"/api/invite/{invite['id']}"), 403)
        assert "issued" in problem["detail"]
        assert server.client().look_at_invite(invite["id"]) == invite


@pytest.mark.parametrize(
    "invite_id",
    [UNKNOWN_INVITE, "nonsense", "I", "C" + "x" * 24],
    ids=["unknown", "no-prefix", "prefix-only", "channel-prefix"],
)
def test_revoking_an_unknown_invite_answers_404(
    server: ServerProcess, owner: ParlourClient, invite_id: str
) -> None:
    bob = invite_user(server, owner, "Bob")
    assert_problem(owner.delete(f"/api/invite/{invite_id}"), 404)
    assert_problem(bob.delete(f"/api/invite/{invite_id}"), 404)  # 404 before 403


def test_revoking_a_used_or_revoked_invite_answers_404(
    server: ServerProcess, owner: ParlourClient
) -> None:
    used, revoked = owner.invite(), owner.invite()
    assert accept(server, used["id"]) == 200
    owner.revoke_invite(revoked["id"])
    assert_problem(owner.delete(f"/api/invite/{used['id']}"), 404)
    assert_problem(owner.delete(f"/api/invite/{revoked['id']}"), 404)


def test_revoking_an_expired_invite_answers_404(start_server: Any) -> None:
    server: ServerProcess = start_server("--invite-expiry", "1s")
    owner = server.set_up()
    invite = owner.invite()
    time.sleep(1.6)
    assert_problem(owner.delete(f"/api/invite/{invite['id']}"), 404)


def test_revoking_without_a_session_answers_401(
    server: ServerProcess, owner: ParlourClient
) -> None:
    invite = owner.invite()
    assert_problem(server.client().delete(f"/api/invite/{invite['id']}"), 401)
    assert server.client().look_at_invite(invite["id"]) == invite


# --- who may invite ----------------------------------------------------------------------------


def test_by_default_any_member_may_invite(server: ServerProcess, owner: ParlourClient) -> None:
    bob = invite_user(server, owner, "Bob")
    assert accept(server, bob.invite()["id"]) == 200


def test_with_who_can_invite_admins_a_member_gets_403(start_server: Any) -> None:
    server: ServerProcess = start_server("--who-can-invite", "admins")
    owner = server.set_up()
    bob = invite_user(server, owner, "Bob")
    problem = assert_problem(bob.post("/api/invite", json={}), 403)
    assert "admin" in problem["detail"]
    assert_problem(bob.post("/api/invite"), 403)
    assert_problem(server.client().post("/api/invite", json={}), 401)
    assert bob.invites() == []
    # An admin still may; so may Bob once he is one.
    assert accept(server, owner.invite()["id"]) == 200
    owner.change_user(bob.me()["id"], role="admin")
    assert accept(server, bob.invite()["id"]) == 200


def test_who_can_invite_members_is_the_default_spelled_out(start_server: Any) -> None:
    server: ServerProcess = start_server("--who-can-invite", "members")
    owner = server.set_up()
    bob = invite_user(server, owner, "Bob")
    assert accept(server, bob.invite()["id"]) == 200


def test_who_can_invite_comes_from_the_environment_too(start_server: Any) -> None:
    server: ServerProcess = start_server(env={"PARLOUR_WHO_CAN_INVITE": "admins"})
    owner = server.set_up()
    bob = invite_user(server, owner, "Bob")
    assert_problem(bob.post("/api/invite", json={}), 403)


def test_a_demoted_admins_invites_stay_usable(server: ServerProcess, owner: ParlourClient) -> None:
    # Only deactivation revokes invites; a change of role does not.
    bob = invite_user(server, owner, "Bob")
    owner.change_user(bob.me()["id"], role="admin")
    invite = bob.invite()
    owner.change_user(bob.me()["id"], role="member")
    assert server.client().look_at_invite(invite["id"]) == invite
