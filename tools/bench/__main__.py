"""`tools/bench/run`: parse the options, run the scenarios, print the lines and the table.

Every scenario runs under a time limit; one that fails or overruns prints a line with an
`error` and the run goes on. The exit status is 1 if any scenario could not measure, else 0:
slow figures never fail the run (the suite measures, it does not assert).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
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
from bench.report import Reporter
from bench.scenarios import boot, fanout, idle, resume, send

SCENARIOS: dict[str, Callable[[Context], Awaitable[None]]] = {
    "send": send.run,
    "fanout": fanout.run,
    "boot": boot.run,
    "resume": resume.run,
    "idle": idle.run,
}
# `baseline` is measured inside send, fanout and idle (side by side with parlour); asking
# for it alone runs those three.
BASELINE_SCENARIOS = ("send", "fanout", "idle")
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
        "--database-url",
        help="reserved for PostgreSQL: every server gets --database URL (the caller provides "
        "the database; nothing is copied, messages are seeded through the API)",
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


def run_record(args: argparse.Namespace, names: list[str], fd_limit: int) -> dict[str, Any]:
    """The first line: when, where and what was measured."""
    return {
        "scenario": "run",
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "commit": _git("rev-parse", "HEAD"),
        "dirty": bool(_git("status", "--porcelain", "--", "src")),
        "machine": {
            "host": platform.node(),
            "cpu": _cpu_model(),
            "cores": os.cpu_count(),
            "kernel": platform.release(),
            "python": platform.python_version(),
        },
        "quick": args.quick,
        "scenarios": names,
        "seed": args.seed,
        "database_url": bool(args.database_url),
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
    reporter.emit(run_record(args, names, fd_limit))
    ctx = Context(sizes, Workspace(root, args.database_url, reporter.note), reporter, args.seed)
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
