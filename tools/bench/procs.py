"""The processes under test: start parlour or a baseline, find its port, read its RSS, stop it.

Each server runs in its own process, apart from the load generator, as in production. A
server started here is killed if this process dies in any way (PR_SET_PDEATHSIG), and
stopped on normal exit too: a benchmark that runs in CI must never leave servers behind.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import ctypes
import os
import re
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

BENCH_DIR = Path(__file__).resolve().parent
# `parlour serve` and the baselines print this line once they accept connections.
LISTENING = re.compile(rb"listening on http://\[?([0-9A-Za-z.:]+?)\]?:(\d+)")
START_TIMEOUT_SECONDS = 30.0
# parlour waits up to 3 s for connections that cannot close (cli.GRACEFUL_SHUTDOWN_SECONDS).
STOP_TIMEOUT_SECONDS = 8.0
PR_SET_PDEATHSIG = 1
POLL_SECONDS = 0.02
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# Lines of a server's log that are worth a reader's attention after a run.
PROBLEM = re.compile(r"\b(WARNING|ERROR|CRITICAL|Traceback|Exception)\b")

_live: set[subprocess.Popen[bytes]] = set()
# Looked up before any fork: the child must do as little as possible between fork and exec.
_prctl = ctypes.CDLL(None, use_errno=True).prctl if sys.platform == "linux" else None


def raise_fd_limit() -> int:
    """Raise this process's open-file limit to its hard limit (10,000 streams need it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def _prepare_child() -> None:
    """Runs in the child between fork and exec: more file descriptors, die with the parent.

    Only two system calls, prepared before the fork, so it is safe even though the event
    loop may have started helper threads.
    """
    raise_fd_limit()
    if _prctl is not None:
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _kill_all() -> None:
    for popen in list(_live):
        with contextlib.suppress(ProcessLookupError):
            popen.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            popen.wait(timeout=5)
    _live.clear()


atexit.register(_kill_all)


@dataclass
class Server:
    """A running server process and where to reach it."""

    name: str
    popen: subprocess.Popen[bytes]
    host: str
    port: int
    log_path: Path
    _problems_seen: int = 0

    @property
    def pid(self) -> int:
        return self.popen.pid

    def rss_kib(self) -> int:
        """Resident set size from /proc/PID/status (VmRSS, in KiB)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError(f"no VmRSS for {self.name} (pid {self.pid})")

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server so far, all its threads (/proc/PID/stat)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def problems(self) -> list[str]:
        """Log lines that look like errors (the server's stderr, kept in its work folder)."""
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return []
        return [line for line in text.splitlines() if PROBLEM.search(line)]

    def new_problems(self) -> list[str]:
        """problems() not returned by an earlier call: those of the latest measurement."""
        lines = self.problems()
        fresh = lines[self._problems_seen :]
        self._problems_seen = len(lines)
        return fresh

    async def stop(self) -> int | None:
        """SIGTERM, then SIGKILL if it has not exited in time; returns the exit status."""
        popen = self.popen
        if popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                popen.terminate()
            for _ in range(round(STOP_TIMEOUT_SECONDS / POLL_SECONDS)):
                if popen.poll() is not None:
                    break
                await asyncio.sleep(POLL_SECONDS)
            if popen.poll() is None:
                popen.kill()
                popen.wait(timeout=5)
        _live.discard(popen)
        return popen.returncode


class Group:
    """The parlour processes of one measurement, all on one database (1 on SQLite; 1 or more
    on PostgreSQL). Figures that add up (CPU, memory, log problems) are summed over them."""

    def __init__(self, name: str, servers: list[Server], store: str) -> None:
        self.name = name
        self.servers = servers
        self.store = store

    @property
    def first(self) -> Server:
        return self.servers[0]

    @property
    def host(self) -> str:
        return self.first.host

    @property
    def port(self) -> int:
        return self.first.port

    def cpu_seconds(self) -> float:
        return sum(server.cpu_seconds() for server in self.servers)

    def rss_kib(self) -> int:
        return sum(server.rss_kib() for server in self.servers)

    def problems(self) -> list[str]:
        return [f"{s.name}: {line}" for s in self.servers for line in s.problems()]

    def new_problems(self) -> list[str]:
        return [f"{s.name}: {line}" for s in self.servers for line in s.new_problems()]

    async def stop(self) -> int | None:
        """Stop every process; the first nonzero exit status, else 0."""
        statuses = [await server.stop() for server in reversed(self.servers)]
        return next((status for status in statuses if status), statuses[0] if statuses else 0)


class Measured(Protocol):
    def cpu_seconds(self) -> float: ...


class CpuMeter:
    """Cores used by a server (or group) and by this load generator over a measurement (1.0 =
    one core busy throughout). On two shared cores, a load generator near 1.0 caps what it
    can see. `others` adds figures for other processes (e.g. PostgreSQL's), whose CPU-time
    function may return None when it cannot be read."""

    def __init__(
        self, server: Measured, others: dict[str, Callable[[], float | None]] | None = None
    ) -> None:
        self.server = server
        self.others = others or {}
        self._wall = time.monotonic()
        self._server = server.cpu_seconds()
        self._own = time.process_time()
        self._others = {name: read() for name, read in self.others.items()}
        each = server.servers if isinstance(server, Group) and len(server.servers) > 1 else []
        self._each = [s.cpu_seconds() for s in each]

    def figures(self) -> dict[str, Any]:
        wall = time.monotonic() - self._wall
        figures: dict[str, Any] = {
            "server_cores": round((self.server.cpu_seconds() - self._server) / wall, 2),
            "loadgen_cores": round((time.process_time() - self._own) / wall, 2),
        }
        if self._each and isinstance(self.server, Group):
            figures["server_cores_each"] = [
                round((s.cpu_seconds() - before) / wall, 2)
                for s, before in zip(self.server.servers, self._each, strict=True)
            ]
        for name, read in self.others.items():
            before, after = self._others[name], read()
            if before is not None and after is not None:
                figures[name] = round((after - before) / wall, 2)
        return figures


S = TypeVar("S", Server, Group)


class Running:
    """The servers started inside an `async with` block, all stopped when it ends."""

    def __init__(self) -> None:
        self.servers: list[Server | Group] = []

    async def __aenter__(self) -> Running:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        for server in reversed(self.servers):
            await server.stop()

    def add(self, server: S) -> S:
        self.servers.append(server)
        return server


def parlour_command(database: str, *extra: str) -> list[str]:
    """`parlour serve` from the same virtual environment as this script."""
    return [
        sys.executable,
        "-m",
        "parlour",
        "serve",
        "--database",
        database,
        "--address",
        "127.0.0.1",
        "--port",
        "0",
        *extra,
    ]


def baseline_command(script: str, *extra: str) -> list[str]:
    """A baseline server: a standalone script in this folder (it imports nothing of ours)."""
    return [sys.executable, str(BENCH_DIR / script), *extra]


def _spawn(command: list[str], folder: Path, name: str) -> subprocess.Popen[bytes]:
    folder.mkdir(parents=True, exist_ok=True)
    # Output goes to files, not pipes: a server that logs a lot must never block on a pipe
    # that nobody reads.
    with (folder / f"{name}.out").open("wb") as out, (folder / f"{name}.log").open("wb") as log:
        popen = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=log,
            cwd=folder,
            preexec_fn=_prepare_child,
        )
    _live.add(popen)
    return popen


async def start(command: list[str], folder: Path, name: str) -> Server:
    """Start a server and wait (bounded) until it prints where it listens."""
    popen = _spawn(command, folder, name)
    out_path, log_path = folder / f"{name}.out", folder / f"{name}.log"
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        match = LISTENING.search(out_path.read_bytes())
        if match:
            host, port = match.group(1).decode(), int(match.group(2))
            return Server(name, popen, host, port, log_path)
        if popen.poll() is not None:
            _live.discard(popen)
            tail = log_path.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{name} exited with {popen.returncode} at start:\n{tail}")
        await asyncio.sleep(POLL_SECONDS)
    popen.kill()
    popen.wait(timeout=5)
    _live.discard(popen)
    raise RuntimeError(f"{name} did not say where it listens within {START_TIMEOUT_SECONDS} s")
