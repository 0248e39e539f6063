"""private: fan-out when messages go to private channels, beside today's public fan-out
(issue 13).

The fan-out community's readers each open a stream; the sender (one user, with no stream)
makes private channels of `private_members` members: itself and `private_members - 1`
readers each, every reader in at most one (those left over are in none, and must hear only
the public channel). Then three paced runs at `fanout_rate`, one after another on the same
server, each with its streams opened afresh at the newest event:

  public   every message in the public channel: today's fan-out, the reference
  private  every message in a private channel, the channels in turn
  mixed    every other message in a private channel, as issue 13 asks

Each stream must receive every acknowledged message of the public channel and of its own
private channel exactly once, with increasing ids, and nothing of any other private channel
(`leaked`, which must be 0): `exact` says all of that held. Latency runs from the write of
the POST to the read that delivered the event (both in this process), for public and
private messages apart in the mixed run.

Server CPU per message: the server processes' CPU time (utime + stime from /proc/PID/stat,
all threads) from the first send until every stream has everything, divided by the messages
acknowledged; `_net` also takes off the CPU the same streams cost when nothing is sent
(measured over a quiet window just before). The private and mixed runs carry ratios to the
public run: a `server_cpu_ms_per_message` ratio of 0.1 means a private message cost a tenth
of a public one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from bench import api
from bench.context import Context
from bench.http1 import Connection
from bench.load import Target, close_streams, open_streams, targets_of
from bench.procs import Group, Running
from bench.report import measurement
from bench.scenarios.fanout import BODY_MARK, DRAIN_TIMEOUT_SECONDS, WARM_TIMEOUT_SECONDS, Sender
from bench.stats import latency_ms, rate

MODES = ("public", "private", "mixed")
# The quiet window is this share of the sending time: long enough for /proc's 10 ms ticks
# to count, short enough that --quick stays quick.
IDLE_SHARE = 0.25

Route = Callable[[int], int | None]
"""Which private channel message n goes to (an index), or None for the public channel."""


def route_of(mode: str, channels: int) -> Route:
    if mode == "public":
        return lambda n: None
    if mode == "private":
        return lambda n: n % channels
    return lambda n: None if n % 2 == 0 else (n // 2) % channels


class Round:
    """Shared by the streams of one run: who is live, who has everything it should."""

    def __init__(self, subscribers: int) -> None:
        self.subscribers = subscribers
        self.warm = 0
        self.done = 0
        self.all_warm = asyncio.Event()
        self.all_done = asyncio.Event()

    def finished_one(self) -> None:
        self.done += 1
        if self.done == self.subscribers:
            self.all_done.set()


class Subscriber:
    """One stream: the private channel its user is in (None: none), and what arrived."""

    __slots__ = ("channel", "expected", "numbers", "round", "seqs", "times", "warm")

    def __init__(self, round_: Round, channel: int | None, expected: int) -> None:
        self.round = round_
        self.channel = channel
        self.expected = expected
        self.numbers: list[int] = []
        self.seqs: list[int] = []
        self.times: list[float] = []
        self.warm = False
        if expected == 0:
            round_.finished_one()

    def on_frame(self, seq: int | None, event: bytes | None, data: bytes, at: float) -> None:
        # As in fanout.py: find the body ("m" or "w" and 7 digits) rather than decode JSON.
        i = data.find(BODY_MARK)
        if seq is None or i < 0:
            return
        i += len(BODY_MARK)
        kind = data[i : i + 1]
        if kind == b"m":
            self.numbers.append(int(data[i + 1 : i + 8]))
            self.seqs.append(seq)
            self.times.append(at)
            if len(self.numbers) == self.expected:
                self.round.finished_one()
        elif kind == b"w" and not self.warm:
            self.warm = True
            self.round.warm += 1
            if self.round.warm == self.round.subscribers:
                self.round.all_warm.set()


class RoutingSender(Sender):
    """The fan-out sender, posting each message to the channel its number is routed to."""

    def __init__(self, target: Target, cookie: str | None, route: Route, paths: list[str]):
        super().__init__(target, cookie)
        self.route = route
        self.paths = paths

    def path_for(self, number: int) -> str:
        channel = self.route(number)
        return self.target.post_path if channel is None else self.paths[channel]


async def _wait(event: asyncio.Event, seconds: float) -> bool:
    try:
        async with asyncio.timeout(seconds):
            await event.wait()
    except TimeoutError:
        return False
    return True


async def make_channels(
    group: Group, sender: api.Member, readers: list[api.Member], channels: int, per_channel: int
) -> list[str]:
    """`channels` private channels of the sender and `per_channel` readers each, in order."""
    suffix = api.run_suffix()
    conn = await Connection.open(group.host, group.port)
    ids = []
    try:
        for k in range(channels):
            members = [r.id for r in readers[k * per_channel : (k + 1) * per_channel]]
            body = {"name": f"private-{k}-{suffix}", "kind": "private", "members": members}
            made, _ = await api.call(conn, "POST", "/api/channels", body, sender.cookie, 202)
            ids.append(str(made["id"]))
    finally:
        await conn.close()
    return ids


async def measure(
    ctx: Context,
    group: Group,
    targets: list[Target],
    sender_cookie: str | None,
    reader_cookies: list[str | None],
    reader_channels: list[int | None],
    paths: list[str],
    route: Route,
    *,
    count: int,
    per_second: float,
) -> dict[str, Any]:
    """One paced run of `count` messages routed by `route` to the streams of these readers
    (reader i is in private channel reader_channels[i])."""
    round_ = Round(len(reader_cookies))
    routed = [route(n) for n in range(count)]
    subs = [
        Subscriber(round_, channel, sum(1 for c in routed if c is None or c == channel))
        for channel in reader_channels
    ]
    opening = time.monotonic()
    readers = await open_streams(targets, reader_cookies, [s.on_frame for s in subs])
    open_seconds = time.monotonic() - opening
    sender = RoutingSender(targets[0], sender_cookie, route, paths)
    try:
        await sender.post(b"w0000000")
        warm = await _wait(round_.all_warm, WARM_TIMEOUT_SECONDS)
        idle_seconds = max(0.1, IDLE_SHARE * count / per_second)
        idle_before = group.cpu_seconds()
        await asyncio.sleep(idle_seconds)
        idle_cores = (group.cpu_seconds() - idle_before) / idle_seconds
        meter = ctx.cpu_meter(group)
        cpu_before, started = group.cpu_seconds(), time.monotonic()
        lag = await sender.paced(count, per_second)
        send_seconds = time.monotonic() - started
        await _wait(round_.all_done, DRAIN_TIMEOUT_SECONDS)
        cpu_seconds, wall = group.cpu_seconds() - cpu_before, time.monotonic() - started
        figures = meter.figures()
        await asyncio.sleep(0.1)  # a duplicate or a straggler would arrive now
        lost = sum(1 for reader in readers if reader.ended.done())
    finally:
        close_streams(readers)
        await sender.close()
    figures |= _analyse(subs, sender.sent, route)
    acknowledged = max(1, len(sender.sent))
    post = latency_ms(sender.latencies)
    figures.update(
        server_cpu_ms_per_message=round(cpu_seconds * 1000 / acknowledged, 3),
        server_cpu_ms_per_message_net=round(
            (cpu_seconds - idle_cores * wall) * 1000 / acknowledged, 3
        ),
        idle_cores=round(idle_cores, 3),
        cpu_window_seconds=round(wall, 3),
        warm=warm and round_.warm == len(subs),
        streams_lost=lost,
        open_seconds=round(open_seconds, 3),
        sent=len(sender.sent),
        sent_private=sum(1 for n in sender.sent if route(n) is not None),
        send_errors=sum(sender.errors.values()),
        send_per_s=rate(len(sender.sent), send_seconds),
        post_p50_ms=post["p50_ms"],
        post_p99_ms=post["p99_ms"],
        send_lag_max_ms=round(lag * 1000, 3),
    )
    return figures


def _analyse(subs: list[Subscriber], sent: dict[int, float], route: Route) -> dict[str, Any]:
    """Each stream: every acknowledged message of the public channel and of its own private
    channel once, ids increasing, and nothing of another private channel."""
    missing = duplicates = leaked = unacknowledged = out_of_order = 0
    expected_deliveries = 0
    public: list[float] = []
    private: list[float] = []
    last_receipt = 0.0
    for sub in subs:

        def for_me(n: int, channel: int | None = sub.channel) -> bool:
            routed = route(n)
            return routed is None or routed == channel

        expected = {n for n in sent if for_me(n)}
        got = set(sub.numbers)
        expected_deliveries += len(expected)
        missing += len(expected - got)
        duplicates += len(sub.numbers) - len(got)
        leaked += sum(1 for n in sub.numbers if not for_me(n))
        unacknowledged += sum(1 for n in got if for_me(n) and n not in sent)
        if any(a >= b for a, b in zip(sub.seqs, sub.seqs[1:], strict=False)):
            out_of_order += 1
        for n, at in zip(sub.numbers, sub.times, strict=True):
            if n in sent:
                (public if route(n) is None else private).append(at - sent[n])
        if sub.times:
            last_receipt = max(last_receipt, sub.times[-1])
    deliveries = sum(len(sub.numbers) for sub in subs)
    span = last_receipt - min(sent.values()) if sent and last_receipt else 0.0
    figures: dict[str, Any] = {
        "deliveries_per_s": rate(deliveries, span),
        **latency_ms(public + private),
        "deliveries": deliveries,
        "expected_deliveries": expected_deliveries,
        "exact": not (missing or duplicates or leaked or out_of_order) and bool(sent),
        "missing": missing,
        "duplicates": duplicates,
        "leaked": leaked,
        "unacknowledged_received": unacknowledged,
        "streams_out_of_order": out_of_order,
    }
    if public and private:
        figures["public_latency"] = latency_ms(public)
        figures["private_latency"] = latency_ms(private)
    return figures


async def run(ctx: Context) -> None:
    sizes = ctx.sizes
    template = await ctx.workspace.template(1, ctx.fanout_readers)
    community = template.community
    streams = min(sizes.private_streams, len(community.readers))
    per_channel = sizes.private_members - 1
    channels = max(1, streams // per_channel)
    readers = community.readers[:streams]
    reader_channels = [
        i // per_channel if i < channels * per_channel else None for i in range(streams)
    ]
    count = round(sizes.fanout_rate * sizes.private_seconds)
    async with Running() as running:
        groups = [
            running.add(await ctx.workspace.start_parlour(template, f"private-{n}p", processes=n))
            for n in ctx.processes
        ]
        for group in groups:
            ids = await make_channels(group, community.senders[0], readers, channels, per_channel)
            paths = [f"/api/channels/{channel}" for channel in ids]
            reference: dict[str, Any] | None = None
            for mode in MODES:
                params = {"run": mode, "streams": streams, "members": sizes.private_members,
                          "channels": channels, "messages": count,
                          "per_second": sizes.fanout_rate}  # fmt: skip
                ctx.reporter.note(f"private: {params}")
                # Streams open at the newest event, so no earlier run's messages replay.
                resume_point = await api.newest_event(group.host, group.port, community.admin)
                figures = await measure(
                    ctx, group, targets_of(group, community.channel, resume_point),
                    community.senders[0].cookie, [r.cookie for r in readers], reader_channels,
                    paths, route_of(mode, channels), count=count, per_second=sizes.fanout_rate,
                )  # fmt: skip
                figures["server_problems"] = ctx.problems(group)
                params |= ctx.server_params(group)
                if reference is None:
                    reference = figures
                    ctx.reporter.emit(measurement("private", "parlour", params, figures))
                else:
                    ctx.reporter.emit(
                        measurement("private", "parlour", params, figures, reference,
                                    ("server_cpu_ms_per_message",
                                     "server_cpu_ms_per_message_net", "p99_ms"))
                    )  # fmt: skip
