"""The PostgreSQL engine's start-up rules, and moving a SQLite community onto it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from conftest import POSTGRES_ADMIN_URL, ServerProcess, fresh_postgres_database
from parlour.errors import StartupRefused
from parlour.store.migrations import Migration
from parlour.store.postgres.migrate import bundled_migrations, prepare
from parlour_client import OWNER_NAME, invite_user
from sse_client import Event, open_stream, world

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_ADMIN_URL, reason="no PostgreSQL test cluster"),
]


def tables(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
        ).fetchall()
    return [r[0] for r in rows]


def test_a_new_database_gets_every_table_of_the_latest_schema() -> None:
    url = fresh_postgres_database()
    prepare(url)
    assert set(tables(url)) >= {"counter", "users", "channels", "messages", "events", "memberships"}
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT version FROM parlour_schema").fetchone()
    assert row == (len(bundled_migrations()),)


def test_a_failing_migration_applies_none_of_itself() -> None:
    url = fresh_postgres_database()
    prepare(url)
    before = tables(url)
    broken = Migration(2, "broken", "CREATE TABLE topics (id text);\nSELECT * FROM nowhere;\n")
    with pytest.raises(StartupRefused, match="nothing was changed"):
        prepare(url, [*bundled_migrations(), broken])
    assert tables(url) == before


def test_a_schema_newer_than_the_program_is_refused() -> None:
    url = fresh_postgres_database()
    prepare(url)
    with psycopg.connect(url) as conn:
        conn.execute("UPDATE parlour_schema SET version = 99")
    with pytest.raises(StartupRefused, match="newer than this program"):
        prepare(url)


def test_an_unreachable_server_is_reported_without_the_password() -> None:
    url = "postgresql://parlour:hunter2secret@127.0.0.1:1/nowhere"
    with pytest.raises(StartupRefused) as refused:
        prepare(url)
    assert "hunter2secret" not in str(refused.value)


def migrate(database: Path, url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "parlour", "migrate-to-postgres", "--database", str(database), url],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_sqlite_community_moves_to_postgres_with_its_ids_sequences_and_sessions(
    start_server: Any, tmp_path: Path
) -> None:
    old: ServerProcess = start_server()
    owner = old.set_up()
    channel = owner.create_channel("general")
    kept = owner.send_message(channel["id"], "this one stays")
    gone = owner.send_message(channel["id"], "this one is deleted")
    owner.delete_message(gone["id"])
    before = owner.boot()
    cookies = httpx.Cookies(owner.cookies)
    assert old.stop() == 0

    url = fresh_postgres_database()
    result = migrate(old.database, url)
    assert result.returncode == 0, result.stderr
    assert f"continues from {before['resume_point']}" in result.stdout

    new = ServerProcess(tmp_path / "unused.db", database_url=url).start()
    try:
        same = new.client(cookies=cookies)  # the session moved too: no new login needed
        after = same.boot()
        assert world(after) == world(before)
        assert after["resume_point"] == before["resume_point"]
        # A client that was following the old server resumes without a gap or a repeat.
        with open_stream(same, last_event_id=str(before["resume_point"])) as stream:
            fresh = same.send_message(channel["id"], "hello from PostgreSQL")
            event = stream.next_event(10)
        assert isinstance(event, Event)
        assert event.data["id"] == fresh["id"]
        assert event.id == before["resume_point"] + 1
        assert kept in after["messages"]
        new.log_in(OWNER_NAME.lower())
    finally:
        new.close()


def test_moving_into_a_database_that_holds_a_community_is_refused(
    start_server: Any, tmp_path: Path
) -> None:
    old: ServerProcess = start_server()
    old.set_up()
    assert old.stop() == 0
    url = fresh_postgres_database()
    assert migrate(old.database, url).returncode == 0
    again = migrate(old.database, url)
    assert again.returncode == 1
    assert "already holds a community" in again.stderr
    assert "Traceback" not in again.stderr


def test_a_moved_community_keeps_who_sees_what_and_every_revision_2_detail(
    start_server: Any, tmp_path: Path
) -> None:
    """Regression (found by the docs' reproduction): migrate-to-postgres copied only revision
    1's columns, so a private channel arrived public, its messages visible to everyone, and
    its history replayed to strangers."""
    old: ServerProcess = start_server()
    alice = old.set_up()
    bob = invite_user(old, alice, "Bob")
    carol = invite_user(old, alice, "Carol")
    bob_id = bob.me()["id"]
    secret = bob.post(
        "/api/channels", json={"name": "secret", "kind": "private", "members": [alice.me()["id"]]}
    ).json()
    note = bob.post(
        f"/api/channels/{secret['id']}",
        json={"body": "just us", "mentions": [alice.me()["id"]], "client_id": "n1"},
    ).json()
    alice.post(f"/api/messages/{note['id']}/reactions", json={"emoji": "🎉"})
    general = alice.create_channel("general")
    alice.send_message(general["id"], "hello all")
    bob.post(f"/api/channels/{general['id']}/notify", json={"level": "all"})
    before = {name: c.boot() for name, c in (("alice", alice), ("bob", bob), ("carol", carol))}
    cookies = {name: httpx.Cookies(c.cookies) for name, c in (("alice", alice), ("bob", bob))}
    cookies["carol"] = httpx.Cookies(carol.cookies)
    assert old.stop() == 0

    url = fresh_postgres_database()
    result = migrate(old.database, url)
    assert result.returncode == 0, result.stderr
    new = ServerProcess(tmp_path / "unused.db", database_url=url).start()
    try:
        for name, jar in cookies.items():
            after = new.client(cookies=jar).boot()
            assert after == before[name], name
        stranger = new.client(cookies=cookies["carol"])
        assert stranger.get(f"/api/channels/{secret['id']}/messages").status_code == 404
        last = new.client(cookies=cookies["alice"]).send_message(general["id"], "moved")
        with open_stream(stranger, resume_point=0) as stream:
            seen = stream.events_through(last["seq"], timeout=10)
        assert all(e.data.get("channel") != secret["id"] for e in seen)
        assert all(e.data.get("id") != secret["id"] for e in seen)
        assert bob_id in [u["id"] for u in before["carol"]["users"]]
    finally:
        new.close()
