"""`parlour reset-link NAME`: the operator's way back in (docs/operations.md; issue 11).

It takes the same --database (or PARLOUR_DATABASE) as `serve`, works whether or not the
server is running, on SQLite and PostgreSQL (this module runs in both passes: the server's
database is a file, or its own PostgreSQL database), prints the link's path (/reset/R…) and
its expiry, and writes no event. An unknown or deactivated name exits non-zero with a clear
message.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from conftest import ServerProcess
from parlour_client import (
    OWNER_NAME,
    OWNER_PASSWORD,
    ParlourClient,
    assert_problem,
    invite_user,
    parse_time,
    password_for,
)
from sse_client import open_stream

PATH = re.compile(r"^/reset/(R[A-Za-z0-9_-]{16,})$")
NEW_PASSWORD = "the operator's new passphrase"


def reset_link(
    server: ServerProcess, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `parlour reset-link ARGS` against the server's database (--database, unless the
    test names it through the environment)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PARLOUR_")}
    environment.update(env or {})
    database = [] if env and "PARLOUR_DATABASE" in env else ["--database", server.database_url]
    return subprocess.run(
        [sys.executable, "-m", "parlour", "reset-link", *database, *args],
        cwd=server.database.parent,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def printed_link(result: subprocess.CompletedProcess[str]) -> tuple[str, datetime]:
    """The link's id and expiry, from the command's standard output."""
    assert result.returncode == 0, result.stderr
    path, expires, *rest = result.stdout.splitlines()
    assert rest == [], result.stdout
    found = PATH.match(path)
    assert found, path
    assert expires.startswith("expires "), expires
    return found.group(1), parse_time(expires.removeprefix("expires "))


def test_it_prints_a_link_that_sets_a_new_password_beside_a_running_server(
    server: ServerProcess, owner: ParlourClient
) -> None:
    me = owner.me()
    before = owner.resume_point()
    with open_stream(owner, before) as stream:
        made_at = datetime.now(UTC)
        link_id, expires_at = printed_link(reset_link(server, "alice"))  # any capitalisation
        # No event: the sequence does not move, and no stream hears anything.
        assert stream.quiet_events(1.0) == []
    assert owner.resume_point() == before
    assert abs(expires_at - (made_at + timedelta(days=1))) < timedelta(minutes=1)
    anyone = server.client()
    link = anyone.look_at_reset_link(link_id)
    assert link["user"] == {"id": me["id"], "name": OWNER_NAME}
    assert parse_time(link["expires_at"]) == expires_at
    assert anyone.use_reset_link(link_id, NEW_PASSWORD) == me
    assert anyone.boot()["user"] == me
    assert_problem(owner.get("/api/boot"), 401)  # every other session of Alice ended


def test_the_operator_who_lost_the_only_admin_password_gets_back_in_with_the_server_stopped(
    server: ServerProcess, owner: ParlourClient
) -> None:
    bob = invite_user(server, owner, "Bob")
    channel = owner.create_channel("general")["id"]
    bob.send_message(channel, "hello")
    before = owner.resume_point()
    server.stop()
    link_id, _ = printed_link(reset_link(server, OWNER_NAME))
    server.restart()
    admin = server.client()
    assert admin.use_reset_link(link_id, NEW_PASSWORD)["role"] == "admin"
    assert admin.resume_point() == before  # the command wrote no event
    assert server.client().log_in(OWNER_NAME, NEW_PASSWORD)["name"] == OWNER_NAME
    assert_problem(
        server.client().post(
            "/api/auth/login", json={"name": OWNER_NAME, "password": OWNER_PASSWORD}
        ),
        401,
    )


def test_the_database_may_come_from_the_environment_and_the_expiry_from_the_flag(
    server: ServerProcess, owner: ParlourClient
) -> None:
    invite_user(server, owner, "Bob")
    made_at = datetime.now(UTC)
    result = reset_link(
        server, "--invite-expiry", "2h", "BOB", env={"PARLOUR_DATABASE": server.database_url}
    )
    link_id, expires_at = printed_link(result)
    assert abs(expires_at - (made_at + timedelta(hours=2))) < timedelta(minutes=1)
    assert server.client().look_at_reset_link(link_id)["user"]["name"] == "Bob"


def test_a_newer_link_replaces_the_older_one_whoever_made_it(
    server: ServerProcess, owner: ParlourClient
) -> None:
    bob_id = invite_user(server, owner, "Bob").me()["id"]
    by_admin = owner.make_reset_link(bob_id)["id"]
    by_command, _ = printed_link(reset_link(server, "Bob"))
    assert_problem(server.client().get(f"/api/reset/{by_admin}"), 404)
    newest = owner.make_reset_link(bob_id)["id"]
    assert_problem(server.client().get(f"/api/reset/{by_command}"), 404)
    assert server.client().look_at_reset_link(newest)["user"]["id"] == bob_id


def refused(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0, result.stdout
    assert result.stdout == "", "a refusal prints no link"
    assert "Traceback" not in result.stderr, result.stderr
    return result.stderr


def test_an_unknown_name_exits_non_zero_saying_so(
    server: ServerProcess, owner: ParlourClient
) -> None:
    before = owner.resume_point()
    message = refused(reset_link(server, "Nobody"))
    assert "Nobody" in message
    assert "no such user" in message.lower(), message
    assert owner.resume_point() == before


def test_a_deactivated_name_exits_non_zero_saying_so(
    server: ServerProcess, owner: ParlourClient
) -> None:
    bob = invite_user(server, owner, "Bob")
    owner.deactivate(bob.me()["id"])
    message = refused(reset_link(server, "Bob"))
    assert "Bob" in message
    assert "deactivated" in message.lower(), message
    assert_problem(
        server.client().post(
            "/api/auth/login", json={"name": "Bob", "password": password_for("Bob")}
        ),
        401,
    )


def test_a_missing_database_file_exits_non_zero_and_creates_nothing(tmp_path: Any) -> None:
    missing = tmp_path / "nowhere.db"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PARLOUR_")}
    result = subprocess.run(
        [sys.executable, "-m", "parlour", "reset-link", "--database", str(missing), OWNER_NAME],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    message = refused(result)
    assert "no database" in message.lower(), message
    assert not missing.exists()
