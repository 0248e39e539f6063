"""Retained messages for `boot`, `resume` and `search`: written into the file, or sent.

Sending through the API is the honest way, but 100,000 messages take about a minute (see
tools/bench/README.md for the measured rate), so by default the rows are written straight
into the stopped server's file, in one transaction, as parlour's schema stores them
(store/sqlite/migrations/): message rows with the next sequence numbers, their `message
sent` events, their entries in the search index (FTS5 splits the words itself, as when
parlour sends), `counter.seq` advanced past them, the channel marked active. `--seed api`
sends them instead. If the schema changes, this is the one place to update.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Callable

from bench import procs
from bench.community import Template, Workspace
from bench.http1 import Connection, build_request
from parlour.store.sqlite import driver

# About the length of a chat line; the same text whichever way the rows are made.
BODY = "seeded message {:07d}: the quick brown fox jumps over the lazy dog"
API_CONNECTIONS = 32


def seed_sqlite(template: Template, count: int, body: Callable[[int], str] = BODY.format) -> float:
    """Write `count` messages by the first sender into the stopped template (message i says
    `body(i)`); returns seconds."""
    started = time.monotonic()
    community = template.community
    sender = community.senders[0].id
    conn = driver.connect(template.database, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        seq = int(conn.execute("SELECT seq FROM counter WHERE id = 1").fetchone()[0])
        sent_at = time.time_ns() // 1_000_000
        conn.executemany(
            "INSERT INTO messages (id, channel_id, sender, body, sent_at, seq)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                ("M" + secrets.token_urlsafe(18), community.channel, sender, body(i),
                 sent_at, seq + 1 + i)
                for i in range(count)
            ),
        )  # fmt: skip
        conn.execute(
            "INSERT INTO events (seq, at, type, event, channel_id, subject, data, audience)"
            " SELECT seq, sent_at, 'message', 'sent', channel_id, id, NULL, 'all'"
            " FROM messages WHERE seq > ?",
            (seq,),
        )
        conn.execute(
            "INSERT INTO message_search (rowid, body) SELECT seq, body FROM messages WHERE seq > ?",
            (seq,),
        )
        conn.execute("UPDATE counter SET seq = ? WHERE id = 1", (seq + count,))
        conn.execute(
            "UPDATE channels SET active_at = max(active_at, ?) WHERE id = ?",
            (sent_at, community.channel),
        )
        conn.execute("COMMIT")
    finally:
        conn.close()
    return time.monotonic() - started


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
