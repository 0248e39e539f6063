"""fanout: one sender, S subscribers; how fast and how completely every message reaches all.

Each subscriber has its own session and /api/events stream, opened at the current resume
point. A warm-up message proves every stream is live before the clock starts. Then one
sender (one user, one session) posts at a fixed rate, open loop (paced), or as fast as the
server acknowledges with a window of requests in flight (unpaced). Latency runs from the
write of the POST to the read that delivered the event, both in this process
(time.monotonic). Each subscriber must get every acknowledged message exactly once, with
increasing ids, all subscribers in the same order.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from typing import Any

from bench import api, procs
from bench.context import Context
from bench.http1 import Connection, HttpError, build_request
from bench.load import Target, close_streams, open_streams, targets_of
from bench.report import measurement
from bench.stats import latency_ms, rate

BODY_MARK = b'"body":"'
WARM_TIMEOUT_SECONDS = 30.0
# How long to wait for the last deliveries after the last acknowledgement.
DRAIN_TIMEOUT_SECONDS = 15.0
# Requests a paced sender may have awaiting answers (one connection each) before it waits:
# at 20 messages/s this allows 800 ms answers without falling behind.
MAX_IN_FLIGHT = 16


class Round:
    """Shared by the subscribers of one measurement: who is live, who has everything."""

    def __init__(self, subscribers: int, expected: int) -> None:
        self.subscribers = subscribers
        self.expected = expected
        self.warm = 0
        self.done = 0
        self.all_warm = asyncio.Event()
        self.all_done = asyncio.Event()


class Subscriber:
    """Records, for one stream, which message arrived, with which id, at what time."""

    __slots__ = ("numbers", "process", "round", "seqs", "times", "warm")

    def __init__(self, round_: Round, process: int = 0) -> None:
        self.round = round_
        self.process = process  # which of the group's processes serves this stream
        self.numbers: list[int] = []
        self.seqs: list[int] = []
        self.times: list[float] = []
        self.warm = False

    def on_frame(self, seq: int | None, event: bytes | None, data: bytes, at: float) -> None:
        # Bodies are "m" or "w" then 7 digits; finding them beats decoding the JSON, which
        # would make the load generator the bottleneck at 1,000 streams.
        i = data.find(BODY_MARK)
        if seq is None or i < 0:
            return
        i += len(BODY_MARK)
        kind = data[i : i + 1]
        if kind == b"m":
            self.numbers.append(int(data[i + 1 : i + 8]))
            self.seqs.append(seq)
            self.times.append(at)
            if len(self.numbers) == self.round.expected:
                self.round.done += 1
                if self.round.done == self.round.subscribers:
                    self.round.all_done.set()
        elif kind == b"w" and not self.warm:
            self.warm = True
            self.round.warm += 1
            if self.round.warm == self.round.subscribers:
                self.round.all_warm.set()


async def _wait(event: asyncio.Event, seconds: float) -> bool:
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()
    return event.is_set()


class Sender:
    """One user posting messages; records when each acknowledged message was written."""

    def __init__(self, target: Target, cookie: str | None) -> None:
        self.target = target
        self.cookie = cookie
        self.host = f"{target.host}:{target.port}"
        self.sent: dict[int, float] = {}
        self.latencies: list[float] = []
        self.errors: Counter[str] = Counter()
        self.idle: list[Connection] = []
        self.connections = 0
        self.in_flight = 0
        self.in_flight_max = 0

    async def connection(self) -> Connection:
        if self.idle:
            return self.idle.pop()
        self.connections += 1
        return await Connection.open(self.target.host, self.target.port)

    def path_for(self, number: int) -> str:
        """Where message `number` goes: the target's channel (scenarios/private.py spreads
        them over several)."""
        return self.target.post_path

    async def post(self, body: bytes, path: str | None = None) -> None:
        """POST one message on an idle connection (a new one if none is idle)."""
        self.in_flight += 1
        self.in_flight_max = max(self.in_flight_max, self.in_flight)
        data = build_request("POST", path or self.target.post_path, self.host,
                             body=b'{"body":"%s"}' % body, cookie=self.cookie)  # fmt: skip
        try:
            conn = await self.connection()
            try:
                response = await conn.send(data)
            except (HttpError, TimeoutError) as e:
                self.errors[type(e).__name__] += 1
                await conn.close()
                return
        finally:
            self.in_flight -= 1
        self.idle.append(conn)
        if response.status != 202:
            self.errors[str(response.status)] += 1
        elif body[:1] == b"m":
            self.sent[int(body[1:])] = response.sent_at
            self.latencies.append(response.seconds)

    async def paced(self, count: int, per_second: float) -> float:
        """Open loop: each message goes at its time, on another connection if the previous
        one still awaits its answer, so a slow answer never delays the next send (no
        coordinated omission). Returns the latest any send started, in seconds."""
        started = time.monotonic()
        lag = 0.0
        pending: set[asyncio.Task[None]] = set()
        for n in range(count):
            delay = started + n / per_second - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                lag = max(lag, -delay)
            if len(pending) >= MAX_IN_FLIGHT:
                await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            task = asyncio.create_task(self.post(b"m%07d" % n, self.path_for(n)))
            pending.add(task)
            task.add_done_callback(pending.discard)
        if pending:
            await asyncio.wait(pending)
        return lag

    async def unpaced(self, count: int, window: int) -> None:
        """Closed loop with `window` requests in flight: as fast as the server answers."""
        numbers = iter(range(count))

        async def worker() -> None:
            for n in numbers:
                await self.post(b"m%07d" % n, self.path_for(n))

        await asyncio.gather(*(worker() for _ in range(window)))

    async def close(self) -> None:
        for conn in self.idle:
            await conn.close()


async def measure(
    targets: list[Target],
    sender_cookie: str | None,
    reader_cookies: list[str | None],
    *,
    count: int,
    per_second: float | None,
    window: int = 1,
) -> dict[str, Any]:
    """Deliver `count` messages to len(reader_cookies) streams; paced when per_second is set.

    The sender posts to targets[0]; stream i reads from targets[i % len(targets)], so with
    several processes most deliveries cross from one process to another."""
    subscribers = len(reader_cookies)
    round_ = Round(subscribers, count)
    subs = [Subscriber(round_, i % len(targets)) for i in range(subscribers)]
    opening = time.monotonic()
    readers = await open_streams(targets, reader_cookies, [s.on_frame for s in subs])
    open_seconds = time.monotonic() - opening
    sender = Sender(targets[0], sender_cookie)
    lag: float | None = None
    try:
        await sender.post(b"w0000000")
        warm = await _wait(round_.all_warm, WARM_TIMEOUT_SECONDS)
        started = time.monotonic()
        if per_second is not None:
            lag = await sender.paced(count, per_second)
        else:
            await sender.unpaced(count, window)
        send_seconds = time.monotonic() - started
        await _wait(round_.all_done, DRAIN_TIMEOUT_SECONDS)
        await asyncio.sleep(0.1)  # a duplicate or a straggler would arrive now
        lost = sum(1 for reader in readers if reader.ended.done())
    finally:
        close_streams(readers)
        await sender.close()
    figures = _analyse(subs, sender.sent)
    if len(targets) > 1:
        # Streams on the sender's process hear of a message directly; the others through
        # PostgreSQL's NOTIFY and a read of the tables.
        figures["latency_by_process"] = [
            {"process": n, "same_as_sender": n == 0,
             **latency_ms(_latencies([s for s in subs if s.process == n], sender.sent))}
            for n in range(len(targets))
        ]  # fmt: skip
    post = latency_ms(sender.latencies)
    figures.update(
        warm=warm and round_.warm == subscribers,
        streams_lost=lost,
        open_seconds=round(open_seconds, 3),
        sent=len(sender.sent),
        send_errors=sum(sender.errors.values()),
        send_errors_by_kind=dict(sender.errors),
        send_per_s=rate(len(sender.sent), send_seconds),
        post_p50_ms=post["p50_ms"],
        post_p99_ms=post["p99_ms"],
        sender_connections=sender.connections,
        in_flight_max=sender.in_flight_max,
    )
    if lag is not None:
        figures["send_lag_max_ms"] = round(lag * 1000, 3)
    return figures


def _latencies(subs: list[Subscriber], sent: dict[int, float]) -> list[float]:
    return [
        at - sent[n]
        for sub in subs
        for n, at in zip(sub.numbers, sub.times, strict=True)
        if n in sent
    ]


def _analyse(subs: list[Subscriber], sent: dict[int, float]) -> dict[str, Any]:
    """Every subscriber must hold every acknowledged message once, ids increasing
    (docs/api/events.md, guarantee 2), and all in the same order: the order the server
    committed them in."""
    acknowledged = set(sent)
    latencies: list[float] = []
    missing = duplicates = unexpected = out_of_order = incomplete = 0
    reference: list[int] | None = None
    other_order = 0
    last_receipt = 0.0
    for sub in subs:
        got = set(sub.numbers)
        sub_missing = len(acknowledged - got)
        sub_duplicates = len(sub.numbers) - len(got)
        increasing = all(a < b for a, b in zip(sub.seqs, sub.seqs[1:], strict=False))
        if not sub_missing and not sub_duplicates:
            reference = reference or sub.numbers
            if sub.numbers != reference:
                other_order += 1
                increasing = False
        missing += sub_missing
        duplicates += sub_duplicates
        unexpected += len(got - acknowledged)
        out_of_order += 0 if increasing else 1
        incomplete += 1 if sub_missing or sub_duplicates or not increasing else 0
        for n, at in zip(sub.numbers, sub.times, strict=True):
            if n in sent:
                latencies.append(at - sent[n])
        if sub.times:
            last_receipt = max(last_receipt, sub.times[-1])
    deliveries = sum(len(sub.numbers) for sub in subs)
    span = last_receipt - min(sent.values()) if sent and last_receipt else 0.0
    return {
        "deliveries_per_s": rate(deliveries, span),
        **latency_ms(latencies),
        "deliveries": deliveries,
        "expected_deliveries": len(sent) * len(subs),
        "complete": incomplete == 0 and len(sent) > 0,
        "subscribers_incomplete": incomplete,
        "missing": missing,
        "duplicates": duplicates,
        "unacknowledged_received": unexpected,
        "subscribers_out_of_order": out_of_order,
        "subscribers_in_another_order": other_order,
    }


async def run(ctx: Context) -> None:
    sizes = ctx.sizes
    template = await ctx.workspace.template(1, ctx.fanout_readers)
    community = template.community
    paced_count = round(sizes.fanout_rate * sizes.fanout_seconds)
    runs: list[tuple[int, int, float | None, int]] = [
        (s, paced_count, sizes.fanout_rate, 1) for s in sizes.fanout_subscribers
    ]
    runs.append((sizes.unpaced_subscribers, sizes.unpaced_messages, None, sizes.unpaced_window))
    folder = ctx.workspace.folder("baseline-sse")
    async with procs.Running() as running:
        command = procs.baseline_command("baseline_sse.py")
        baseline = running.add(await procs.start(command, folder, "baseline-sse"))
        groups = [
            running.add(await ctx.workspace.start_parlour(template, f"fanout-{n}p", processes=n))
            for n in ctx.processes
        ]
        base_target = Target("baseline-sse", baseline.host, baseline.port)
        for subscribers, count, per_second, window in runs:
            params: dict[str, Any] = {"subscribers": subscribers, "messages": count}
            params |= {"paced": per_second is not None}
            params |= {"per_second": per_second} if per_second else {"window": window}
            ctx.reporter.note(f"fanout: {params}")
            meter = procs.CpuMeter(baseline)
            base_figures = await measure(
                [base_target], None, [None] * subscribers, count=count, per_second=per_second,
                window=window,
            )  # fmt: skip
            base_figures |= meter.figures()
            base_figures["server_problems"] = ctx.problems(baseline)
            ctx.reporter.emit(
                measurement("baseline", "baseline-sse", {"for": "fanout", **params}, base_figures)
            )
            for group in groups:
                # Streams open at the newest event, so no earlier round's messages are
                # replayed.
                resume_point = await api.newest_event(group.host, group.port, community.admin)
                meter = ctx.cpu_meter(group)
                figures = await measure(
                    targets_of(group, community.channel, resume_point),
                    community.senders[0].cookie,
                    [m.cookie for m in community.readers[:subscribers]],
                    count=count, per_second=per_second, window=window,
                )  # fmt: skip
                figures |= meter.figures()
                figures["server_problems"] = ctx.problems(group)
                ctx.reporter.emit(
                    measurement("fanout", "parlour", params | ctx.server_params(group), figures,
                                base_figures, ("deliveries_per_s", "p50_ms", "p99_ms"))
                )  # fmt: skip
