"""Baseline for `fanout` and `idle`: a raw-asyncio SSE broadcaster, in a few dozen lines.

What parlour's fan-out is compared with (issue 3): each POST /api/channels/{id} becomes one
event, encoded once as one HTTP chunk and written to every open GET /api/events stream; a
stream whose unsent bytes pass 1 MiB is dropped. No database, no authentication, no replay:
the cost of the bytes alone. It runs as its own process and imports nothing from parlour or
the suite.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import time

MAX_UNSENT_BYTES = 1 << 20
SSE_HEAD = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\n"
    b"cache-control: no-cache\r\ntransfer-encoding: chunked\r\n\r\n"
)
HEARTBEAT = b"event: heartbeat\ndata: {}\n\n"


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


class Broadcaster:
    def __init__(self) -> None:
        self.streams: set[asyncio.StreamWriter] = set()
        self.seq = 0

    def broadcast(self, frame: bytes) -> None:
        data = chunk(frame)
        for writer in list(self.streams):
            if writer.transport.get_write_buffer_size() > MAX_UNSENT_BYTES:
                self.streams.discard(writer)
                writer.transport.abort()
            else:
                writer.write(data)

    def send(self, channel: str, body: str) -> bytes:
        self.seq += 1
        at = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + ".000Z"
        message = {"id": "M" + secrets.token_urlsafe(18), "channel": channel, "sender": "U0"}
        message |= {"body": body, "sent_at": at}
        event = {"type": "message", "event": "sent", "at": at} | message
        data = json.dumps(event, separators=(",", ":")).encode()
        self.broadcast(b"id: %d\ndata: %s\n\n" % (self.seq, data))
        return json.dumps(message, separators=(",", ":")).encode()

    async def heartbeats(self, seconds: float) -> None:
        while True:
            await asyncio.sleep(seconds)
            self.broadcast(HEARTBEAT)


def read_head(head: bytes) -> tuple[str, str, int]:
    request_line, *lines = head.decode("latin-1").split("\r\n")
    method, path, _ = request_line.split(" ", 2)
    length = 0
    for line in lines:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    return method, path, length


async def handle(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, hub: Broadcaster
) -> None:
    try:
        while True:
            method, path, length = read_head(await reader.readuntil(b"\r\n\r\n"))
            body = await reader.readexactly(length) if length else b""
            if method == "GET" and path.startswith("/api/events"):
                writer.write(SSE_HEAD + chunk(b"retry: 2000\n\n"))
                hub.streams.add(writer)
                while await reader.read(4096):  # until the client leaves
                    pass
                return
            if method == "POST" and path.startswith("/api/channels/"):
                payload = hub.send(path[14:], json.loads(body)["body"])
                status = b"202 Accepted"
            else:
                payload, status = b"{}", b"404 Not Found"
            writer.write(
                b"HTTP/1.1 %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s"
                % (status, len(payload), payload)
            )
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        hub.streams.discard(writer)
        writer.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--heartbeat", type=float, default=30.0, help="seconds")
    args = parser.parse_args()
    hub = Broadcaster()
    server = await asyncio.start_server(
        lambda r, w: handle(r, w, hub), "127.0.0.1", 0, backlog=2048
    )
    port = server.sockets[0].getsockname()[1]
    print(f"baseline-sse: listening on http://127.0.0.1:{port}", flush=True)
    beating = asyncio.create_task(hub.heartbeats(args.heartbeat))
    async with server:
        await server.serve_forever()
    beating.cancel()


if __name__ == "__main__":
    try:
        import uvloop  # parlour serves on uvloop too: same loop, fair comparison
    except ImportError:
        asyncio.run(main())
    else:
        uvloop.run(main())
