"""idle: the server's memory with 0, 1,000 and 10,000 open, silent streams, and heartbeats.

Memory is VmRSS from /proc/PID/status; the cost of a stream is the growth over the server
with no stream (after one stream was opened and closed, so that lazily loaded code counts
in the base), divided by the streams held. The server runs with a short `--heartbeat`, and
after two intervals every stream must have heard a heartbeat within the last two: proof
that the server keeps all of them alive, not just holds their sockets. Streams share the
fan-out community's sessions (10,000 argon2id logins would take half an hour here).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench import api, procs
from bench.context import Context
from bench.load import Target, close_streams, open_streams, targets_of
from bench.procs import Group, Server
from bench.report import measurement
from bench.sse import SseReader, ignore_frame

SETTLE_SECONDS = 1.0


async def measure(
    ctx: Context, server: Server | Group, targets: list[Target], cookies: list[str | None]
) -> list[dict[str, Any]]:
    """Figures at each level of ctx.sizes.idle_streams, the first for no stream at all.

    Stream k uses session k mod the sessions, on process k mod the processes; with several
    processes, memory is their sum."""
    heartbeat = ctx.sizes.heartbeat_seconds
    readers: list[SseReader] = []
    try:
        for n in range(len(targets)):
            close_streams(await open_streams(targets, cookies, [ignore_frame], first=n))
        await asyncio.sleep(SETTLE_SECONDS)
        base = server.rss_kib()
        results: list[dict[str, Any]] = [{"streams": 0, "rss_kib": base}]
        for level in ctx.sizes.idle_streams:
            opening = time.monotonic()
            more = level - len(readers)
            readers += await open_streams(
                targets, cookies, [ignore_frame] * more, first=len(readers)
            )
            open_seconds = time.monotonic() - opening
            # Two heartbeat intervals after the last stream opened, every stream has had one.
            await asyncio.sleep(2 * heartbeat + SETTLE_SECONDS)
            now = time.monotonic()
            rss = server.rss_kib()
            open_now = [r for r in readers if r.is_open]
            beating = [r for r in open_now if now - r.last_heartbeat_at <= 2 * heartbeat]
            results.append({
                "streams": level,
                "rss_kib": rss,
                "kib_per_stream": round((rss - base) / level, 2),
                "streams_open": len(open_now),
                "streams_with_heartbeat": len(beating),
                "open_seconds": round(open_seconds, 3),
                "streams_opened_per_s": round(more / open_seconds) if open_seconds else None,
            })  # fmt: skip
        return results
    finally:
        close_streams(readers)


async def run(ctx: Context) -> None:
    template = await ctx.workspace.template(1, ctx.fanout_readers)
    community = template.community
    heartbeat = ctx.sizes.heartbeat_seconds
    folder = ctx.workspace.folder("baseline-sse-idle")
    command = procs.baseline_command("baseline_sse.py", "--heartbeat", str(heartbeat))
    async with procs.Running() as running:
        baseline = running.add(await procs.start(command, folder, "baseline-sse"))
        ctx.reporter.note(f"idle: baseline, {ctx.sizes.idle_streams} streams")
        base_levels = await measure(
            ctx, baseline, [Target("baseline-sse", baseline.host, baseline.port)], [None]
        )
        for base_figures in base_levels:
            params = {"streams": base_figures["streams"], "heartbeat_seconds": heartbeat}
            base_figures["server_problems"] = ctx.problems(baseline)
            ctx.reporter.emit(
                measurement("baseline", "baseline-sse", {"for": "idle", **params}, base_figures)
            )
        await baseline.stop()
        for n in ctx.processes:
            # One group at a time: the memory measured is that of the processes measured.
            async with procs.Running() as group_running:
                group = group_running.add(
                    await ctx.workspace.start_parlour(
                        template, f"idle-{n}p", "--heartbeat", f"{heartbeat}s", processes=n
                    )
                )
                newest = await api.newest_event(group.host, group.port, community.admin)
                targets = targets_of(group, community.channel, newest)
                ctx.reporter.note(f"idle: parlour, {n} processes, {ctx.sizes.idle_streams} streams")
                levels = await measure(ctx, group, targets, [m.cookie for m in community.readers])
                problems = ctx.problems(group)
                for base_figures, figures in zip(base_levels, levels, strict=True):
                    params = {"streams": figures["streams"], "heartbeat_seconds": heartbeat}
                    figures["server_problems"] = problems
                    problems = 0
                    compared = base_figures if figures["streams"] else None
                    ctx.reporter.emit(
                        measurement("idle", "parlour", params | ctx.server_params(group),
                                    figures, compared, ("kib_per_stream",))
                    )  # fmt: skip
