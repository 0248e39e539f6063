"""Fixtures that run the real `parlour serve` on 127.0.0.1 with a fresh database.

Every black-box test talks HTTP (and SSE) to a real server process: no mocks of the
database or of HTTP. Port 0 lets tests run in parallel; the server prints the address it
bound on its first line of standard output, which is how we learn the port.

The store: a fresh SQLite file by default. With PARLOUR_TEST_STORE=postgres, every server
gets a fresh database on the PostgreSQL cluster named by PARLOUR_TEST_POSTGRES (tools/test
starts a throwaway one), and tests marked `sqlite_only` (they read the database file) skip.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from parlour_client import OWNER_NAME, OWNER_PASSWORD, ParlourClient
from parlour_client import invite_user as invite_user  # (tests/browser import it from here)

LISTENING = re.compile(r"listening on (http://127\.0\.0\.1:\d+)")
START_TIMEOUT_SECONDS = 20.0
POSTGRES_ADMIN_URL = os.environ.get("PARLOUR_TEST_POSTGRES", "")
ON_POSTGRES = os.environ.get("PARLOUR_TEST_STORE") == "postgres"


def fresh_postgres_database() -> str:
    """A new, empty database on the test cluster; returns its URL."""
    import psycopg

    if not POSTGRES_ADMIN_URL:
        pytest.fail("PARLOUR_TEST_POSTGRES names no PostgreSQL cluster (see tools/test)")
    name = "t_" + secrets.token_hex(8)
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if ON_POSTGRES:
        sqlite_only = pytest.mark.skip(reason="reads the SQLite file; the store is PostgreSQL")
        done = pytest.mark.skip(
            reason="names its PostgreSQL database itself: ran in the SQLite pass"
        )
        for item in items:
            if "sqlite_only" in item.keywords:
                item.add_marker(sqlite_only)
            elif "postgres" in item.keywords:
                item.add_marker(done)


# Servers hash passwords with argon2's cheapest parameters (docs/operations.md, "Settings"):
# with the real ones, hashing was half of the API tests' time. A test that needs the real
# cost (a queue of hashes that fills, logins timed against each other) starts its server
# with env={CHEAP_HASHES: "0"}; one test checks that a server started without it hashes with
# RFC 9106's parameters.
CHEAP_HASHES = "PARLOUR_TEST_CHEAP_PASSWORD_HASHES"


@dataclass
class ServerProcess:
    """One running `parlour serve`; restartable on the same database file."""

    database: Path
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[str] | None = None
    url: str = ""
    output: list[str] = field(default_factory=list)
    _clients: list[ParlourClient] = field(default_factory=list)
    _pump: threading.Thread | None = None
    _pipes: list[Any] = field(default_factory=list)
    database_url: str = ""
    """What --database names: the file, or (on PostgreSQL) this server's own database."""

    def command(self) -> list[str]:
        if not self.database_url:
            self.database_url = fresh_postgres_database() if ON_POSTGRES else str(self.database)
        return [
            sys.executable,
            "-m",
            "parlour",
            "serve",
            "--database",
            self.database_url,
            "--port",
            "0",
            *self.args,
        ]

    def start(self) -> ServerProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PARLOUR_")}
        env[CHEAP_HASHES] = "1"
        env.update(self.env)
        env["PYTHONUNBUFFERED"] = "1"
        self.proc = subprocess.Popen(
            self.command(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            cwd=self.database.parent,
        )
        self._pipes.append(self.proc.stdout)
        found = threading.Event()

        def pump() -> None:
            assert self.proc is not None
            assert self.proc.stdout is not None
            for line in self.proc.stdout:
                self.output.append(line)
                if not found.is_set() and (m := LISTENING.search(line)):
                    self.url = m.group(1)
                    found.set()
            found.set()

        self._pump = threading.Thread(target=pump, daemon=True)
        self._pump.start()
        found.wait(START_TIMEOUT_SECONDS)
        if not self.url:
            self.kill()
            raise RuntimeError("parlour did not start:\n" + "".join(self.output))
        return self

    def client(self, *, token: str | None = None, **kwargs: Any) -> ParlourClient:
        """A new client with its own cookie jar (one 'browser'), closed with the server; with
        `token`, one that presents that session token whatever its jar holds."""
        c = ParlourClient(self.url, token=token, **kwargs)
        self._clients.append(c)
        return c

    def set_up(self, name: str = OWNER_NAME, password: str = OWNER_PASSWORD) -> ParlourClient:
        """A new client that completes setup: the first user, logged in."""
        c = self.client()
        c.set_up(name, password)
        return c

    def log_in(self, name: str = OWNER_NAME, password: str = OWNER_PASSWORD) -> ParlourClient:
        """A new client logged in as this user: a session of its own."""
        c = self.client()
        c.log_in(name, password)
        return c

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM and wait: the graceful path."""
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout)
        self._reap()
        return code

    def kill(self) -> None:
        """SIGKILL: the crash path."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self._reap()

    def _reap(self) -> None:
        """Collect the rest of the output and close the pipe (no ResourceWarning)."""
        if self.proc is None:
            return
        if self._pump is not None:
            self._pump.join(10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self.proc = None

    def restart(self) -> ServerProcess:
        self.stop()
        self.url = ""
        return self.start()

    def close(self) -> None:
        for c in self._clients:
            with contextlib.suppress(Exception):
                c.close()
        self.kill()
        for pipe in self._pipes:  # also those of processes a test reaped itself
            pipe.close()


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Any]:
    """Factory: start_server(*extra_args, database=None, env=None) -> ServerProcess."""
    servers: list[ServerProcess] = []

    def start(
        *args: str, database: Path | None = None, env: dict[str, str] | None = None
    ) -> ServerProcess:
        s = ServerProcess(database or tmp_path / "parlour.db", list(args), env or {})
        servers.append(s)
        return s.start()

    yield start
    for s in servers:
        s.close()


@pytest.fixture
def server(start_server: Any) -> ServerProcess:
    """A fresh server, setup not yet done."""
    result: ServerProcess = start_server()
    return result


@pytest.fixture
def owner(server: ServerProcess) -> ParlourClient:
    """A client logged in as the first user (setup completed)."""
    return server.set_up()


@dataclass(frozen=True)
class Site:
    """A running server whose setup is done, and a client of its first user."""

    server: ServerProcess
    owner: ParlourClient


@pytest.fixture(scope="module")
def shared_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """One set-up server for all the tests of a module that ask for it (one per xdist worker).

    A server of its own and a password hash cost a test about a second, and several on a busy
    machine. A check that neither depends on what other tests add nor changes what they see
    (a refused request; a channel or user with a name no other test uses) shares this one.
    A test that needs an empty server, counts what is there, changes a password or throttles
    a name takes `owner` (or `server`) instead.
    """
    server = ServerProcess(tmp_path_factory.mktemp("shared") / "parlour.db").start()
    try:
        yield Site(server, server.set_up())
    finally:
        server.close()


@pytest.fixture(scope="module")
def shared_owner(shared_site: Site) -> ParlourClient:
    """The first user of the module's shared server (see `shared_site`)."""
    return shared_site.owner


@pytest.fixture(scope="module")
def unset_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server for all the tests of a module that ask for it, never set up: for the 503
    answers before setup, and for answers that need no user and change nothing."""
    server = ServerProcess(tmp_path_factory.mktemp("unset") / "parlour.db").start()
    try:
        yield server
    finally:
        server.close()
