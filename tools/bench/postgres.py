"""PostgreSQL for the scenarios: a throwaway cluster, a fresh database per server.

`--postgres` starts a cluster of its own with `tools/postgres start` (initdb + pg_ctl on
127.0.0.1, in its own temporary folder) and removes it at the end; `--postgres ADMIN_URL`
uses a cluster that is already running (e.g. the tests' PARLOUR_TEST_POSTGRES) and drops
the databases it made there.

Communities are still made on SQLite (community.py): `parlour migrate-to-postgres` copies a
stopped template's file, sessions included, into a PostgreSQL template database once, and
every server then gets `CREATE DATABASE … TEMPLATE` of it: a fresh database, in a
fraction of a second, holding the same users, sessions and channel.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CLUSTER_SCRIPT = REPO / "tools" / "postgres"
START_TIMEOUT_SECONDS = 120.0
STOP_TIMEOUT_SECONDS = 60.0
# 100,000 seeded messages take a few seconds to copy; search's 1,000,000 (their words split
# in Python for the index) took 85 s, and 207 s on a busy machine: a margin over that.
MIGRATE_TIMEOUT_SECONDS = 900.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# Lines of the cluster's log worth a reader's attention (checkpoints and the like are not).
PROBLEM = re.compile(r"\b(WARNING|ERROR|FATAL|PANIC):")


def _quote(name: str) -> str:
    if not re.fullmatch(r"[a-z0-9_]+", name):
        raise ValueError(f"not a plain database name: {name!r}")
    return f'"{name}"'


async def _run(command: list[str], limit_seconds: float) -> str:
    """Run a command to its end (bounded); its stdout. Raises RuntimeError if it fails.

    subprocess.run in a thread, not the event loop's subprocesses: uvloop's leave the pipes
    open in the child's other descriptors, so the PostgreSQL server that `tools/postgres`
    starts in the background would hold them, and the output would never end.
    """

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            command, stdin=subprocess.DEVNULL, capture_output=True, text=True,
            timeout=limit_seconds, check=False, close_fds=True,
        )  # fmt: skip

    try:
        result = await asyncio.to_thread(run)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"{command[:3]} did not finish within {limit_seconds:.0f} s") from None
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command[:3])} exited with {result.returncode}: {result.stderr[-2000:]}"
        )
    return result.stdout


class Postgres:
    """One cluster and the databases this run made on it."""

    def __init__(self, admin_url: str, folder: Path | None, note: Callable[[str], None]) -> None:
        self.admin_url = admin_url
        self.folder = folder  # set when this run started the cluster (and will remove it)
        self.note = note
        # Unique per run: several runs (or test workers) may share one cluster.
        self.prefix = "bench_" + secrets.token_hex(3)
        self.databases: list[str] = []
        self.version = ""
        self._log_lines_seen = 0

    @classmethod
    async def start(cls, note: Callable[[str], None]) -> Postgres:
        """A new cluster in its own temporary folder (not under the run's folder: as root,
        tools/postgres runs the server as the `postgres` user, who must reach the folder)."""
        folder = Path(tempfile.mkdtemp(prefix="parlour-bench-pg-"))
        note(f"starting a PostgreSQL cluster in {folder}")
        try:
            out = await _run([str(CLUSTER_SCRIPT), "start", str(folder)], START_TIMEOUT_SECONDS)
        except BaseException:
            await _run([str(CLUSTER_SCRIPT), "stop", str(folder)], STOP_TIMEOUT_SECONDS)
            raise
        # A run that ends without reaching stop() (an exception, sys.exit) still removes it.
        atexit.register(_stop_quietly, folder)
        url = out.strip().splitlines()[-1]
        return await cls(url, folder, note)._connected()

    @classmethod
    async def use(cls, admin_url: str, note: Callable[[str], None]) -> Postgres:
        return await cls(admin_url, None, note)._connected()

    async def _connected(self) -> Postgres:
        rows = await self._admin("SHOW server_version")
        self.version = str(rows[0][0]) if rows else ""
        return self

    async def stop(self, keep_log_in: Path | None = None) -> None:
        """Drop this run's databases (a given cluster) or stop and remove the cluster."""
        if self.folder is None:
            for name in reversed(self.databases):
                with contextlib.suppress(Exception):
                    await self._admin(f"DROP DATABASE IF EXISTS {_quote(name)} WITH (FORCE)")
            return
        if keep_log_in is not None:
            with contextlib.suppress(OSError):
                shutil.copyfile(self.folder / "server.log", keep_log_in / "postgresql.log")
        await _run([str(CLUSTER_SCRIPT), "stop", str(self.folder)], STOP_TIMEOUT_SECONDS)

    def url(self, database: str) -> str:
        return self.admin_url.rsplit("/", 1)[0] + "/" + database

    def name(self, label: str) -> str:
        """A database name for this run, made of `label` (lowercase letters, digits, _)."""
        clean = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")
        return f"{self.prefix}_{clean}"[:63]

    async def create(self, name: str, template: str | None = None) -> str:
        """CREATE DATABASE (a copy of `template` if given); returns its URL."""
        sql = f"CREATE DATABASE {_quote(name)}"
        if template is not None:
            sql += f" TEMPLATE {_quote(template)}"
        self.databases.append(name)
        await self._admin(sql)
        return self.url(name)

    async def migrate_from_sqlite(self, sqlite_file: Path, name: str) -> str:
        """A new database holding everything in the (stopped) SQLite file; returns its URL."""
        url = await self.create(name)
        command = [sys.executable, "-m", "parlour", "migrate-to-postgres", "--database",
                   str(sqlite_file), url]  # fmt: skip
        await _run(command, MIGRATE_TIMEOUT_SECONDS)
        # A server that has run a while has had its tables vacuumed and analysed by
        # autovacuum: without statistics and a visibility map, the first queries on freshly
        # copied tables plan blind and visit every heap page (PostgreSQL's own advice after
        # a bulk load). Every server's copy inherits them from the template.
        await self._run_on(name, "VACUUM (ANALYZE)")
        return url

    async def _run_on(self, database: str, sql: str) -> None:
        """One statement on one of this run's databases, in autocommit (VACUUM needs it)."""
        import psycopg

        async with await psycopg.AsyncConnection.connect(
            self.url(database), autocommit=True
        ) as conn:
            await conn.execute(sql.encode())

    async def _admin(self, sql: str) -> list[tuple[object, ...]]:
        """One statement on the admin database, in autocommit (CREATE DATABASE needs it)."""
        import psycopg

        async with await psycopg.AsyncConnection.connect(self.admin_url, autocommit=True) as conn:
            cur = await conn.execute(sql.encode())
            return list(await cur.fetchall()) if cur.description else []

    def new_problems(self) -> list[str]:
        """Lines of the cluster's log that look like trouble, not returned by an earlier call
        (only for a cluster this run started: another's log is not ours to read)."""
        if self.folder is None:
            return []
        try:
            lines = (self.folder / "server.log").read_text(errors="replace").splitlines()
        except OSError:
            return []
        fresh = lines[self._log_lines_seen :]
        self._log_lines_seen = len(lines)
        return [line for line in fresh if PROBLEM.search(line)]

    def cpu_seconds(self) -> float | None:
        """CPU time of the cluster's processes so far (the postmaster, its live children and
        the children it has reaped); None for a cluster this run did not start."""
        if self.folder is None:
            return None
        try:
            pid = int((self.folder / "data" / "postmaster.pid").read_text().split()[0])
            fields = _stat(pid)
        except (OSError, ValueError, IndexError):
            return None
        total = sum(int(fields[i]) for i in (11, 12, 13, 14))
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError, ValueError, IndexError):
                child = _stat(int(entry.name))
                if int(child[1]) == pid:
                    total += int(child[11]) + int(child[12])
        return total / CLOCK_TICKS


def _stop_quietly(folder: Path) -> None:
    """At exit: stop a cluster this run started, unless stop() already removed it."""
    if folder.exists():
        subprocess.run([str(CLUSTER_SCRIPT), "stop", str(folder)], capture_output=True,
                       timeout=STOP_TIMEOUT_SECONDS, check=False)  # fmt: skip


def _stat(pid: int) -> list[str]:
    """/proc/PID/stat after the command name: [state, ppid, …] (utime is index 11)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
