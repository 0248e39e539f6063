"""Schema migrations on real SQLite files: backup first, all-or-nothing, refusals touch nothing."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from parlour.errors import StartupRefused
from parlour.store.migrations import Migration
from parlour.store.sqlite.migrate import backup_path, bundled_migrations, prepare

ADD_TOPIC = Migration(2, "add_topic", "ALTER TABLE channels ADD COLUMN topic TEXT;\n")
FAILING = Migration(
    2,
    "broken",
    "ALTER TABLE channels ADD COLUMN topic TEXT;\nINSERT INTO no_such_table VALUES (1);\n",
)
# A statement that keeps SQLite busy for seconds, so a test can kill the process mid-migration.
SLOW = Migration(
    2,
    "slow",
    "CREATE TABLE spin AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c"
    " WHERE x < 300000000) SELECT count(*) AS n FROM c;\n",
)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def existing_database(tmp_path: Path) -> Path:
    """A database at schema 1 holding one channel, closed cleanly (no -wal beside it)."""
    path = tmp_path / "parlour.db"
    prepare(path, bundled_migrations()[:1])
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(
            "INSERT INTO channels (id, name, name_key, created_at, active_at, seq)"
            " VALUES ('Cxxxxxxxxxxxxxxxxxxxxxx', 'general', 'general', 0, 0, 1)"
        )
    conn.close()
    return path


def user_version(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    finally:
        conn.close()


def test_a_new_database_is_created_at_the_latest_schema_without_a_backup(tmp_path: Path) -> None:
    path = tmp_path / "parlour.db"
    prepare(path)
    assert user_version(path) == len(bundled_migrations())
    assert not backup_path(path).exists()


def test_a_successful_migration_deletes_its_backup_and_keeps_the_data(tmp_path: Path) -> None:
    path = existing_database(tmp_path)
    prepare(path, [*bundled_migrations()[:1], ADD_TOPIC])
    assert user_version(path) == 2
    assert not backup_path(path).exists()
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT name, topic FROM channels").fetchall() == [("general", None)]
    conn.close()


def test_a_failing_migration_leaves_the_database_byte_for_byte_and_no_backup(
    tmp_path: Path,
) -> None:
    path = existing_database(tmp_path)
    before = digest(path)
    with pytest.raises(StartupRefused, match="exactly as it was before"):
        prepare(path, [*bundled_migrations()[:1], FAILING])
    assert digest(path) == before
    assert not backup_path(path).exists()
    assert not Path(str(path) + "-wal").exists()
    assert user_version(path) == 1


def test_a_crash_during_migration_leaves_the_backup_and_startup_refuses(tmp_path: Path) -> None:
    path = existing_database(tmp_path)
    before = digest(path)
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from parlour.store.sqlite.migrate import Migration, bundled_migrations, prepare
        slow = Migration(2, "slow", {SLOW.sql!r})
        prepare(Path({str(path)!r}), [*bundled_migrations()[:1], slow])
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script])
    backup = backup_path(path)
    deadline = time.monotonic() + 30
    while not backup.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.01)
    time.sleep(0.2)  # let the migration get under way
    proc.kill()
    proc.wait()
    assert backup.exists(), "the backup must be taken before migrating"
    backup_digest = digest(backup)

    result = subprocess.run(
        [sys.executable, "-m", "parlour", "serve", "--database", str(path), "--port", "0"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode != 0
    assert "interrupted" in result.stderr
    assert "delete the backup" in result.stderr
    assert "Traceback" not in result.stderr
    assert digest(backup) == backup_digest
    # The killed transaction never committed: the database still says schema 1.
    assert user_version(backup) == 1
    del before


def test_a_file_that_is_not_sqlite_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("these are my notes, not a database\n" * 20)
    before = digest(path)
    with pytest.raises(StartupRefused, match="not a SQLite database"):
        prepare(path)
    assert digest(path) == before
    assert not Path(str(path) + "-wal").exists()


def test_a_schema_newer_than_the_program_is_refused_and_untouched(tmp_path: Path) -> None:
    path = existing_database(tmp_path)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    before = digest(path)
    with pytest.raises(StartupRefused, match="newer than this program"):
        prepare(path)
    assert digest(path) == before
    assert not backup_path(path).exists()


def test_a_leftover_backup_is_refused_and_both_files_untouched(tmp_path: Path) -> None:
    path = existing_database(tmp_path)
    backup = backup_path(path)
    backup.write_bytes(path.read_bytes())
    before, backup_before = digest(path), digest(backup)
    with pytest.raises(StartupRefused, match="interrupted"):
        prepare(path, [*bundled_migrations()[:1], ADD_TOPIC])
    assert (digest(path), digest(backup)) == (before, backup_before)


def test_the_bundled_migrations_are_numbered_without_gaps() -> None:
    versions = [m.version for m in bundled_migrations()]
    assert versions == list(range(1, len(versions) + 1))
