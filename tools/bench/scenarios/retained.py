"""Databases holding N retained messages, made once per run and shared by boot and resume."""

from __future__ import annotations

from bench import seed
from bench.community import Template
from bench.context import Context

_seeded: dict[int, tuple[Template, float, str]] = {}


async def seeded(ctx: Context, messages: int) -> tuple[Template, float, str]:
    """A template with `messages` more messages: (template, seconds seeding took, method)."""
    if messages not in _seeded:
        base = await ctx.workspace.template(1, 0)
        copy = ctx.workspace.seeded_copy(base, f"seeded-{messages}")
        method = ctx.seed_method  # on PostgreSQL too: the seeded file is then copied over
        ctx.reporter.note(f"seeding {messages:,} messages ({method})")
        if method == "sqlite":
            seconds = seed.seed_sqlite(copy, messages)
        else:
            seconds = await seed.seed_api(ctx.workspace, copy, messages)
        _seeded[messages] = (copy, seconds, method)
    return _seeded[messages]
