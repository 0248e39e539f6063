"""boot: how long GET /api/boot takes, and how big it is, with N retained messages.

The first boot after start-up is reported apart from the median of the repeats: it pays for
cold caches (SQLite pages, the reader threads' connections).
"""

from __future__ import annotations

from bench import api
from bench.context import Context
from bench.http1 import Connection
from bench.report import measurement
from bench.scenarios.retained import seeded
from bench.stats import median


async def run(ctx: Context) -> None:
    for messages in ctx.sizes.boot_messages:
        template, seed_seconds, method = await seeded(ctx, messages)
        admin = template.community.admin
        ctx.reporter.note(f"boot: {messages:,} messages")
        server = await ctx.workspace.start_parlour(template, f"boot-{messages}")
        try:
            conn = await Connection.open(server.host, server.port)
            try:
                times: list[float] = []
                for _ in range(ctx.sizes.boot_repeats):
                    snapshot, size, seconds = await api.boot(conn, admin)
                    times.append(seconds)
            finally:
                await conn.close()
            figures = {
                "seconds": round(median(times[1:] or times), 4),
                "first_seconds": round(times[0], 4),
                "all_seconds": [round(t, 4) for t in times],
                "bytes": size,
                "messages_in_boot": len(snapshot["messages"]),
                "resume_point": snapshot["resume_point"],
                "seed_method": method,
                "seed_seconds": round(seed_seconds, 2),
                "server_rss_kib": server.rss_kib(),
                "server_problems": ctx.problems(server),
            }
            params = {"messages": messages} | ctx.server_params(server)
            ctx.reporter.emit(measurement("boot", "parlour", params, figures))
        finally:
            await server.stop()
