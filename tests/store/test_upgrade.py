"""Upgrading a revision-1 community (issue 11): the file the revision-1 code left behind
(tests/fixtures/revision1.db) upgrades through the backup-before-migration path; its setup
user becomes the admin; nothing else changes; and a stream resumed from before the upgrade
sees every later event, without a gap. On PostgreSQL, the same community loaded into a
schema-1 database upgrades the same way."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import POSTGRES_ADMIN_URL, ServerProcess, fresh_postgres_database
from sse_client import open_stream

FIXTURE = Path(__file__).parent.parent / "fixtures" / "revision1.db"
PASSWORDS = {"Ada": "ada password", "Brendan": "brendan password"}
# What the fixture holds (tests/fixtures/make_revision1_db.py): 17 events.
RESUME_POINT = 17


def rows(path: Path, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def revision1_copy(tmp_path: Path) -> Path:
    path = tmp_path / "parlour.db"
    shutil.copyfile(FIXTURE, path)
    return path


def log_in(server: ServerProcess, name: str) -> httpx.Client:
    client = server.client()
    r = client.post("/api/auth/login", json={"name": name, "password": PASSWORDS[name]})
    assert r.status_code == 200, r.text
    return client


def check_upgraded_community(server: ServerProcess) -> None:
    ada = log_in(server, "Ada")
    brendan = log_in(server, "Brendan")
    boot = ada.get("/api/boot").json()
    assert boot["resume_point"] == RESUME_POINT
    assert [(u["name"], u["role"], u["active"]) for u in boot["users"]] == [
        ("Ada", "admin", True),
        ("Brendan", "member", True),
    ]
    assert [c["name"] for c in boot["channels"]] == ["general", "random", "empty"]
    bodies = [m["body"] for m in boot["messages"]]
    assert bodies == [f"{b} {i} from {who}" for i in range(5) for b, who in
                      (("hello", "Ada"), ("hi", "Brendan"))]  # fmt: skip
    assert "to be deleted" not in bodies
    # The unused invitation survived, with its expiry.
    invites = ada.get("/api/invites").json()["invites"]
    assert len(invites) == 1
    assert invites[0]["issuer"]["name"] == "Ada"
    assert "expires_at" in invites[0]
    # A stream resumed from before the upgrade: every event after it, in order, no gap.
    with open_stream(brendan, resume_point=0) as stream:
        events = stream.events_through(RESUME_POINT)
    ids = [e.id for e in events]
    assert ids == sorted(set(ids))
    assert ids[-1] == RESUME_POINT
    kinds = [e.kind for e in events]
    assert kinds.count(("user", "created")) == 2
    assert kinds.count(("channel", "created")) == 3
    assert kinds.count(("message", "sent")) == 10
    assert kinds.count(("message", "deleted")) == 1
    # Sequence numbers go on from where revision 1 stopped.
    r = ada.post(f"/api/channels/{boot['channels'][0]['id']}", json={"body": "after"})
    assert r.status_code == 202, r.text
    with open_stream(brendan, resume_point=RESUME_POINT) as stream:
        (after,) = stream.events_through(RESUME_POINT + 1)
    assert after.data["body"] == "after"


@pytest.mark.sqlite_only
def test_a_revision_1_file_upgrades_with_a_backup_first_and_keeps_everything(
    tmp_path: Path, start_server: Any
) -> None:
    path = revision1_copy(tmp_path)
    assert rows(path, "PRAGMA user_version") == [(1,)]
    server: ServerProcess = start_server(database=path)
    # The backup was taken and, the migration done, removed.
    assert not path.with_name(path.name + ".backup").exists()
    assert rows(path, "PRAGMA user_version")[0][0] >= 2
    check_upgraded_community(server)


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES_ADMIN_URL, reason="no PostgreSQL test cluster")
def test_a_revision_1_postgresql_database_upgrades_and_keeps_everything(
    tmp_path: Path, start_server: Any
) -> None:
    import psycopg

    from parlour.store.postgres.migrate import bundled_migrations, prepare

    url = fresh_postgres_database()
    prepare(url, bundled_migrations()[:1])
    tables = {
        "users": "id, name, name_key, password_hash, created_at, seq",
        "sessions": "id, user_id, expires_at",
        "invites": "id, issuer, issued_at, expires_at",
        "channels": "id, name, name_key, created_at, active_at, seq",
        "messages": "id, channel_id, sender, body, sent_at, seq",
        "tombstones": "seq, kind, id, channel_id, at",
    }
    with psycopg.connect(url) as conn:
        for table, columns in tables.items():
            marks = ", ".join(["%s"] * len(columns.split(",")))
            for values in rows(FIXTURE, f"SELECT {columns} FROM {table}"):  # noqa: S608
                conn.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", values)  # noqa: S608
        ((seq, forgotten),) = rows(FIXTURE, "SELECT seq, forgotten_seq FROM counter")
        conn.execute("UPDATE counter SET seq = %s, forgotten_seq = %s", (seq, forgotten))
    server = ServerProcess(tmp_path / "unused.db", database_url=url)
    try:
        server.start()
        check_upgraded_community(server)
    finally:
        server.close()
