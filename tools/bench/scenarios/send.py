"""send: acknowledged messages per second and their latency, with C concurrent senders.

Each sender is its own user on its own keep-alive connection and sends its share of the
messages one after another; latency is from writing a request to reading its whole 202.
parlour and the baseline POST endpoint (baseline_post.py) alternate at each C, in one run,
so the ratio compares them under the same conditions.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

from bench import procs
from bench.context import Context
from bench.http1 import Connection, HttpError, build_request
from bench.load import Target, targets_of
from bench.report import measurement
from bench.stats import latency_ms, rate

WARMUP_PER_SENDER = 3


async def measure(targets: list[Target], cookies: list[str | None], total: int) -> dict[str, Any]:
    """Send `total` messages through len(cookies) senders, sender i to targets[i % len]
    (the processes of one group, round robin); the figures."""
    senders = len(cookies)
    mine = [targets[i % len(targets)] for i in range(senders)]
    conns = [await Connection.open(t.host, t.port) for t in mine]
    latencies: list[float] = []
    errors: Counter[str] = Counter()

    def request(i: int, n: int) -> bytes:
        body = b'{"body":"send %d from sender %d"}' % (n, i)
        host = f"{mine[i].host}:{mine[i].port}"
        return build_request("POST", mine[i].post_path, host, body=body, cookie=cookies[i])

    async def sender(i: int, count: int, record: bool) -> None:
        conn = conns[i]
        for n in range(count):
            try:
                response = await conn.send(request(i, n))
            except (HttpError, TimeoutError) as e:
                errors[type(e).__name__] += 1
                conn = conns[i] = await Connection.open(mine[i].host, mine[i].port)
                continue
            if response.status != 202:
                errors[str(response.status)] += 1
            elif record:
                latencies.append(response.seconds)

    try:
        await asyncio.gather(*(sender(i, WARMUP_PER_SENDER, False) for i in range(senders)))
        errors.clear()
        shares = [total // senders + (1 if i < total % senders else 0) for i in range(senders)]
        started = time.monotonic()
        await asyncio.gather(*(sender(i, shares[i], True) for i in range(senders)))
        seconds = time.monotonic() - started
    finally:
        for conn in conns:
            await conn.close()
    return {
        "messages_per_s": rate(len(latencies), seconds),
        **latency_ms(latencies),
        "acknowledged": len(latencies),
        "seconds": round(seconds, 3),
        "errors_total": sum(errors.values()),
        "errors": dict(errors),
    }


async def run(ctx: Context) -> None:
    sizes = ctx.sizes
    template = await ctx.workspace.template(max(sizes.send_senders), 0)
    community = template.community
    folder = ctx.workspace.folder("baseline-post")
    command = procs.baseline_command("baseline_post.py", "--database", str(folder / "base.db"))
    async with procs.Running() as running:
        baseline = running.add(await procs.start(command, folder, "baseline-post"))
        groups = [
            running.add(await ctx.workspace.start_parlour(template, f"send-{n}p", processes=n))
            for n in ctx.processes
        ]
        base_target = Target("baseline-post", baseline.host, baseline.port)
        for senders in sizes.send_senders:
            params = {"senders": senders, "messages": sizes.send_messages}
            ctx.reporter.note(f"send: {senders} senders, {sizes.send_messages} messages")
            meter = procs.CpuMeter(baseline)
            base_figures = await measure([base_target], [None] * senders, sizes.send_messages)
            base_figures |= meter.figures()
            base_figures["server_problems"] = ctx.problems(baseline)
            ctx.reporter.emit(
                measurement("baseline", "baseline-post", {"for": "send", **params}, base_figures)
            )
            cookies: list[str | None] = [m.cookie for m in community.senders[:senders]]
            for group in groups:
                meter = ctx.cpu_meter(group)
                figures = await measure(targets_of(group, community.channel), cookies,
                                        sizes.send_messages)  # fmt: skip
                figures |= meter.figures()
                figures["server_problems"] = ctx.problems(group)
                ctx.reporter.emit(
                    measurement("send", "parlour", params | ctx.server_params(group), figures,
                                base_figures, ("messages_per_s", "p50_ms", "p99_ms"))
                )  # fmt: skip
