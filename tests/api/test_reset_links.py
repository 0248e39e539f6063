"""Password-reset links: made by admins, looked at and used without a login, single use
(docs/api/members.md, "Password-reset links"; issue 11).

POST /api/users/{id}/reset (admins: 403 otherwise; 409 for a deactivated user; 404 for an
unknown one) → 200 reset link. GET /api/reset/{id} → 200 the link; 404 if unknown, used,
replaced, expired or its user deactivated. POST /api/reset/{id} {"password"} → 200 user:
sets the password, logs in, revokes every other session of that user, uses the link up; a
400 leaves it usable. Links expire after --invite-expiry; tokens are stored only as hashes.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import ServerProcess, Site
from parlour_client import (
    OWNER_NAME,
    OWNER_PASSWORD,
    RESET_ID,
    UNKNOWN_RESET,
    UNKNOWN_USER,
    ParlourClient,
    assert_problem,
    fresh_name,
    invite_user,
    parse_time,
    password_for,
)
from sse_client import open_stream

NEW_PASSWORD = "a brand new passphrase"


def member(site: Site) -> tuple[ParlourClient, str, str]:
    """A new member on the shared server: their client, id and name."""
    name = fresh_name()
    client = invite_user(site.server, site.owner, name)
    return client, client.me()["id"], name


def use(server: ServerProcess, link_id: str, password: str = NEW_PASSWORD) -> httpx.Response:
    return server.client().post(f"/api/reset/{link_id}", json={"password": password})


def log_in(server: ServerProcess, name: str, password: str) -> httpx.Response:
    return server.client().post("/api/auth/login", json={"name": name, "password": password})


# --- making a link -------------------------------------------------------------------------


def test_an_admin_makes_a_reset_link_for_a_member(shared_site: Site) -> None:
    owner = shared_site.owner
    _, bob_id, bob_name = member(shared_site)
    start = owner.resume_point()
    before = datetime.now(UTC)
    r = owner.post(f"/api/users/{bob_id}/reset")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    link = r.json()
    assert set(link) == {"id", "user", "issued_at", "expires_at"}
    assert RESET_ID.match(link["id"]), link["id"]
    assert len(link["id"]) >= 1 + 43  # a token as strong as a session's (256 bits)
    assert link["user"] == {"id": bob_id, "name": bob_name}
    issued_at = parse_time(link["issued_at"])
    assert before - timedelta(seconds=5) <= issued_at <= datetime.now(UTC) + timedelta(seconds=5)
    # Links expire as invites do: a day after issue unless --invite-expiry says otherwise.
    assert parse_time(link["expires_at"]) - issued_at == timedelta(days=1)
    assert owner.resume_point() == start  # no event: nobody else needs to hear of it


def test_a_reset_link_post_may_carry_an_empty_object(shared_site: Site) -> None:
    owner = shared_site.owner
    _, bob_id, _ = member(shared_site)
    r = owner.post(f"/api/users/{bob_id}/reset", json={"note": "ignored"})
    assert r.status_code == 200, r.text
    r = owner.post(f"/api/users/{bob_id}/reset", content=b"{}", headers={"content-type": "text"})
    assert_problem(r, 415)


def test_an_admin_may_make_one_for_themselves(shared_site: Site) -> None:
    owner = shared_site.owner
    me = owner.me()
    link = owner.make_reset_link(me["id"])
    assert link["user"] == {"id": me["id"], "name": me["name"]}


def test_only_admins_make_reset_links(shared_site: Site) -> None:
    owner = shared_site.owner
    bob, bob_id, _ = member(shared_site)
    _, carol_id, _ = member(shared_site)
    for user_id in (carol_id, bob_id, owner.me()["id"]):
        problem = assert_problem(bob.post(f"/api/users/{user_id}/reset"), 403)
        assert "admin" in problem["detail"]


def test_a_reset_link_for_a_deactivated_user_answers_409(
    server: ServerProcess, owner: ParlourClient
) -> None:
    bob = invite_user(server, owner, "Bob")
    bob_id = bob.me()["id"]
    owner.deactivate(bob_id)
    problem = assert_problem(owner.post(f"/api/users/{bob_id}/reset"), 409)
    assert "deactivated" in problem["detail"]
    owner.reactivate(bob_id)
    assert owner.make_reset_link(bob_id)["user"]["id"] == bob_id


@pytest.mark.parametrize(
    "user_id", [UNKNOWN_USER, "nobody", "U", "C" + "x" * 24], ids=["unknown", "name", "U", "C"]
)
def test_a_reset_link_for_an_unknown_user_answers_404(shared_site: Site, user_id: str) -> None:
    assert_problem(shared_site.owner.post(f"/api/users/{user_id}/reset"), 404)


def test_making_a_reset_link_without_a_session_answers_401(shared_site: Site) -> None:
    server, owner = shared_site.server, shared_site.owner
    assert_problem(server.client().post(f"/api/users/{owner.me()['id']}/reset"), 401)
    assert_problem(server.client().post(f"/api/users/{UNKNOWN_USER}/reset"), 401)


def test_404_comes_before_403_for_a_member(shared_site: Site) -> None:
    bob, _, _ = member(shared_site)
    assert_problem(bob.post(f"/api/users/{UNKNOWN_USER}/reset"), 404)


# --- looking at a link ------------------------------------------------------------------------


def test_anyone_may_look_at_a_reset_link_without_logging_in(shared_site: Site) -> None:
    server, owner = shared_site.server, shared_site.owner
    _, bob_id, _ = member(shared_site)
    link = owner.make_reset_link(bob_id)
    assert server.client().look_at_reset_link(link["id"]) == link
    head = server.client().head(f"/api/reset/{link['id']}")
    assert head.status_code == 200
    assert head.content == b""


@pytest.mark.parametrize(
    "reset_id",
    [UNKNOWN_RESET, "nonsense", "R", "Rshort", "I" + "x" * 43, "R" + "!" * 43],
    ids=["unknown", "no-prefix", "prefix-only", "too-short", "invite-prefix", "bad-alphabet"],
)
def test_an_unknown_or_malformed_reset_link_answers_404(shared_site: Site, reset_id: str) -> None:
    server = shared_site.server
    problem = assert_problem(server.client().get(f"/api/reset/{reset_id}"), 404)
    assert "reset link" in problem["detail"]
    assert_problem(use(server, reset_id), 404)


# --- using a link -------------------------------------------------------------------------------


def test_using_a_link_sets_the_password_logs_in_and_ends_every_other_session(
    server: ServerProcess, owner: ParlourClient
) -> None:
    bob = invite_user(server, owner, "Bob")
    bob_user = bob.me()
    other = server.log_in("Bob", password_for("Bob"))
    link = owner.make_reset_link(bob_user["id"])
    start = owner.resume_point()
    with open_stream(bob, start) as first, open_stream(other, start) as second:
        user_at_the_link = server.client()
        r = user_at_the_link.post(f"/api/reset/{link['id']}", json={"password": NEW_PASSWORD})
        assert r.status_code == 200, r.text
        for stream in (first, second):
            stream.wait_ended(5)
    assert r.json() == bob_user
    assert "identity=" in r.headers["set-cookie"]
    assert user_at_the_link.boot()["user"] == bob_user  # logged in by the answer's cookie
    for old in (bob, other):
        assert_problem(old.get("/api/boot"), 401)
    assert log_in(server, "Bob", NEW_PASSWORD).status_code == 200
    assert_problem(log_in(server, "Bob", password_for("Bob")), 401)
    # The admin's session is another user's: untouched. Using a link makes no event.
    assert owner.resume_point() == start


def test_a_link_is_used_up_by_its_use(server: ServerProcess, owner: ParlourClient) -> None:
    bob_id = invite_user(server, owner, "Bob").me()["id"]
    link = owner.make_reset_link(bob_id)
    assert use(server, link["id"]).status_code == 200
    assert_problem(server.client().get(f"/api/reset/{link['id']}"), 404)
    assert_problem(use(server, link["id"], "yet another password"), 404)
    assert log_in(server, "Bob", NEW_PASSWORD).status_code == 200


@pytest.mark.parametrize(
    "body",
    [{"password": "short"}, {"password": "p" * 1025}, {"password": 12345678}, {}, None],
    ids=["password-5", "password-1025", "password-number", "no-password", "no-body"],
)
def test_an_invalid_password_answers_400_and_leaves_the_link_usable(
    shared_site: Site, body: dict[str, Any] | None
) -> None:
    server, owner = shared_site.server, shared_site.owner
    _, bob_id, bob_name = member(shared_site)
    link = owner.make_reset_link(bob_id)
    assert_problem(server.client().post(f"/api/reset/{link['id']}", json=body), 400)
    assert server.client().look_at_reset_link(link["id"]) == link
    assert log_in(server, bob_name, password_for(bob_name)).status_code == 200
    assert use(server, link["id"]).status_code == 200


def test_passwords_at_their_limits_are_accepted(shared_site: Site) -> None:
    server, owner = shared_site.server, shared_site.owner
    for password in ("12345678", "p" * 1024):
        _, bob_id, bob_name = member(shared_site)
        assert use(server, owner.make_reset_link(bob_id)["id"], password).status_code == 200
        assert log_in(server, bob_name, password).status_code == 200


def test_400_comes_before_404(shared_site: Site) -> None:
    assert_problem(use(shared_site.server, UNKNOWN_RESET, "short"), 400)


def test_a_newer_link_for_the_same_user_revokes_older_ones(
    server: ServerProcess, owner: ParlourClient
) -> None:
    bob_id = invite_user(server, owner, "Bob").me()["id"]
    carol_id = invite_user(server, owner, "Carol").me()["id"]
    older = [owner.make_reset_link(bob_id)["id"] for _ in range(2)]
    carols = owner.make_reset_link(carol_id)["id"]
    newest = owner.make_reset_link(bob_id)["id"]
    for link_id in older:
        assert_problem(server.client().get(f"/api/reset/{link_id}"), 404)
        assert_problem(use(server, link_id), 404)
    assert server.client().look_at_reset_link(carols)["user"]["id"] == carol_id  # not Bob's
    assert use(server, newest).status_code == 200


def test_an_admin_resets_their_own_password_and_keeps_no_other_session(
    server: ServerProcess, owner: ParlourClient
) -> None:
    link = owner.make_reset_link(owner.me()["id"])
    fresh = server.client()
    assert fresh.use_reset_link(link["id"], NEW_PASSWORD)["name"] == OWNER_NAME
    assert_problem(owner.get("/api/boot"), 401)
    assert fresh.boot()["user"]["role"] == "admin"
    assert_problem(log_in(server, OWNER_NAME, OWNER_PASSWORD), 401)


def test_a_reset_link_expires_after_the_invite_expiry(start_server: Any) -> None:
    server: ServerProcess = start_server("--invite-expiry", "2s")
    owner = server.set_up()
    bob_id = invite_user(server, owner, "Bob").me()["id"]
    link = owner.make_reset_link(bob_id)
    assert parse_time(link["expires_at"]) - parse_time(link["issued_at"]) == timedelta(seconds=2)
    assert server.client().look_at_reset_link(link["id"]) == link
    time.sleep(2.6)
    assert_problem(server.client().get(f"/api/reset/{link['id']}"), 404)
    assert_problem(use(server, link["id"]), 404)
    assert log_in(server, "Bob", password_for("Bob")).status_code == 200


def test_a_link_dies_when_its_user_is_deactivated_while_it_is_open(
    server: ServerProcess, owner: ParlourClient
) -> None:
    bob_id = invite_user(server, owner, "Bob").me()["id"]
    link = owner.make_reset_link(bob_id)
    owner.deactivate(bob_id)
    assert_problem(server.client().get(f"/api/reset/{link['id']}"), 404)
    assert_problem(use(server, link["id"]), 404)
    owner.reactivate(bob_id)
    assert_problem(use(server, link["id"]), 404)  # for good
    assert log_in(server, "Bob", password_for("Bob")).status_code == 200


# --- tokens are stored only as hashes -----------------------------------------------------------


def stored_bytes(database: Path) -> bytes:
    """Every byte of the database: the file, and its WAL and shared-memory files if any."""
    files = sorted(database.parent.glob(database.name + "*"))
    assert files, f"no database at {database}"
    return b"".join(f.read_bytes() for f in files if f.is_file())


@pytest.mark.sqlite_only
def test_reset_tokens_are_stored_only_as_hashes(
    server: ServerProcess, owner: ParlourClient
) -> None:
    bob_id = invite_user(server, owner, "Bob").me()["id"]
    replaced = owner.make_reset_link(bob_id)["id"]
    used = owner.make_reset_link(bob_id)["id"]
    bob_again = server.client()
    bob_again.use_reset_link(used, NEW_PASSWORD)
    carol_id = invite_user(server, owner, "Carol").me()["id"]
    waiting = owner.make_reset_link(carol_id)["id"]
    cookie = bob_again.token
    server.stop()  # (so that everything is in the files, and they are still)
    stored = stored_bytes(server.database)
    assert b"Carol" in stored, "the check would find nothing anywhere"
    for token in (replaced, used, waiting, cookie):
        for form in (token, token[1:]):  # with its prefix letter and without
            assert form.encode() not in stored, f"a token is stored as it is: {form[:8]}…"
