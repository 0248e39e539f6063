"""The command line: help, flags and their environment variables, refusals, `parlour backup`."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import LISTENING, ServerProcess
from parlour_client import OWNER_NAME, OWNER_PASSWORD, ParlourClient

# The command line is tested on SQLite files; PostgreSQL URLs get tests of their own.
pytestmark = pytest.mark.sqlite_only

FLAGS = [
    "--database",
    "--address",
    "--port",
    "--message-expiry",
    "--channel-expiry",
    "--invite-expiry",
    "--session-expiry",
    "--heartbeat",
    "--expiry-interval",
    "--behind-https",
    "--login-failures",
    "--login-window",
]


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARLOUR_")}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


def run_parlour(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 15.0
) -> subprocess.CompletedProcess[str]:
    """Run `python -m parlour ARGS` to completion (a server that starts counts as a hang)."""
    return subprocess.run(
        [sys.executable, "-m", "parlour", *args],
        cwd=cwd,
        env=clean_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def stderr_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


@pytest.fixture
def raw_serve(tmp_path: Path) -> Iterator[Any]:
    """Factory: start `python -m parlour serve ARGS` exactly as given; returns (proc, url)."""
    procs: list[tuple[subprocess.Popen[str], threading.Thread]] = []

    def start(*args: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], str]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "parlour", "serve", *args],
            cwd=tmp_path,
            env=clean_env(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        found: list[str] = []
        ready = threading.Event()

        def pump() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                if not found and (m := LISTENING.search(line)):
                    found.append(m.group(1))
                    ready.set()
            ready.set()

        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        procs.append((proc, reader))
        ready.wait(20)
        assert found, "parlour did not start"
        return proc, found[0]

    yield start
    for proc, reader in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        reader.join(10)
        if proc.stdout is not None:
            proc.stdout.close()


def set_up_at(url: str) -> None:
    """Complete setup on the server at `url` (one started outside `start_server`)."""
    with ParlourClient(url) as c:
        c.set_up()


# --- help --------------------------------------------------------------------------------


def test_serve_help_explains_every_flag(tmp_path: Path) -> None:
    result = run_parlour("serve", "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for flag in FLAGS:
        assert flag in result.stdout, flag
    assert not (tmp_path / "parlour.db").exists()


def test_top_level_help_names_the_serve_and_backup_commands(tmp_path: Path) -> None:
    result = run_parlour("--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "serve" in result.stdout
    assert "backup" in result.stdout


def test_backup_help_explains_the_destination(tmp_path: Path) -> None:
    result = run_parlour("backup", "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "--database" in result.stdout
    assert "DEST" in result.stdout.upper()


# --- bad values --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "mentions"),
    [
        (["--port", "abc"], "abc"),
        (["--port", "70000"], "70000"),
        (["--port=-1"], "-1"),
        (["--message-expiry", "5x"], "5x"),
        (["--channel-expiry", "ten days"], "ten days"),
        (["--invite-expiry", ""], "invite"),
        (["--session-expiry", "1.5h"], "1.5h"),
        (["--heartbeat=-5s"], "-5s"),
        (["--expiry-interval", "5y"], "5y"),
        (["--login-failures", "abc"], "abc"),
        (["--login-window", "5 minutes"], "5 minutes"),
    ],
    ids=[
        "port-word",
        "port-too-big",
        "port-negative",
        "message-expiry-unit",
        "channel-expiry-words",
        "invite-expiry-empty",
        "session-expiry-fraction",
        "heartbeat-negative",
        "expiry-interval-unit",
        "login-failures-word",
        "login-window-words",
    ],
)
def test_a_bad_flag_value_exits_2_with_one_clear_line(
    tmp_path: Path, args: list[str], mentions: str
) -> None:
    result = run_parlour("serve", "--database", str(tmp_path / "parlour.db"), *args, cwd=tmp_path)
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = stderr_lines(result)
    assert len(lines) == 1, lines
    assert mentions.lower() in lines[0].lower(), lines
    assert not (tmp_path / "parlour.db").exists()


@pytest.mark.parametrize(
    ("variable", "value"),
    [("PARLOUR_PORT", "abc"), ("PARLOUR_HEARTBEAT", "5x"), ("PARLOUR_LOGIN_WINDOW", "soon")],
)
def test_a_bad_environment_value_exits_2_with_one_clear_line(
    tmp_path: Path, variable: str, value: str
) -> None:
    result = run_parlour(
        "serve", "--database", str(tmp_path / "parlour.db"), cwd=tmp_path, env={variable: value}
    )
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = stderr_lines(result)
    assert len(lines) == 1, lines
    assert value in lines[0], lines


@pytest.mark.parametrize("where", ["missing-folder", "folder-is-a-file"])
def test_a_database_in_a_folder_that_cannot_hold_it_exits_2(tmp_path: Path, where: str) -> None:
    if where == "missing-folder":
        database = tmp_path / "no" / "such" / "folder" / "parlour.db"
    else:
        (tmp_path / "a-file").write_text("not a folder\n")
        database = tmp_path / "a-file" / "parlour.db"
    result = run_parlour("serve", "--database", str(database), "--port", "0", cwd=tmp_path)
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = stderr_lines(result)
    assert len(lines) == 1, lines
    assert str(database.parent) in lines[0] or "database" in lines[0].lower(), lines
    assert not (tmp_path / "no").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write to any folder")
def test_a_database_in_an_unwritable_folder_exits_2(tmp_path: Path) -> None:
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        result = run_parlour(
            "serve", "--database", str(folder / "parlour.db"), "--port", "0", cwd=tmp_path
        )
    finally:
        folder.chmod(0o755)
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    assert len(stderr_lines(result)) == 1, result.stderr


# --- start-up refusals -------------------------------------------------------------------


def test_a_file_that_is_not_a_sqlite_database_is_refused_and_left_untouched(
    tmp_path: Path,
) -> None:
    database = tmp_path / "parlour.db"
    content = b"these are my holiday notes, not a database\n" * 200
    database.write_bytes(content)
    result = run_parlour("serve", "--database", str(database), "--port", "0", cwd=tmp_path)
    assert result.returncode != 0
    output = result.stderr + result.stdout
    assert "Traceback" not in output
    assert "database" in output.lower()
    assert database.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["parlour.db"]


def test_a_leftover_migration_backup_is_refused_and_both_files_left_untouched(
    start_server: Any, tmp_path: Path
) -> None:
    server: ServerProcess = start_server()
    server.set_up()
    server.stop()
    database = tmp_path / "parlour.db"
    leftover = tmp_path / "parlour.db.backup"
    leftover.write_bytes(database.read_bytes())
    before = (database.read_bytes(), leftover.read_bytes())
    result = run_parlour("serve", "--database", str(database), "--port", "0", cwd=tmp_path)
    assert result.returncode != 0
    output = result.stderr + result.stdout
    assert "Traceback" not in output
    assert "parlour.db.backup" in output
    assert (database.read_bytes(), leftover.read_bytes()) == before


# --- environment variables ---------------------------------------------------------------


def test_every_flag_can_be_given_as_an_environment_variable(start_server: Any) -> None:
    server: ServerProcess = start_server(
        env={"PARLOUR_HEARTBEAT": "7s", "PARLOUR_BEHIND_HTTPS": "1"}
    )
    c = server.client()
    r = c.post("/api/setup", json={"name": OWNER_NAME, "password": OWNER_PASSWORD})
    assert r.status_code == 200, r.text
    assert "secure" in r.headers["set-cookie"].lower()
    # (The cookie is Secure: a client keeps it from plain http, so it is sent by hand.)
    assert server.client(token=c.token).boot()["heartbeat"] == 7


def test_a_flag_overrides_its_environment_variable(start_server: Any) -> None:
    server: ServerProcess = start_server("--heartbeat", "9s", env={"PARLOUR_HEARTBEAT": "7s"})
    assert server.set_up().boot()["heartbeat"] == 9


def test_login_throttle_limits_come_from_the_environment_too(start_server: Any) -> None:
    server: ServerProcess = start_server(
        env={"PARLOUR_LOGIN_FAILURES": "2", "PARLOUR_LOGIN_WINDOW": "1m"}
    )
    server.set_up()
    for _ in range(2):
        r = server.client().post(
            "/api/auth/login", json={"name": OWNER_NAME, "password": "wrong!!!"}
        )
        assert r.status_code == 401
    r = server.client().post("/api/auth/login", json={"name": OWNER_NAME, "password": "wrong!!!"})
    assert r.status_code == 429
    assert 1 <= int(r.headers["retry-after"]) <= 60


def test_database_comes_from_parlour_database_and_a_missing_file_is_created(
    raw_serve: Any, tmp_path: Path
) -> None:
    database = tmp_path / "elsewhere.db"
    proc, url = raw_serve("--port", "0", env={"PARLOUR_DATABASE": str(database)})
    set_up_at(url)
    assert database.exists()
    assert not (tmp_path / "parlour.db").exists()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(20) == 0


def test_database_defaults_to_parlour_db_in_the_current_folder(
    raw_serve: Any, tmp_path: Path
) -> None:
    proc, url = raw_serve("--port", "0")
    set_up_at(url)
    assert (tmp_path / "parlour.db").exists()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(20) == 0


# --- parlour backup ----------------------------------------------------------------------


def fill(server: ServerProcess) -> ParlourClient:
    owner = server.set_up()
    owner.send_message(owner.create_channel("general")["id"], "remember me")
    return owner


def assert_backup_holds_the_data(start_server: Any, backup: Path) -> None:
    copy: ServerProcess = start_server(database=backup)
    snapshot = copy.log_in().boot()
    assert [ch["name"] for ch in snapshot["channels"]] == ["general"]
    assert [m["body"] for m in snapshot["messages"]] == ["remember me"]


def test_backup_writes_a_usable_copy_of_a_running_servers_database(
    start_server: Any, tmp_path: Path
) -> None:
    server: ServerProcess = start_server()
    owner = fill(server)
    dest_folder = tmp_path / "backups"
    dest_folder.mkdir()
    dest = dest_folder / "copy.db"
    result = run_parlour("backup", "--database", str(server.database), str(dest), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    with sqlite3.connect(dest) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    # The running server is unaffected.
    assert owner.get("/api/boot").status_code == 200
    assert_backup_holds_the_data(start_server, dest)


def test_clients_of_the_original_must_boot_again_on_a_restored_backup(
    start_server: Any, tmp_path: Path
) -> None:
    # Regression (issue 5 review): a restored backup rewinds the sequence, so a client that
    # resumed from a position it saw before the restore would keep events the restore undid.
    server: ServerProcess = start_server()
    owner = fill(server)
    dest = tmp_path / "copy.db"
    result = run_parlour("backup", "--database", str(server.database), str(dest), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    channel = owner.boot()["channels"][0]["id"]
    owner.send_message(channel, "after the backup")
    seen = owner.resume_point()
    cookies = httpx.Cookies(owner.cookies)
    server.stop()

    restored: ServerProcess = start_server(database=dest)
    client = restored.client(cookies=cookies)  # the session existed at backup time
    for position in (0, seen - 1, seen):
        r = client.get("/api/events", params={"resume_point": str(position)})
        assert r.status_code == 410, (position, r.text)
    snapshot = client.boot()
    assert [m["body"] for m in snapshot["messages"]] == ["remember me"]
    with client.stream(
        "GET", "/api/events", params={"resume_point": str(snapshot["resume_point"])}
    ) as stream:
        assert stream.status_code == 200


def test_backup_finds_the_database_through_parlour_database(
    start_server: Any, tmp_path: Path
) -> None:
    server: ServerProcess = start_server()
    fill(server)
    dest_folder = tmp_path / "backups"
    dest_folder.mkdir()
    dest = dest_folder / "copy.db"
    result = run_parlour(
        "backup", str(dest), cwd=dest_folder, env={"PARLOUR_DATABASE": str(server.database)}
    )
    assert result.returncode == 0, result.stderr
    assert_backup_holds_the_data(start_server, dest)


def test_backup_uses_parlour_db_in_the_current_folder_by_default(
    start_server: Any, tmp_path: Path
) -> None:
    server: ServerProcess = start_server()
    fill(server)
    dest_folder = tmp_path / "backups"
    dest_folder.mkdir()
    dest = dest_folder / "copy.db"
    result = run_parlour("backup", str(dest), cwd=server.database.parent)
    assert result.returncode == 0, result.stderr
    assert_backup_holds_the_data(start_server, dest)


def test_backup_of_a_missing_database_fails_clearly_and_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"
    dest = tmp_path / "copy.db"
    result = run_parlour("backup", "--database", str(missing), str(dest), cwd=tmp_path)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    assert stderr_lines(result)
    assert not missing.exists()
    assert not dest.exists()


def test_backup_to_a_missing_folder_fails_clearly(start_server: Any, tmp_path: Path) -> None:
    server: ServerProcess = start_server()
    server.set_up()
    dest = tmp_path / "no" / "such" / "folder" / "copy.db"
    result = run_parlour("backup", "--database", str(server.database), str(dest), cwd=tmp_path)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    assert stderr_lines(result)
