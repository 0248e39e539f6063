"""What the load generator aims at: parlour or a baseline, reached the same way.

The same code drives both, so a ratio compares servers, not clients: a baseline simply
ignores the cookies, the channel id and the resume point that parlour needs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from bench.procs import Group
from bench.sse import FrameHandler, SseReader, open_stream

T = TypeVar("T")
# Connections opened at once: enough to open 10,000 streams in seconds, few enough to stay
# far below the listen backlog (parlour: 2048) and never look like a SYN flood.
OPEN_CONCURRENCY = 64


@dataclass(frozen=True)
class Target:
    name: str
    host: str
    port: int
    channel: str = "Cbaseline"
    resume_point: int = 0

    @property
    def post_path(self) -> str:
        return f"/api/channels/{self.channel}"

    def events_path(self, resume_point: int | None = None) -> str:
        point = self.resume_point if resume_point is None else resume_point
        return f"/api/events?resume_point={point}"


def targets_of(group: Group, channel: str = "Cbaseline", resume_point: int = 0) -> list[Target]:
    """One target per process of a parlour group (all on the same database)."""
    return [Target(s.name, s.host, s.port, channel, resume_point) for s in group.servers]


async def open_streams(
    targets: Target | Sequence[Target],
    cookies: Sequence[str | None],
    handlers: Sequence[FrameHandler],
    resume_point: int | None = None,
    first: int = 0,
) -> list[SseReader]:
    """One stream per handler: the i-th is stream number k = first + i, opened on
    targets[k % len(targets)] with cookies[k % len(cookies)]. If any fails to open, the
    others are closed and the error is raised."""
    spread = [targets] if isinstance(targets, Target) else list(targets)

    def opener(i: int) -> Callable[[], Awaitable[SseReader]]:
        k = first + i
        target = spread[k % len(spread)]
        path = target.events_path(resume_point)
        return lambda: open_stream(
            target.host, target.port, path, handlers[i], cookie=cookies[k % len(cookies)]
        )

    tasks = [opener(i) for i in range(len(handlers))]
    results = await bounded_gather_settled(tasks)
    readers = [r for r in results if isinstance(r, SseReader)]
    errors = [r for r in results if isinstance(r, BaseException)]
    if errors:
        close_streams(readers)
        raise errors[0]
    return readers


async def bounded_gather_settled(
    factories: Sequence[Callable[[], Awaitable[T]]], concurrency: int = OPEN_CONCURRENCY
) -> list[T | BaseException]:
    """Run the coroutines made by `factories`, at most `concurrency` at a time; results in
    order, with exceptions in place of the results they prevented."""
    semaphore = asyncio.Semaphore(concurrency)

    async def one(factory: Callable[[], Awaitable[T]]) -> T:
        async with semaphore:
            return await factory()

    return list(await asyncio.gather(*(one(f) for f in factories), return_exceptions=True))


def close_streams(readers: Sequence[SseReader]) -> None:
    for reader in readers:
        reader.close()
