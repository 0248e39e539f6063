"""Invitations: issue, look up without login, accept once, expire."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from conftest import ServerProcess, Site
from parlour_client import (
    INVITE_ID,
    OWNER_NAME,
    UNKNOWN_INVITE,
    USER_ID,
    ParlourClient,
    assert_problem,
    at_once,
    fresh_name,
    invite_user,
    parse_time,
    password_for,
)


def accept(
    server: ServerProcess, invite_id: str, name: str, password: str | None = None
) -> httpx.Response:
    """A new client's attempt to accept the invitation (its answer, whatever it is)."""
    body = {"name": name, "password": password_for(name) if password is None else password}
    return server.client().post(f"/api/invite/{invite_id}", json=body)


def test_issuing_an_invite_answers_200_with_the_invite(shared_site: Site) -> None:
    owner = shared_site.owner
    me = owner.me()
    before = datetime.now(UTC)
    r = owner.post("/api/invite", json={})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    invite = r.json()
    assert set(invite) == {"id", "issuer", "issued_at", "expires_at"}
    assert INVITE_ID.match(invite["id"]), invite["id"]
    assert invite["issuer"] == {"id": me["id"], "name": me["name"]}
    issued_at = parse_time(invite["issued_at"])
    assert before - timedelta(seconds=5) <= issued_at <= datetime.now(UTC) + timedelta(seconds=5)
    # Invites expire a day after issue unless --invite-expiry says otherwise.
    assert parse_time(invite["expires_at"]) - issued_at == timedelta(days=1)


def test_issuing_an_invite_needs_no_body(shared_site: Site) -> None:
    owner = shared_site.owner
    r = owner.post("/api/invite")
    assert r.status_code == 200, r.text
    assert INVITE_ID.match(r.json()["id"])


def test_each_invite_gets_a_new_id(shared_site: Site) -> None:
    owner = shared_site.owner
    ids = {owner.invite()["id"] for _ in range(5)}
    assert len(ids) == 5


def test_issuing_an_invite_without_a_session_answers_401(shared_site: Site) -> None:
    server = shared_site.server
    assert_problem(server.client().post("/api/invite", json={}), 401)


def test_anyone_can_look_up_an_invite_without_logging_in(shared_site: Site) -> None:
    server, owner = shared_site.server, shared_site.owner
    invite = owner.invite()
    r = server.client().get(f"/api/invite/{invite['id']}")
    assert r.status_code == 200, r.text
    assert r.json() == invite


@pytest.mark.parametrize(
    "invite_id",
    [UNKNOWN_INVITE, "nonsense", "I", "Ishort", "C" + "x" * 24, "I" + "!" * 24],
    ids=["unknown", "no-prefix", "prefix-only", "too-short", "channel-prefix", "bad-alphabet"],
)
def test_looking_up_an_unknown_or_malformed_invite_answers_404(
    shared_site: Site, invite_id: str
) -> None:
    server = shared_site.server
    assert_problem(server.client().get(f"/api/invite/{invite_id}"), 404)
    assert_problem(accept(server, invite_id, "Bob"), 404)


def test_accepting_an_invite_creates_the_user_and_logs_them_in(
    server: ServerProcess, owner: ParlourClient
) -> None:
    invite = owner.invite()
    bob = server.client()
    r = bob.post(f"/api/invite/{invite['id']}", json={"name": "Bob", "password": "password Bob"})
    assert r.status_code == 200, r.text
    user = r.json()
    assert set(user) == {"id", "name", "role", "active"}
    assert USER_ID.match(user["id"])
    assert user["name"] == "Bob"
    assert (user["role"], user["active"]) == ("member", True)  # everyone after setup's user
    assert bob.token
    boot = bob.boot()
    assert boot["user"] == user
    assert [u["name"] for u in boot["users"]] == [OWNER_NAME, "Bob"]
    assert user in owner.boot()["users"]


def test_invited_user_can_log_in_with_their_password(
    server: ServerProcess, owner: ParlourClient
) -> None:
    invite_user(server, owner, "Bob")
    assert server.client().log_in("bob", password_for("Bob"))["name"] == "Bob"


def test_invited_users_can_invite_others(server: ServerProcess, owner: ParlourClient) -> None:
    bob = invite_user(server, owner, "Bob")
    invite = bob.invite()
    me = bob.me()
    assert invite["issuer"] == {"id": me["id"], "name": "Bob"}
    assert accept(server, invite["id"], "Carol").status_code == 200


def test_accepted_name_is_nfc_normalised_and_kept_as_typed(shared_site: Site) -> None:
    server, owner = shared_site.server, shared_site.owner
    r = accept(server, owner.invite()["id"], "Zo\u00eb de la Cruz")
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "Zo\u00eb de la Cruz"
    r = accept(server, owner.invite()["id"], "Rene\u0301e")
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "Ren\u00e9e"


def test_used_invite_answers_404_to_lookup_and_accept(
    server: ServerProcess, owner: ParlourClient
) -> None:
    invite = owner.invite()
    assert accept(server, invite["id"], "Bob").status_code == 200
    assert_problem(server.client().get(f"/api/invite/{invite['id']}"), 404)
    assert_problem(accept(server, invite["id"], "Carol"), 404)
    assert [u["name"] for u in owner.boot()["users"]] == [OWNER_NAME, "Bob"]


@pytest.mark.parametrize(
    "taken",
    [OWNER_NAME, "alice", "ALICE", "\uff21lice"],
    ids=["same", "lower", "upper", "fullwidth"],
)
def test_accepting_with_a_taken_name_answers_409_and_leaves_the_invite_usable(
    shared_site: Site, taken: str
) -> None:
    server, owner = shared_site.server, shared_site.owner
    invite = owner.invite()
    assert_problem(accept(server, invite["id"], taken), 409)
    assert server.client().get(f"/api/invite/{invite['id']}").status_code == 200
    assert accept(server, invite["id"], fresh_name()).status_code == 200


def test_accepting_with_a_name_taken_up_to_accents_form_answers_409(
    server: ServerProcess, owner: ParlourClient
) -> None:
    assert accept(server, owner.invite()["id"], "Caf\u00e9").status_code == 200
    for taken in ("CAF\u00c9", "cafe\u0301"):
        assert_problem(accept(server, owner.invite()["id"], taken), 409)
    assert accept(server, owner.invite()["id"], "Cafe").status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"name": "", "password": "password Bob"},
        {"name": " Bob", "password": "password Bob"},
        {"name": "Bob ", "password": "password Bob"},
        {"name": "b" * 65, "password": "password Bob"},
        {"name": "Bo\u0007b", "password": "password Bob"},
        {"name": "Bo\u200eb", "password": "password Bob"},
        {"name": "Bo\nb", "password": "password Bob"},
        {"name": "Bob", "password": "1234567"},
        {"name": "Bob", "password": "p" * 1025},
        {"name": "Bob"},
        {"password": "password Bob"},
        {"name": ["Bob"], "password": "password Bob"},
        {"name": "Bob", "password": 12345678},
    ],
    ids=[
        "empty-name",
        "leading-space",
        "trailing-space",
        "name-65",
        "name-bell",
        "name-lrm",
        "name-newline",
        "password-7",
        "password-1025",
        "no-password",
        "no-name",
        "name-list",
        "password-number",
    ],
)
def test_accepting_with_an_invalid_body_answers_400_and_leaves_the_invite_usable(
    shared_site: Site, body: dict[str, Any]
) -> None:
    server, owner = shared_site.server, shared_site.owner
    invite = owner.invite()
    assert_problem(server.client().post(f"/api/invite/{invite['id']}", json=body), 400)
    assert server.client().get(f"/api/invite/{invite['id']}").status_code == 200
    assert accept(server, invite["id"], fresh_name()).status_code == 200


def test_accepting_with_names_and_passwords_at_their_limits_succeeds(shared_site: Site) -> None:
    server, owner = shared_site.server, shared_site.owner
    r = accept(server, owner.invite()["id"], "b" * 64, "p" * 1024)
    assert r.status_code == 200, r.text
    r = accept(server, owner.invite()["id"], "B", "12345678")
    assert r.status_code == 200, r.text


def test_invite_expires_after_the_configured_period(start_server: Any) -> None:
    server: ServerProcess = start_server("--invite-expiry", "1s")
    owner = server.set_up()
    invite = owner.invite()
    assert server.client().get(f"/api/invite/{invite['id']}").status_code == 200
    time.sleep(1.6)
    assert_problem(server.client().get(f"/api/invite/{invite['id']}"), 404)
    assert_problem(accept(server, invite["id"], "Bob"), 404)
    assert [u["name"] for u in owner.boot()["users"]] == [OWNER_NAME]


def test_invite_is_usable_within_its_expiry_period(start_server: Any) -> None:
    server: ServerProcess = start_server("--invite-expiry", "1m")
    owner = server.set_up()
    invite = owner.invite()
    time.sleep(1.5)
    assert accept(server, invite["id"], "Bob").status_code == 200


def test_of_many_concurrent_accepts_of_one_invite_exactly_one_succeeds(
    server: ServerProcess, owner: ParlourClient
) -> None:
    invite = owner.invite()
    attempts = 12
    clients = [server.client() for _ in range(attempts)]

    def attempt(i: int) -> int:
        body = {"name": f"User {i}", "password": "password 1234"}
        return clients[i].post(f"/api/invite/{invite['id']}", json=body).status_code

    statuses = at_once(attempts, attempt)

    assert statuses.count(200) == 1, statuses
    assert statuses.count(404) == attempts - 1, statuses
    assert len(owner.boot()["users"]) == 2


def test_of_concurrent_accepts_of_one_name_on_different_invites_exactly_one_succeeds(
    server: ServerProcess, owner: ParlourClient
) -> None:
    attempts = 12
    invites = [owner.invite()["id"] for _ in range(attempts)]
    clients = [server.client() for _ in range(attempts)]
    spellings = ["Bob", "BOB", "bob"]

    def attempt(i: int) -> int:
        body = {"name": spellings[i % len(spellings)], "password": "password 1234"}
        return clients[i].post(f"/api/invite/{invites[i]}", json=body).status_code

    statuses = at_once(attempts, attempt)

    assert statuses.count(200) == 1, statuses
    assert statuses.count(409) == attempts - 1, statuses
    assert len(owner.boot()["users"]) == 2
    # The losers' invites were not used up.
    loser = statuses.index(409)
    assert accept(server, invites[loser], "Carol").status_code == 200
