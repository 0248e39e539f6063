"""SSE framing on the wire: headers, `retry:`, heartbeats, disconnects and shutdown.

See docs/architecture.md. One task per stream writes what the domain's EventStream yields.
A peer that stops reading blocks only its own task: when its queue overflows, the broker
closes the subscription, and this task abandons the blocked write so the connection closes.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from parlour.broker import StreamClosed, Subscription
from parlour.domain.stream import EventStream
from parlour.wire import HEARTBEAT_FRAME

log = logging.getLogger("parlour.stream")

# Browsers wait this long before reconnecting after a dropped stream.
RETRY_MILLISECONDS = 2000
# A live reader that stops reading is dropped when its queue overflows, but while a stream
# replays from the store no queue fills (issue 6). So a replaying reader whose connection
# has taken nothing for this long has stopped reading, and is dropped (it reconnects and
# resumes).
STALLED_REPLAY_SECONDS = 30.0
# A replay batch can be megabytes. Written in pieces, each send waits only for the previous
# piece to drain, so the deadline measures the reader's progress, not the batch's size.
REPLAY_PIECE_BYTES = 64 * 1024
# The ASGI scope extension through which the server lets a stream abort its connection: the
# HTTP layer owns this contract, and parlour.server's protocol fills it in. Closing would wait,
# for ever, for a reader that stopped reading to take the bytes already queued for it;
# aborting frees them at once (issue 6). Without the extension (another server), streams
# are closed instead.
ABORT_EXTENSION = "parlour.abort"
# The ASGI scope extension through which the server lets a stream write a chunk of its body
# at once, outside the ASGI send chain, when the connection takes it without waiting: the
# broker writes a caught-up stream's events this way (see parlour.broker.Subscription). Its
# `write(data) -> bool` answers False when it cannot (then the event is sent the ordinary
# way, which waits for the reader). Without the extension, every event is sent the
# ordinary way.
WRITE_EXTENSION = "parlour.write"
HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]


class EventStreamResponse(Response):
    """A response that follows one EventStream until it ends."""

    def __init__(
        self, stream: EventStream, heartbeat_seconds: float, shutting_down: asyncio.Event
    ) -> None:
        super().__init__(status_code=200)
        self.stream = stream
        self.heartbeat_seconds = heartbeat_seconds
        self.shutting_down = shutting_down

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] == "HEAD":
            # The headers GET would send, and the end: following the stream would only keep
            # the connection busy for ever, its body discarded (issue 10).
            self.stream.close()
            await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        stream = self.stream
        subscription = stream.subscription
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("an event stream must run in a task")
        writing = False

        def on_close(reason: str) -> None:
            # A write blocked on a peer that does not read would never return by itself.
            if writing and reason != CLIENT_LEFT:
                task.cancel()

        subscription.on_close = on_close
        watcher = asyncio.create_task(_watch_disconnect(receive, subscription))
        if self.shutting_down.is_set():  # Broker.end_all ran before this stream existed
            subscription.close("server shutting down")
        completed = False
        try:
            await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
            await send(_chunk(b"retry: %d\n\n" % RETRY_MILLISECONDS))
            writer = scope.get("extensions", {}).get(WRITE_EXTENSION)
            if writer is not None:
                subscription.direct = writer["write"]
            while True:
                chunk = await stream.next_chunk(self.heartbeat_seconds)
                writing = True
                if stream.replaying:
                    await _write_replay(send, chunk)
                else:
                    await send(_chunk(chunk or HEARTBEAT_FRAME))
                writing = False
        except StreamClosed as closed:
            log.debug("stream ended: %s", closed.reason)
            completed = True
        except TimeoutError:
            # A replaying reader took nothing for STALLED_REPLAY_SECONDS: drop the connection.
            writing = False
            subscription.close(STOPPED_READING)
            _abort(scope)
            log.info("stream dropped: %s", STOPPED_READING)
        except asyncio.CancelledError:
            if subscription.closed is None:
                raise
            # We cancelled our own blocked write (see on_close): drop the connection.
            task.uncancel()
            _abort(scope)
            log.info("stream dropped: %s", subscription.closed)
        finally:
            watcher.cancel()
            stream.close()
        if completed:
            await send({"type": "http.response.body", "body": b"", "more_body": False})


CLIENT_LEFT = "client disconnected"
STOPPED_READING = "reader stopped reading"


def _abort(scope: Scope) -> None:
    """Drop the connection with whatever is still queued for it, where the server can."""
    extension = scope.get("extensions", {}).get(ABORT_EXTENSION)
    if extension is not None:
        extension["abort"]()


async def _write_replay(send: Send, data: bytes) -> None:
    """Send `data` in pieces; TimeoutError if one waits STALLED_REPLAY_SECONDS to go out."""
    for start in range(0, len(data), REPLAY_PIECE_BYTES):
        async with asyncio.timeout(STALLED_REPLAY_SECONDS):
            await send(_chunk(data[start : start + REPLAY_PIECE_BYTES]))


async def _watch_disconnect(receive: Receive, subscription: Subscription) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            subscription.close(CLIENT_LEFT)
            return


def _chunk(data: bytes) -> Message:
    return {"type": "http.response.body", "body": data, "more_body": True}
