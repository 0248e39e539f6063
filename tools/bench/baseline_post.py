"""Baseline for `send`: a raw-asyncio JSON POST endpoint that commits one SQLite row each.

The least a durable server can do per message, to compare parlour's send path with (issue 3):
read the request, decode its JSON, insert one row and commit it with `synchronous=FULL` in WAL
mode (one fsync), answer 202 with the message as JSON. No framework, no authentication, no
events, no group commit: each commit runs on the event loop, one at a time. It runs as its own
process and imports nothing from parlour or the suite.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sqlite3
import time


def open_database(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute(
        "CREATE TABLE IF NOT EXISTS messages (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
        " channel_id TEXT NOT NULL, body TEXT NOT NULL, sent_at INTEGER NOT NULL)"
    )
    return conn


def read_head(head: bytes) -> tuple[str, str, int]:
    request_line, *lines = head.decode("latin-1").split("\r\n")
    method, path, _ = request_line.split(" ", 2)
    length = 0
    for line in lines:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    return method, path, length


def respond(status: str, payload: bytes) -> bytes:
    head = f"HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {len(payload)}"
    return head.encode() + b"\r\n\r\n" + payload


def store_message(conn: sqlite3.Connection, channel: str, body: str) -> bytes:
    sent_at = time.time_ns() // 1_000_000
    message: dict[str, str | int] = {"id": "M" + secrets.token_urlsafe(18), "channel": channel}
    message |= {"sender": "Ubaseline", "body": body, "sent_at": sent_at}
    conn.execute("BEGIN IMMEDIATE")
    conn.execute(
        "INSERT INTO messages (id, channel_id, body, sent_at) VALUES (?, ?, ?, ?)",
        (message["id"], channel, body, sent_at),
    )
    conn.execute("COMMIT")
    return json.dumps(message, separators=(",", ":")).encode()


async def handle(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, conn: sqlite3.Connection
) -> None:
    try:
        while True:
            method, path, length = read_head(await reader.readuntil(b"\r\n\r\n"))
            body = await reader.readexactly(length) if length else b""
            if method == "POST" and path.startswith("/api/channels/"):
                text = json.loads(body)["body"]
                writer.write(respond("202 Accepted", store_message(conn, path[14:], text)))
            else:
                writer.write(respond("404 Not Found", b"{}"))
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", required=True)
    args = parser.parse_args()
    conn = open_database(args.database)
    server = await asyncio.start_server(
        lambda r, w: handle(r, w, conn), "127.0.0.1", 0, backlog=2048
    )
    port = server.sockets[0].getsockname()[1]
    print(f"baseline-post: listening on http://127.0.0.1:{port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        import uvloop  # parlour serves on uvloop too: same loop, fair comparison
    except ImportError:
        asyncio.run(main())
    else:
        uvloop.run(main())
