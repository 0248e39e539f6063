"""`tools/bench/run`: parse the options, run the scenarios, print the lines and the table.

Every scenario runs under a time limit; one that fails or overruns prints a line with an
`error` and the run goes on. The exit status is 1 if any scenario could not measure, else 0:
slow figures never fail the run (the suite measures, it does not assert).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench import procs
from bench.community import Workspace
from bench.context import FULL, QUICK, Context, with_overrides
from bench.postgres import Postgres
from bench.report import Reporter
from bench.scenarios import (
    boot,
    client_switch,
    fanout,
    history,
    history_browser,
    idle,
    private,
    resume,
    search,
    send,
)

SCENARIOS: dict[str, Callable[[Context], Awaitable[None]]] = {
    "send": send.run,
    "fanout": fanout.run,
    "boot": boot.run,
    "resume": resume.run,
    "idle": idle.run,
    "search": search.run,
    "history_boot": history.run_boot,
    "history_page": history.run_pages,
    "history_browser": history_browser.run,
    "client_switch": client_switch.run,
    "private": private.run,
}
# `baseline` is measured inside send, fanout and idle (side by side with parlour); asking
# for it alone runs those three.
BASELINE_SCENARIOS = ("send", "fanout", "idle")
START_CLUSTER = "start"
MAX_PROCESSES = 8
REPO = Path(__file__).resolve().parents[2]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="tools/bench/run",
        description="Measure parlour against raw baselines (issue 3). JSON lines on stdout, "
        "progress and a table on stderr.",
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes, under a minute (CI)")
    parser.add_argument(
        "--only",
        action="append",
        choices=[*SCENARIOS, "baseline"],
        metavar="SCENARIO",
        help=f"run only this scenario (repeatable): {', '.join([*SCENARIOS, 'baseline'])}",
    )
    parser.add_argument(
        "--postgres",
        nargs="?",
        const=START_CLUSTER,
        metavar="ADMIN_URL",
        help="run parlour on PostgreSQL: a fresh database per server, on a throwaway cluster "
        "started here (tools/postgres), or on the running cluster ADMIN_URL names (a URL "
        "whose user may CREATE DATABASE; this run's databases are dropped at the end)",
    )
    parser.add_argument(
        "--processes",
        type=_counts,
        default=(1,),
        metavar="N[,N…]",
        help="parlour processes on one database in send, fanout and idle (default 1; more "
        "needs --postgres); several counts, e.g. 1,2, are each measured against the same "
        "baseline measurement. Senders and streams go round robin over the processes; the "
        "fan-out sender posts to the first",
    )
    parser.add_argument(
        "--seed",
        choices=["sqlite", "api"],
        default="sqlite",
        help="how boot and resume get their retained messages: rows written into the stopped "
        "server's file (fast, default) or sent through the API (slow)",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="change one size (repeatable), e.g. --set fanout_subscribers=10,100 --set "
        "send_messages=2000; the names are the fields of Sizes in tools/bench/context.py",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs)")
    return parser.parse_args(argv)


def _counts(text: str) -> tuple[int, ...]:
    try:
        counts = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of numbers: {text!r}") from None
    if not counts or min(counts) < 1 or max(counts) > MAX_PROCESSES:
        raise argparse.ArgumentTypeError(f"each count must be 1 to {MAX_PROCESSES}")
    return tuple(dict.fromkeys(counts))


def _git(*args: str) -> str:
    try:
        result = subprocess.run(
            ["git", *args], cwd=REPO, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return result.stdout.strip()


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def _memory_kib() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def run_record(
    args: argparse.Namespace, names: list[str], fd_limit: int, postgres: Postgres | None
) -> dict[str, Any]:
    """The first line: when, where and what was measured."""
    diff = _git("diff", "HEAD", "--", "src")
    return {
        "scenario": "run",
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "commit": _git("rev-parse", "HEAD"),
        "dirty": bool(_git("status", "--porcelain", "--", "src")),
        # Which uncommitted changes to src/ were measured, when there were any.
        "src_diff_sha256": hashlib.sha256(diff.encode()).hexdigest()[:16] if diff else None,
        "machine": {
            "host": platform.node(),
            "cpu": _cpu_model(),
            "cores": os.cpu_count(),
            "kernel": platform.release(),
            "python": platform.python_version(),
            "memory_kib": _memory_kib(),
        },
        "quick": args.quick,
        "scenarios": names,
        "seed": args.seed,
        "store": "sqlite" if postgres is None else "postgresql",
        "postgres_version": postgres.version if postgres else None,
        "postgres_cluster": None if postgres is None else ("own" if postgres.folder else "given"),
        "processes": list(args.processes),
        "fd_limit": fd_limit,
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }


async def run_all(args: argparse.Namespace, reporter: Reporter, root: Path) -> bool:
    sizes = with_overrides(QUICK if args.quick else FULL, args.set)
    wanted = args.only or list(SCENARIOS)
    if "baseline" in wanted:
        wanted = [*wanted, *BASELINE_SCENARIOS]
    names = [name for name in SCENARIOS if name in wanted]
    fd_limit = procs.raise_fd_limit()
    postgres: Postgres | None = None
    try:
        if args.postgres == START_CLUSTER:
            postgres = await Postgres.start(reporter.note)
        elif args.postgres:
            postgres = await Postgres.use(args.postgres, reporter.note)
    except Exception as e:
        reporter.note(f"no PostgreSQL: {type(e).__name__}: {e}")
        reporter.emit({"scenario": "run", "error": f"no PostgreSQL: {e}"})
        return False
    try:
        reporter.emit(run_record(args, names, fd_limit, postgres))
        workspace = Workspace(root, postgres, reporter.note)
        ctx = Context(sizes, workspace, reporter, args.seed, args.processes)
        return await run_scenarios(ctx, names)
    finally:
        if postgres is not None:
            # Every server is stopped by now (each scenario stops its own).
            await postgres.stop(keep_log_in=root if args.keep else None)


async def run_scenarios(ctx: Context, names: list[str]) -> bool:
    sizes, reporter = ctx.sizes, ctx.reporter
    ok = True
    for name in names:
        started = time.monotonic()
        reporter.note(f"--- {name}")
        try:
            async with asyncio.timeout(sizes.scenario_timeout_seconds):
                await SCENARIOS[name](ctx)
        except Exception as e:
            ok = False
            detail = "timed out" if isinstance(e, TimeoutError) else f"{type(e).__name__}: {e}"
            reporter.note(f"{name} failed: {detail}\n{traceback.format_exc()}")
            reporter.emit({"scenario": name, "target": "parlour", "error": detail})
        reporter.note(f"{name} took {time.monotonic() - started:.1f} s")
    return ok


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if max(args.processes) > 1 and not args.postgres:
        print("tools/bench/run: error: --processes above 1 needs --postgres (SQLite is one "
              "process's database)", file=sys.stderr)  # fmt: skip
        return 2
    try:
        with_overrides(FULL, args.set)
    except ValueError as e:
        print(f"tools/bench/run: error: --set: {e}", file=sys.stderr)
        return 2
    reporter = Reporter()
    root = Path(tempfile.mkdtemp(prefix="parlour-bench-"))
    started = time.monotonic()
    try:
        try:
            import uvloop
        except ImportError:
            ok = asyncio.run(run_all(args, reporter, root))
        else:
            ok = uvloop.run(run_all(args, reporter, root))
    finally:
        if args.keep:
            reporter.note(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    print("\n" + reporter.table(), file=sys.stderr)
    busiest = max((r.get("load_avg_1m", 0.0) for r in reporter.records), default=0.0)
    if busiest > (os.cpu_count() or 1):
        reporter.note(
            f"the machine was busy (1-minute load up to {busiest} on {os.cpu_count()} cores): "
            "other work skewed these figures"
        )
    reporter.note(f"done in {time.monotonic() - started:.0f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
