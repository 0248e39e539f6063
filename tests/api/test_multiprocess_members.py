"""Members and administration across processes on one PostgreSQL database (issue 11;
docs/scaling.md): a deactivation through one process ends the user's streams and sessions
on every other at once; a reset link is single-use and a role race has one winner, whichever
processes the requests reach.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conftest import POSTGRES_ADMIN_URL, ServerProcess, fresh_postgres_database
from parlour_client import ParlourClient, assert_problem, at_once, invite_user, password_for
from sse_client import open_stream

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_ADMIN_URL, reason="no PostgreSQL test cluster"),
]

AT_ONCE_SECONDS = 5.0


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[list[ServerProcess]]:
    """Two processes on one fresh PostgreSQL database."""
    url = fresh_postgres_database()
    servers = [ServerProcess(tmp_path / f"unused-{i}.db", database_url=url) for i in range(2)]
    try:
        for s in servers:
            s.start()
        yield servers
    finally:
        for s in servers:
            s.close()


def on(server: ServerProcess, client: ParlourClient) -> ParlourClient:
    """The same session (cookie jar) as `client`, talking to `server`."""
    return server.client(cookies=httpx.Cookies(client.cookies))


def test_deactivation_through_one_process_ends_streams_and_sessions_on_the_other(
    pair: list[ServerProcess],
) -> None:
    a, b = pair
    owner = a.set_up()
    bob_on_a = invite_user(a, owner, "Bob")
    bob_id = bob_on_a.me()["id"]
    bob_on_b = on(b, bob_on_a)
    other_session_on_b = b.log_in("Bob", password_for("Bob"))
    carol_on_b = on(b, invite_user(a, owner, "Carol"))
    start = owner.resume_point()
    with (
        open_stream(bob_on_b, start) as first,
        open_stream(other_session_on_b, start) as second,
        open_stream(carol_on_b, start) as carols,
    ):
        owner.deactivate(bob_id)
        for stream in (first, second):
            stream.wait_ended(AT_ONCE_SECONDS)
        event = carols.next_event(AT_ONCE_SECONDS)
        assert (event.kind, event.data["id"], event.data["active"]) == (
            ("user", "updated"),
            bob_id,
            False,
        )
    for client in (bob_on_a, bob_on_b, other_session_on_b):
        assert_problem(client.get("/api/boot"), 401)
    for server in pair:
        r = server.client().post(
            "/api/auth/login", json={"name": "Bob", "password": password_for("Bob")}
        )
        assert_problem(r, 401)
    # Reactivated through the other process, Bob logs in again through either.
    on(b, owner).reactivate(bob_id)
    for server in pair:
        assert server.log_in("Bob", password_for("Bob")).me()["id"] == bob_id


def test_a_reset_link_made_on_one_process_is_used_once_across_both(
    pair: list[ServerProcess],
) -> None:
    a, b = pair
    owner = a.set_up()
    bob_id = invite_user(a, owner, "Bob").me()["id"]
    link = owner.make_reset_link(bob_id)
    assert b.client().look_at_reset_link(link["id"]) == link
    attempts = 8
    clients = [pair[i % 2].client() for i in range(attempts)]

    def use(i: int) -> int:
        body = {"password": f"new password {i}"}
        return clients[i].post(f"/api/reset/{link['id']}", json=body).status_code

    statuses = at_once(attempts, use)
    assert statuses.count(200) == 1, statuses
    assert set(statuses) == {200, 404}, statuses
    winner = statuses.index(200)
    for server in pair:
        assert server.log_in("Bob", f"new password {winner}").me()["id"] == bob_id


def test_two_admins_on_two_processes_demoting_each_other_leave_one_admin(
    pair: list[ServerProcess],
) -> None:
    a, b = pair
    owner = a.set_up()
    bob = invite_user(a, owner, "Bob")
    bob_id = bob.me()["id"]
    owner.change_user(bob_id, role="admin")
    admins = [owner, on(b, bob)]
    ids = [owner.me()["id"], bob_id]

    def demote_the_other(i: int) -> int:
        body = {"role": "member"}
        return admins[i].post(f"/api/users/{ids[1 - i]}", json=body).status_code

    statuses = at_once(2, demote_the_other)
    assert sorted(statuses) == [202, 403], statuses
    users = owner.boot()["users"]
    assert [u["id"] for u in users if u["role"] == "admin"] == [ids[statuses.index(202)]]
