"""resume: how long a stream opened at resume point 0 takes to deliver N retained events.

The clock runs from writing the GET to the read that brings the event whose id is the boot's
resume point (the newest); every id must arrive once, in increasing order.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from bench import api
from bench.context import Context
from bench.http1 import Connection
from bench.load import Target
from bench.report import measurement
from bench.scenarios.retained import seeded
from bench.sse import open_stream
from bench.stats import median

TIMEOUT_SECONDS = 120.0


class Replay:
    """Counts one stream's events until the newest one arrives."""

    def __init__(self, newest: int) -> None:
        self.newest = newest
        self.count = 0
        self.last = 0
        self.in_order = True
        self.finished_at = 0.0
        self.finished = asyncio.Event()

    def on_frame(self, seq: int | None, event: bytes | None, data: bytes, at: float) -> None:
        if seq is None:
            return
        self.count += 1
        if seq <= self.last:
            self.in_order = False
        self.last = seq
        if seq >= self.newest and not self.finished.is_set():
            self.finished_at = at
            self.finished.set()


async def measure(target: Target, cookie: str, newest: int) -> dict[str, Any]:
    replay = Replay(newest)
    reader = await open_stream(
        target.host, target.port, target.events_path(0), replay.on_frame, cookie=cookie
    )
    try:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(TIMEOUT_SECONDS):
                await replay.finished.wait()
    finally:
        reader.close()
    seconds = replay.finished_at - reader.sent_at if replay.finished.is_set() else None
    return {
        "seconds": round(seconds, 4) if seconds is not None else None,
        "events": replay.count,
        "complete": replay.finished.is_set() and replay.in_order and replay.count == newest,
        "in_order": replay.in_order,
    }


async def run(ctx: Context) -> None:
    messages = ctx.sizes.resume_events
    template, seed_seconds, method = await seeded(ctx, messages)
    admin = template.community.admin
    ctx.reporter.note(f"resume: {messages:,} messages")
    server = await ctx.workspace.start_parlour(template, "resume")
    try:
        conn = await Connection.open(server.host, server.port)
        try:
            snapshot, _, _ = await api.boot(conn, admin)
        finally:
            await conn.close()
        newest = int(snapshot["resume_point"])
        target = Target("parlour", server.host, server.port, template.community.channel)
        runs = [
            await measure(target, admin.cookie, newest) for _ in range(ctx.sizes.resume_repeats)
        ]
        times = [r["seconds"] for r in runs if r["seconds"] is not None]
        figures: dict[str, Any] = {
            "seconds": round(median(times), 4) if times else None,
            "all_seconds": [r["seconds"] for r in runs],
            "events": runs[-1]["events"],
            "expected_events": newest,
            "events_per_s": round(newest / median(times)) if times else None,
            "complete": all(r["complete"] for r in runs),
            "seed_method": method,
            "seed_seconds": round(seed_seconds, 2),
            "server_rss_kib": server.rss_kib(),
            "server_problems": ctx.problems(server),
        }
        params = {"messages": messages} | ctx.server_params(server)
        ctx.reporter.emit(measurement("resume", "parlour", params, figures))
    finally:
        await server.stop()
