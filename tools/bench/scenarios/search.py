"""search: GET /api/search over N retained messages, and what the index costs a send.

Queries. N messages (1,000,000 in a full run) are seeded as boot's are (seed.py), with
chat-like lines of 5 to 15 words drawn from a vocabulary of 50,000 made-up words with a
Zipf-like frequency (a few words in most messages, most words in few), so that queries range
from common to rare. Four kinds of query, each with words of several frequencies: one word,
two words, a two-word phrase, a prefix (`ba*`). Each query runs once cold (right after the
server starts: `first_ms`, the slowest of a kind), then `search_repeats` times, interleaved,
on one keep-alive connection; the figures are p50/p99 of the whole request (HTTP included)
per kind over the repeats, with the number of results (20 at most) and whether more were
older.

Sends. The `send` measurement (send.py) at each C of `search_send_senders`, against two
servers on copies of the same community: one as shipped, one whose index is switched off,
alternately, `search_send_rounds` times; the ratio is on ÷ off of the medians. Beside it,
the server's CPU time per message on and off (`cpu_ratio`: off ÷ on, the rate a server that
is short of CPU keeps), which other work on a shared machine disturbs less than a rate. To
switch the index off, the copy's `message_search` table is replaced by a view that swallows inserts
(an INSTEAD OF trigger on SQLite, a DO INSTEAD NOTHING rule on PostgreSQL): the server is the
same build, running the same statements, and only the index's own work is missing. On
PostgreSQL the words are still split in Python before that statement (SQLite splits them in
FTS5), so there the ratio leaves that part out.
"""

from __future__ import annotations

import random
import time
from typing import Any
from urllib.parse import urlencode

from bench import procs, seed
from bench.community import Template
from bench.context import Context
from bench.http1 import Connection
from bench.load import targets_of
from bench.report import measurement
from bench.scenarios.send import measure
from bench.stats import latency_ms, median
from parlour.store.sqlite import driver

VOCABULARY = 50_000
# Zipf-like weights: the word of rank r is drawn with weight 1 / r^ZIPF.
ZIPF = 1.1
CONSONANTS = "bdfgklmnprstvz"
VOWELS = "aeiou"
SEED = 20261128
WORDS_PER_MESSAGE = (5, 15)
# Query words by rank (0 = the most common word).
ONE_WORD = (10, 100, 1_000, 10_000)
TWO_WORDS = ((10, 100), (100, 1_000), (50, 60), (1_000, 10_000))
PHRASES = ((0, 1), (5, 10), (30, 40))
PREFIX_OF = ((5, 2), (50, 3), (500, 4))  # (rank of the word, letters of it kept)


def vocabulary() -> list[str]:
    """50,000 distinct pronounceable words, in rank order, the same in every run."""
    rng = random.Random(SEED)
    syllables = [c + v for c in CONSONANTS for v in VOWELS]
    words: dict[str, None] = {}
    while len(words) < VOCABULARY:
        words["".join(rng.choice(syllables) for _ in range(rng.randint(2, 3)))] = None
    return list(words)


class Bodies:
    """Message i's body, the same in every run and on every store."""

    def __init__(self, words: list[str]) -> None:
        self.words = words
        total = 0.0
        self.cumulative: list[float] = []
        for rank in range(len(words)):
            total += 1 / (rank + 1) ** ZIPF
            self.cumulative.append(total)

    def __call__(self, i: int) -> str:
        rng = random.Random(SEED * 7919 + i)
        count = rng.randint(*WORDS_PER_MESSAGE)
        chosen = rng.choices(self.words, cum_weights=self.cumulative, k=count)
        return " ".join(chosen).capitalize() + rng.choice((".", "!", "?", "", " :)"))


def queries(words: list[str]) -> dict[str, list[str]]:
    return {
        "one word": [words[r] for r in ONE_WORD],
        "two words": [f"{words[a]} {words[b]}" for a, b in TWO_WORDS],
        "phrase": [f'"{words[a]} {words[b]}"' for a, b in PHRASES],
        "prefix": [words[r][:n] + "*" for r, n in PREFIX_OF],
    }


async def seeded(ctx: Context, messages: int, bodies: Bodies) -> tuple[Template, float]:
    base = await ctx.workspace.template(1, 0)
    copy = ctx.workspace.seeded_copy(base, f"search-{messages}")
    ctx.reporter.note(f"seeding {messages:,} messages for search ({ctx.seed_method})")
    if ctx.seed_method == "sqlite":
        seconds = seed.seed_sqlite(copy, messages, bodies)
    else:
        seconds = await seed.seed_api(ctx.workspace, copy, messages, bodies)
    return copy, seconds


def index_size(database: str) -> dict[str, int]:
    """Bytes of the messages table (with its indexes) and of the search index (SQLite)."""
    conn = driver.connect(database)
    try:
        rows = conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall()
    finally:
        conn.close()
    sizes = {str(name): int(size) for name, size in rows}
    return {
        "messages_bytes": sum(v for k, v in sizes.items() if "messages" in k),
        "index_bytes": sum(v for k, v in sizes.items() if k.startswith("message_search")),
        "database_bytes": sum(sizes.values()),
    }


async def measure_queries(ctx: Context, template: Template, words: list[str]) -> None:
    messages = ctx.sizes.search_messages
    server = await ctx.workspace.start_parlour(template, f"search-{messages}")
    member = template.community.admin
    try:
        conn = await Connection.open(server.host, server.port)
        try:
            kinds = queries(words)
            samples: dict[str, list[float]] = {kind: [] for kind in kinds}
            cold: dict[str, list[float]] = {kind: [] for kind in kinds}
            found: dict[str, list[tuple[str, int, bool]]] = {kind: [] for kind in kinds}
            for repeat in range(ctx.sizes.search_repeats + 1):
                for kind, texts in kinds.items():
                    for q in texts:
                        path = "/api/search?" + urlencode({"q": q})
                        response = await conn.request("GET", path, cookie=member.cookie)
                        if response.status != 200:
                            raise RuntimeError(f"GET {path} answered {response.status}")
                        (samples if repeat else cold)[kind].append(response.seconds)
                        if repeat == 0:
                            page = response.json()
                            found[kind].append((q, len(page["results"]), page["older"]))
        finally:
            await conn.close()
        for kind, seconds in samples.items():
            figures = {
                **latency_ms(seconds),
                "first_ms": round(max(cold[kind]) * 1000, 2),
                "queries": [{"q": q, "results": n, "older": older} for q, n, older in found[kind]],
                "server_problems": ctx.problems(server),
            }
            params = {"messages": messages, "query": kind} | ctx.server_params(server)
            ctx.reporter.emit(measurement("search", "parlour", params, figures))
    finally:
        await server.stop()


async def switch_index_off(database: str) -> None:
    """Replace the copy's search index with a view that swallows what is written to it."""
    if database.startswith("postgresql://"):
        import psycopg

        async with await psycopg.AsyncConnection.connect(database, autocommit=True) as conn:
            await conn.execute(
                b"DROP TABLE message_search;"
                b" CREATE VIEW message_search AS"
                b" SELECT NULL::bigint AS seq, NULL::tsvector AS words WHERE false;"
                b" CREATE RULE message_search_off AS ON INSERT TO message_search"
                b" DO INSTEAD NOTHING;"
            )
        return
    conn = driver.connect(database, isolation_level=None)
    try:
        conn.execute("DROP TABLE message_search")
        conn.execute(
            "CREATE VIEW message_search (rowid, body, message_search)"
            " AS SELECT NULL, NULL, NULL WHERE 0"
        )
        conn.execute(
            "CREATE TRIGGER message_search_off INSTEAD OF INSERT ON message_search"
            " BEGIN SELECT 1; END"
        )
    finally:
        conn.close()


async def start_without_index(ctx: Context, template: Template, name: str) -> procs.Group:
    database, folder = await ctx.workspace.fresh_database(template, name)
    await switch_index_off(database)
    group = procs.Group("parlour", [], ctx.workspace.store)
    group.servers.append(await procs.start(procs.parlour_command(database), folder, "parlour"))
    return group


async def measure_sends(ctx: Context) -> None:
    sizes = ctx.sizes
    template = await ctx.workspace.template(max(sizes.search_send_senders), 0)
    community = template.community
    async with procs.Running() as running:
        on = running.add(await ctx.workspace.start_parlour(template, "search-send-on"))
        off = running.add(await start_without_index(ctx, template, "search-send-off"))
        for senders in sizes.search_send_senders:
            cookies: list[str | None] = [m.cookie for m in community.senders[:senders]]
            runs: dict[str, list[dict[str, Any]]] = {"on": [], "off": []}
            for _ in range(sizes.search_send_rounds):
                for label, group in (("off", off), ("on", on)):
                    meter = ctx.cpu_meter(group)
                    figures = await measure(
                        targets_of(group, community.channel), cookies, sizes.search_send_messages
                    )
                    runs[label].append(figures | meter.figures())
            ctx.reporter.note(f"search: sends with {senders} senders, index on and off")
            rates = {k: median([r["messages_per_s"] for r in v]) for k, v in runs.items()}
            p99s = {k: median([r["p99_ms"] for r in v]) for k, v in runs.items()}
            # The server's CPU per acknowledged message: what the index costs, and less at
            # the mercy of other work on the machine than a rate is.
            cpu = {
                k: median([1000 * r["server_cores"] * r["seconds"] / max(1, r["acknowledged"])
                           for r in v])
                for k, v in runs.items()
            }  # fmt: skip
            params = {"senders": senders, "messages": sizes.search_send_messages}
            figures = {
                "messages_per_s": rates["on"],
                "p99_ms": p99s["on"],
                "rounds": sizes.search_send_rounds,
                "all_messages_per_s": {
                    k: [r["messages_per_s"] for r in v] for k, v in runs.items()
                },
                "server_cpu_ms_per_message": {k: round(v, 3) for k, v in cpu.items()},
                "cpu_ratio": round(cpu["off"] / cpu["on"], 3) if cpu["on"] else None,
                "errors_total": sum(r["errors_total"] for v in runs.values() for r in v),
                "server_problems": ctx.problems(on) + ctx.problems(off),
            }
            base = {"messages_per_s": rates["off"], "p99_ms": p99s["off"]}
            ctx.reporter.emit(
                measurement("search-send", "parlour", params | ctx.server_params(on), figures,
                            base, ("messages_per_s", "p99_ms"))
            )  # fmt: skip


async def run(ctx: Context) -> None:
    words = vocabulary()
    bodies = Bodies(words)
    messages = ctx.sizes.search_messages
    started = time.monotonic()
    template, seed_seconds = await seeded(ctx, messages, bodies)
    sizes = index_size(template.database)
    ctx.reporter.note(
        f"search: {messages:,} messages seeded in {seed_seconds:.0f} s; index"
        f" {sizes['index_bytes'] / 1e6:.0f} MB, messages {sizes['messages_bytes'] / 1e6:.0f} MB"
    )
    ctx.reporter.emit(
        measurement("search-index", "parlour", {"messages": messages, "store": "sqlite"},
                    {**sizes, "seed_seconds": round(seed_seconds, 1),
                     "seed_method": ctx.seed_method})
    )  # fmt: skip
    await measure_queries(ctx, template, words)
    await measure_sends(ctx)
    ctx.reporter.note(f"search took {time.monotonic() - started:.0f} s")
