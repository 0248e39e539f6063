"""Retained messages for `boot`, `resume`, `search` and the history scenarios, in the file.

Sending through the API is the honest way, but 100,000 messages take about a minute (see
tools/bench/README.md for the measured rate), and the history scenarios want a million, so
by default the rows are written straight into the stopped server's SQLite file, in one
transaction, exactly as parlour's store writes a sent message (src/parlour/store/messages.py
and log.py): a `messages` row with the next sequence number, and its `message sent` row in
the event log (`events`: type `message`, event `sent`, the channel, the message's id as
subject, no `data` since the body is read from the message, audience `all`), `counter.seq`
advanced past them, each channel's `active_at` moved to the send time, and each body's
entry in the search index (FTS5 splits the words itself, as when parlour sends). Mentions,
reactions, edits and read positions are left empty (a message sent without them). `--seed api` sends
them instead. If the schema changes, this is the one place to update.

Indexes of `messages` and `events` are dropped for the load and made again from their own
SQL (read from the file, so they are the migrations' exactly): building an index once over
sorted keys is several times faster than a million random inserts into it.

With PostgreSQL, the seeded file is copied by `parlour migrate-to-postgres` (which COPYs
every table) into a template database once, as every community is (postgres.py).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Callable, Iterator, Sequence

from bench import procs
from bench.community import Template, Workspace
from bench.http1 import Connection, build_request
from parlour.store.sqlite import driver

# About the length of a chat line; the same text whichever way the rows are made.
BODY = "seeded message {:07d}: the quick brown fox jumps over the lazy dog"
API_CONNECTIONS = 32
BATCH = 50_000
# SQLite's page cache for the load, in KiB (negative: KiB, not pages): the indexes being
# rebuilt fit, so the load never waits on the disk for them.
CACHE_KIB = 512 * 1024


def seed_sqlite(template: Template, count: int, body: Callable[[int], str] = BODY.format) -> float:
    """Write `count` messages by the first sender into the template's one channel (message i
    says `body(i)`); returns seconds."""
    community = template.community
    return seed_channels(template, [community.channel], count, community.senders[0].id, body)


def seed_channels(
    template: Template,
    channels: Sequence[str],
    count: int,
    sender: str,
    body: Callable[[int], str] = BODY.format,
) -> float:
    """Write `count` messages by `sender` into the stopped template, taking the channels in
    turn (message i goes to channels[i % len(channels)], as a lively server interleaves
    them); returns seconds."""
    started = time.monotonic()
    conn = driver.connect(template.database, isolation_level=None)
    try:
        conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        conn.execute("BEGIN IMMEDIATE")
        indexes = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            " AND tbl_name IN ('messages', 'events')"
        ).fetchall()
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        seq = int(conn.execute("SELECT seq FROM counter WHERE id = 1").fetchone()[0])
        sent_at = time.time_ns() // 1_000_000
        for first in range(0, count, BATCH):
            batch = list(_messages(channels, first, min(BATCH, count - first), seq, sender))
            conn.executemany(
                "INSERT INTO messages (id, channel_id, sender, body, sent_at, seq)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                ((m, c, sender, body(i), sent_at, s) for m, c, i, s in batch),
            )
            conn.executemany(
                "INSERT INTO events (seq, at, type, event, channel_id, subject, data,"
                " audience, user_id) VALUES (?, ?, 'message', 'sent', ?, ?, NULL, 'all', NULL)",
                ((s, sent_at, c, m) for m, c, _, s in batch),
            )
        for _, sql in indexes:
            conn.execute(sql)
        conn.execute(
            "INSERT INTO message_search (rowid, body) SELECT seq, body FROM messages WHERE seq > ?",
            (seq,),
        )
        conn.execute("UPDATE counter SET seq = ? WHERE id = 1", (seq + count,))
        conn.executemany(
            "UPDATE channels SET active_at = max(active_at, ?) WHERE id = ?",
            ((sent_at, channel) for channel in channels),
        )
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return time.monotonic() - started


def _messages(
    channels: Sequence[str], first: int, count: int, seq: int, sender: str
) -> Iterator[tuple[str, str, int, int]]:
    """(id, channel, number, seq) of messages first … first + count - 1."""
    for i in range(first, first + count):
        yield "M" + secrets.token_urlsafe(18), channels[i % len(channels)], i, seq + 1 + i


async def seed_api(
    workspace: Workspace, template: Template, count: int, body: Callable[[int], str] = BODY.format
) -> float:
    """Send `count` messages through a server on the template (32 connections of the first
    sender), then stop it; returns the seconds the sending took."""
    folder = workspace.folder("seeding")
    server = await procs.start(procs.parlour_command(template.database), folder, "parlour")
    try:
        community = template.community
        path = f"/api/channels/{community.channel}"
        cookie = community.senders[0].cookie
        host = f"{server.host}:{server.port}"
        queue = list(range(count - 1, -1, -1))

        async def worker() -> None:
            conn = await Connection.open(server.host, server.port)
            try:
                while queue:
                    data = json.dumps({"body": body(queue.pop())}).encode()
                    response = await conn.send(
                        build_request("POST", path, host, body=data, cookie=cookie)
                    )
                    if response.status != 202:
                        raise RuntimeError(f"seeding: POST {path} answered {response.status}")
            finally:
                await conn.close()

        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(min(API_CONNECTIONS, count))))
        return time.monotonic() - started
    finally:
        await server.stop()
