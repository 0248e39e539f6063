"""History (issue 12): boot as the web client calls it, and history pages, on deep history.

`history_boot`: `GET /api/boot?messages=N` as the web client calls it (its BOOT_MESSAGES)
on two servers side by side, one with 10,000 and one with 1,000,000 retained messages
spread over 100 channels.
The requests alternate between the two servers (and which goes first), so that both see the
same machine, whatever else runs on it. Measured twice: with every message unread for the
booting user (an admin who never read: the unread counts then span all of history), and
after that user has read every channel (`POST /api/channels/{id}/read` up to the newest).
Also measured at the largest `messages=N` whose answer fits in 256 KiB, computed from the
bytes each message costs in the answer. Bytes are the JSON as sent (parlour does not
compress); `gzip_bytes` says what a compressed answer would weigh.

`history_page`: a page of 50 at the newest end (no `before`) and at the oldest end (`before`
the 51st oldest message: the last page a reader scrolling up loads; and `after=0`) of one
channel holding 1,000,000 messages, the requests alternating between the ends.

Messages are seeded into the stopped server's file (seed.py); the 100 channels are made
through the API. Times are from writing the request to reading the whole answer, on one
keep-alive connection per server; the first few requests warm the caches and are not
counted. A boot measurement stops early after `history_boot_seconds` (with at least two
rounds): a boot that takes seconds is reported on fewer samples (`samples`).
"""

from __future__ import annotations

import gzip
import math
import re
import time
from pathlib import Path
from typing import Any

from bench import api, procs, seed
from bench.community import Template
from bench.context import Context
from bench.http1 import Connection, Response
from bench.procs import Group
from bench.report import measurement
from bench.scenarios.retained import seeded
from bench.stats import latency_ms


def _web_client_boot() -> int:
    """The `messages=N` the web client asks boot for: read from its source, so that the
    benchmark measures the client's call as it is (src/parlour/static/app.js)."""
    source = (Path(__file__).resolve().parents[3] / "src/parlour/static/app.js").read_text()
    found = re.search(r"^const BOOT_MESSAGES = (\d+);", source, re.MULTILINE)
    assert found, "BOOT_MESSAGES not found in app.js"
    return int(found.group(1))


WEB_CLIENT_BOOT = _web_client_boot()
MAX_BOOT_BYTES = 256 * 1024
PAGE = 50
WARM_UP = 3
READ_STATES = ("all unread", "all read")

_channel_templates: dict[int, tuple[Template, list[str]]] = {}
_seeded_channels: dict[tuple[int, int], tuple[Template, list[str], float]] = {}


async def channels_template(ctx: Context, count: int) -> tuple[Template, list[str]]:
    """The one-sender community with `count` channels (its own and count - 1 more, made
    through the API), and their ids."""
    if count not in _channel_templates:
        base = await ctx.workspace.template(1, 0)
        template = ctx.workspace.seeded_copy(base, f"channels-{count}")
        ctx.reporter.note(f"making {count} channels through the API")
        folder = ctx.workspace.folder(f"making-channels-{count}")
        # On the template's file itself, whatever the run's store (see community.py).
        server = await procs.start(procs.parlour_command(template.database), folder, "parlour")
        try:
            conn = await Connection.open(server.host, server.port)
            try:
                admin = template.community.admin
                made = [
                    await api.create_channel(conn, admin, f"history-{n:03d}")
                    for n in range(1, count)
                ]
            finally:
                await conn.close()
        finally:
            status = await server.stop()
        if status != 0:
            raise RuntimeError(f"the server making channels exited with {status}")
        _channel_templates[count] = (template, [template.community.channel, *made])
    return _channel_templates[count]


async def seeded_channels(
    ctx: Context, channels: int, messages: int
) -> tuple[Template, list[str], float]:
    """A template with `messages` messages spread over `channels` channels (made once)."""
    key = (channels, messages)
    if key not in _seeded_channels:
        base, ids = await channels_template(ctx, channels)
        copy = ctx.workspace.seeded_copy(base, f"history-{messages}")
        ctx.reporter.note(f"seeding {messages:,} messages in {channels} channels")
        sender = base.community.senders[0].id
        _seeded_channels[key] = (copy, ids, seed.seed_channels(copy, ids, messages, sender))
    return _seeded_channels[key]


async def get(conn: Connection, path: str, cookie: str) -> Response:
    response = await conn.request("GET", path, cookie=cookie, limit_seconds=120)
    if response.status != 200:
        raise RuntimeError(f"GET {path} answered {response.status}: {response.body[:300]!r}")
    return response


async def mark_all_read(server: Group, cookie: str, channels: list[str]) -> None:
    """Move the user's read position to the newest sequence in every channel."""
    conn = await Connection.open(server.host, server.port)
    try:
        newest = (await get(conn, "/api/boot?messages=0", cookie)).json()["resume_point"]
        for channel in channels:
            response = await conn.request(
                "POST", f"/api/channels/{channel}/read", json_body={"seq": newest}, cookie=cookie
            )
            if response.status != 202:
                raise RuntimeError(f"marking {channel} read answered {response.status}")
    finally:
        await conn.close()


def cpu_ms(server: Group, before: float, requests: int) -> float:
    """The server's CPU time per request since `before` (its CPU seconds then), in ms: what
    a request costs the server, less swayed than its latency by other work on the machine
    (SQLite runs in the server's process; PostgreSQL's own work is not in it)."""
    return round((server.cpu_seconds() - before) * 1000 / max(requests, 1), 2)


def fitting_count(empty_bytes: int, full_bytes: int, messages: int, channels: int) -> int:
    """The largest messages=N whose boot fits in MAX_BOOT_BYTES, from the bytes an answer
    weighs without messages and with `messages` of them."""
    per_message = (full_bytes - empty_bytes) / max(messages, 1)
    return max(0, math.floor((MAX_BOOT_BYTES - empty_bytes) / (per_message * channels)))


async def run_boot(ctx: Context) -> None:
    sizes = ctx.sizes
    channels = sizes.history_channels
    totals = list(sizes.history_boot_messages)
    made = [await seeded_channels(ctx, channels, total) for total in totals]
    servers: list[Group] = []
    conns: list[Connection] = []
    try:
        for total, (template, _, _) in zip(totals, made, strict=True):
            ctx.reporter.note(f"history_boot: {total:,} messages in {channels} channels")
            servers.append(await ctx.workspace.start_parlour(template, f"history-boot-{total}"))
        conns = [await Connection.open(s.host, s.port) for s in servers]
        admin = made[0][0].community.admin.cookie
        # What one message costs in the answer, from the largest server's boots.
        empty = len((await get(conns[-1], "/api/boot?messages=0", admin)).body)
        full = await get(conns[-1], f"/api/boot?messages={WEB_CLIENT_BOOT}", admin)
        fits = fitting_count(empty, len(full.body), len(full.json()["messages"]), channels)
        counts = [WEB_CLIENT_BOOT] + ([fits] if fits < WEB_CLIENT_BOOT else [])
        for state in READ_STATES:
            if state == "all read":
                for server, (_, ids, _) in zip(servers, made, strict=True):
                    await mark_all_read(server, admin, ids)
            for count in counts:
                await measure_boots(ctx, servers, conns, made, totals, count, state, admin, fits)
    finally:
        for conn in conns:
            await conn.close()
        for server in servers:
            await server.stop()


async def measure_boots(
    ctx: Context,
    servers: list[Group],
    conns: list[Connection],
    made: list[tuple[Template, list[str], float]],
    totals: list[int],
    count: int,
    state: str,
    cookie: str,
    fits: int,
) -> None:
    """Boots of every server, alternating, and one measurement line per server."""
    path = f"/api/boot?messages={count}"
    times: list[list[float]] = [[] for _ in servers]
    last: list[Response | None] = [None for _ in servers]
    cpu: list[float] = []
    deadline = math.inf
    for round_ in range(WARM_UP + ctx.sizes.history_boot_repeats):
        if round_ == WARM_UP:
            cpu = [server.cpu_seconds() for server in servers]
            deadline = time.monotonic() + ctx.sizes.history_boot_seconds
        elif round_ > WARM_UP + 1 and time.monotonic() > deadline:
            break
        order = range(len(servers)) if round_ % 2 == 0 else reversed(range(len(servers)))
        for i in order:
            response = await get(conns[i], path, cookie)
            if round_ >= WARM_UP:
                times[i].append(response.seconds)
            last[i] = response
    smallest: dict[str, Any] = {}
    for i, server in enumerate(servers):
        response = last[i]
        assert response is not None
        snapshot = response.json()
        figures: dict[str, Any] = latency_ms(times[i])
        if i == 0:
            smallest = figures
        figures |= {
            "p50_vs_smallest": round(figures["p50_ms"] / smallest["p50_ms"], 3),
            "server_cpu_ms": cpu_ms(server, cpu[i], len(times[i])),
            "bytes": len(response.body),
            "gzip_bytes": len(gzip.compress(response.body, 6)),
            "messages_in_boot": len(snapshot["messages"]),
            "channels": len(snapshot["channels"]),
            "unread_total": sum(r["unread"] for r in snapshot.get("reads", {}).values()),
            "largest_count_within_256_kib": fits,
            "seed_seconds": round(made[i][2], 2),
            "server_rss_kib": server.rss_kib(),
            "server_problems": ctx.problems(server),
        }
        params = {
            "messages": totals[i],
            "channels": ctx.sizes.history_channels,
            "per_channel": count,
            "client": count == WEB_CLIENT_BOOT,
            "reads": state,
        } | ctx.server_params(server)
        ctx.reporter.emit(measurement("history_boot", "parlour", params, figures))


async def run_pages(ctx: Context) -> None:
    sizes = ctx.sizes
    total = sizes.history_page_messages
    template, seed_seconds, method = await seeded(ctx, total)
    channel = template.community.channel
    cookie = template.community.admin.cookie
    ctx.reporter.note(f"history_page: a channel of {total:,} messages")
    server = await ctx.workspace.start_parlour(template, "history-page")
    try:
        conn = await Connection.open(server.host, server.port)
        try:
            base = f"/api/channels/{channel}/messages"
            oldest = (await get(conn, f"{base}?after=0&limit={PAGE + 1}", cookie)).json()
            below = oldest["messages"][-1]["seq"]
            ends = {
                "newest": (f"{base}?limit={PAGE}", (True, False)),
                "oldest (before)": (f"{base}?before={below}&limit={PAGE}", (False, True)),
                "oldest (after=0)": (f"{base}?after=0&limit={PAGE}", (False, True)),
            }
            times: dict[str, list[float]] = {end: [] for end in ends}
            sizes_in_bytes: dict[str, int] = {}
            names = list(ends)
            cpu = 0.0
            for round_ in range(WARM_UP + sizes.history_page_repeats):
                if round_ == WARM_UP:
                    cpu = server.cpu_seconds()
                shift = round_ % len(names)
                for end in names[shift:] + names[:shift]:
                    path, flags = ends[end]
                    response = await get(conn, path, cookie)
                    page = response.json()
                    shape = (len(page["messages"]), page["older"], page["newer"])
                    if shape != (PAGE, *flags):
                        raise RuntimeError(f"{end}: (messages, older, newer) = {shape}")
                    if round_ >= WARM_UP:
                        times[end].append(response.seconds)
                    sizes_in_bytes[end] = len(response.body)
        finally:
            await conn.close()
        # The ends alternate, so each one's share of the CPU is not known apart.
        per_page = cpu_ms(server, cpu, sum(len(t) for t in times.values()))
        newest = latency_ms(times["newest"])
        for end in names:
            figures: dict[str, Any] = latency_ms(times[end])
            figures |= {
                "p99_vs_newest": round(figures["p99_ms"] / newest["p99_ms"], 3),
                "p50_vs_newest": round(figures["p50_ms"] / newest["p50_ms"], 3),
                "bytes": sizes_in_bytes[end],
                "server_cpu_ms_any_end": per_page,
                "seed_method": method,
                "seed_seconds": round(seed_seconds, 2),
                "server_rss_kib": server.rss_kib(),
                "server_problems": ctx.problems(server),
            }
            params = {"messages": total, "end": end, "limit": PAGE} | ctx.server_params(server)
            ctx.reporter.emit(measurement("history_page", "parlour", params, figures))
    finally:
        await server.stop()
