"""What every scenario gets: the sizes to run, the workspace, the reporter, the options."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from bench.community import Workspace
from bench.procs import CpuMeter, Group, Server
from bench.report import Reporter


@dataclass(frozen=True)
class Sizes:
    """How big each scenario is: issue 3's sizes, or tiny ones for --quick (CI)."""

    send_senders: tuple[int, ...]
    send_messages: int
    fanout_subscribers: tuple[int, ...]
    fanout_rate: float
    fanout_seconds: float
    unpaced_subscribers: int
    unpaced_messages: int
    unpaced_window: int
    boot_messages: tuple[int, ...]
    boot_repeats: int
    resume_events: int
    resume_repeats: int
    idle_streams: tuple[int, ...]
    heartbeat_seconds: int
    search_messages: int
    search_repeats: int
    search_send_senders: tuple[int, ...]
    search_send_messages: int
    search_send_rounds: int
    # Issue 12: boot over many channels, and pages of one deep channel.
    history_channels: int
    history_boot_messages: tuple[int, ...]
    history_boot_repeats: int
    # Each boot measurement stops early when its rounds take longer than this (a slow boot
    # is reported with fewer samples rather than overrun the scenario's time limit).
    history_boot_seconds: float
    history_page_messages: int
    history_page_repeats: int
    history_browser_repeats: int
    # client_switch (issue 16): the big channel's messages (navigations: history_browser_repeats).
    client_switch_messages: int
    # private (issue 13): streams, members per private channel, seconds of sending per run.
    private_streams: int
    private_members: int
    private_seconds: float
    # Upper bound on each scenario's wall time: a stuck server makes a line with an error,
    # never a hang.
    scenario_timeout_seconds: float


FULL = Sizes(
    send_senders=(1, 8, 32),
    send_messages=10_000,
    fanout_subscribers=(10, 100, 500, 1000),
    fanout_rate=20,
    fanout_seconds=10,
    unpaced_subscribers=100,
    unpaced_messages=2000,
    unpaced_window=16,
    boot_messages=(10_000, 100_000),
    boot_repeats=5,
    resume_events=100_000,
    resume_repeats=3,
    idle_streams=(1000, 10_000),
    heartbeat_seconds=5,
    search_messages=1_000_000,
    search_repeats=25,
    search_send_senders=(1, 32),
    search_send_messages=5_000,
    search_send_rounds=3,
    # search seeds 1,000,000 messages (about 160 s) and, on PostgreSQL, copies them over
    # (85 to 210 s) before it measures anything.
    scenario_timeout_seconds=1800,
    history_channels=100,
    history_boot_messages=(10_000, 1_000_000),
    history_boot_repeats=100,
    history_boot_seconds=45.0,
    history_page_messages=1_000_000,
    history_page_repeats=300,
    history_browser_repeats=5,
    client_switch_messages=5000,
    private_streams=1000,
    private_members=10,
    private_seconds=10,
)
QUICK = Sizes(
    send_senders=(1, 4),
    send_messages=200,
    fanout_subscribers=(3, 6),
    fanout_rate=20,
    fanout_seconds=1,
    unpaced_subscribers=6,
    unpaced_messages=100,
    unpaced_window=4,
    boot_messages=(200, 1000),
    boot_repeats=2,
    resume_events=1000,
    resume_repeats=1,
    idle_streams=(10, 50),
    heartbeat_seconds=1,
    search_messages=2000,
    search_repeats=2,
    search_send_senders=(1,),
    search_send_messages=100,
    search_send_rounds=1,
    history_channels=5,
    history_boot_messages=(100, 1000),
    history_boot_repeats=5,
    history_boot_seconds=5.0,
    history_page_messages=1000,
    history_page_repeats=10,
    history_browser_repeats=1,
    client_switch_messages=500,
    private_streams=6,
    private_members=3,
    private_seconds=0.5,
    scenario_timeout_seconds=45,
)


def with_overrides(sizes: Sizes, assignments: list[str]) -> Sizes:
    """Sizes with NAME=VALUE assignments applied (tuples as comma-separated numbers).

    Raises ValueError for an unknown name or a value that is not a number.
    """
    changes: dict[str, object] = {}
    fields = {field.name: getattr(sizes, field.name) for field in dataclasses.fields(sizes)}
    for assignment in assignments:
        name, _, text = assignment.partition("=")
        if name not in fields:
            raise ValueError(f"unknown size {name!r}; known: {', '.join(fields)}")
        current = fields[name]
        if isinstance(current, tuple):
            changes[name] = tuple(int(part) for part in text.split(","))
        else:
            changes[name] = type(current)(text)
    # mypy cannot check **kwargs against the fields; each value took its field's type above.
    return dataclasses.replace(sizes, **changes)  # type: ignore[arg-type]


@dataclass
class Context:
    sizes: Sizes
    workspace: Workspace
    reporter: Reporter
    seed_method: str
    # How many parlour processes share the database in send, fanout and idle: each count is
    # measured in turn against the same baseline measurement (more than 1: PostgreSQL only).
    processes: tuple[int, ...] = (1,)

    def problems(self, server: Server | Group) -> int:
        """How many new lines of the server's log look like errors; the first few are noted.

        For parlour on a PostgreSQL cluster this run started, the cluster's new problem lines
        count too (they are read at the end of each parlour measurement)."""
        lines = server.new_problems()
        if isinstance(server, Group) and self.workspace.postgres is not None:
            lines += [f"postgresql: {line}" for line in self.workspace.postgres.new_problems()]
        for line in lines[:5]:
            self.reporter.note(f"{server.name} log: {line}")
        return len(lines)

    @property
    def fanout_readers(self) -> int:
        """Readers in the fan-out community (the idle and private scenarios share their
        sessions)."""
        sizes = self.sizes
        return max((*sizes.fanout_subscribers, sizes.unpaced_subscribers, sizes.private_streams))

    def server_params(self, group: Group) -> dict[str, Any]:
        """What every parlour measurement says about the server: its store and processes."""
        return {"store": group.store, "processes": len(group.servers)}

    def cpu_meter(self, server: Server | Group) -> CpuMeter:
        """A CpuMeter for the server, and for PostgreSQL when this run started the cluster."""
        pg = self.workspace.postgres
        return CpuMeter(server, {"postgres_cores": pg.cpu_seconds} if pg else None)
