"""gzip for what the client downloads (its files, the page, boot's and history's JSON), and
never for the event stream (docs/operations.md, "Compression").

Starlette's GZipMiddleware already passes `text/event-stream` through, but it holds back a
response's start until its first body chunk to decide; the stream must reach the client the
moment it opens and every event the moment it is published, so /api/events is kept away
from it altogether rather than trusted to a content-type list that a later version may
change. Responses under 500 bytes stay as they are: compressing them saves nothing.

HEAD must answer the headers GET would (docs/api/index.md, "Methods"), Content-Encoding and
the compressed Content-Length included, so a HEAD is answered as a GET whose body is
dropped here: only compressing the body tells its length.
"""

from __future__ import annotations

from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The event stream (routes.py serves it here): never compressed, never buffered.
EVENTS_PATH = "/api/events"
# Level 6, zlib's default: most of level 9's saving for a fraction of its CPU, which
# matters more on a small server than the last percent of bytes.
LEVEL = 6
MINIMUM_SIZE = 500


class Compression:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=MINIMUM_SIZE, compresslevel=LEVEL)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == EVENTS_PATH:
            await self.app(scope, receive, send)
            return
        if scope["method"] != "HEAD":
            await self.gzip(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] != "http.response.body":
                await send(message)
            elif not message.get("more_body", False):
                await send({"type": "http.response.body", "body": b"", "more_body": False})

        await self.gzip({**scope, "method": "GET"}, receive, headers_only)
