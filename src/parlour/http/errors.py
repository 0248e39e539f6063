"""The one mapping from errors to HTTP statuses, rendered as RFC 9457 problem+json.

Errors reach it three ways: the app's exception handlers (EXCEPTION_HANDLERS); the one
boundary for what nothing else handled (UnexpectedErrors); and, as whole answers in bytes
(raw_answer), the server's protocol, for requests it cannot hand to the app at all. Every
answer is a problem document with the headers every answer carries. See docs/api/errors.md.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import cast

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from parlour.errors import (
    Conflict,
    Gone,
    InvalidInput,
    NotAllowed,
    NotAuthenticated,
    NotFound,
    NotReady,
    ParlourError,
    RateLimited,
    StorageError,
    StorageFull,
)
from parlour.http.headers import SECURITY_HEADERS
from parlour.wire import encode, problem_json

log = logging.getLogger("parlour.http")

STATUS_BY_CATEGORY: dict[type[ParlourError], int] = {
    InvalidInput: 400,
    NotAuthenticated: 401,
    NotAllowed: 403,
    NotFound: 404,
    Conflict: 409,
    Gone: 410,
    RateLimited: 429,
    NotReady: 503,
}

TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    409: "Conflict",
    410: "Gone",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    429: "Too Many Requests",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    501: "Not Implemented",
    503: "Service Unavailable",
    505: "HTTP Version Not Supported",
    507: "Insufficient Storage",
}


class HttpProblem(Exception):
    """An error the HTTP layer itself detects, before or around the domain's rules.

    Each kind is a subclass that names its status and words its own detail, so that status
    codes stay in this module and an error's text stays with the error.
    """

    status = 400

    def __init__(self, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}


class ContentTooLarge(HttpProblem):
    status = 413

    def __init__(self, limit_bytes: int) -> None:
        super().__init__(f"The request body is larger than {limit_bytes} bytes.")


class BodyTooSlow(HttpProblem):
    """The connection is closed with the answer: the rest of the body is never read."""

    status = 408

    def __init__(self, seconds: int) -> None:
        super().__init__(
            f"The request body did not arrive within {seconds} seconds; send it again.",
            {"Connection": "close"},
        )


class BodyCutShort(HttpProblem):
    status = 400

    def __init__(self) -> None:
        super().__init__("The client disconnected before sending the whole body.")


class NotJson(HttpProblem):
    status = 415

    def __init__(self) -> None:
        super().__init__("Send the request body as JSON, with Content-Type: application/json.")


class MethodNotAllowed(HttpProblem):
    status = 405

    def __init__(self, method: str, path: str, allowed: list[str]) -> None:
        allow = ", ".join(allowed)
        super().__init__(f"{method} is not allowed on {path}; it serves {allow}.", {"Allow": allow})


class HeadTooLarge(HttpProblem):
    """Answered by the server's protocol, which then closes the connection."""

    status = 431

    def __init__(self, limit_bytes: int) -> None:
        super().__init__(
            f"The request line and headers are larger than {limit_bytes} bytes together; "
            "send fewer or shorter headers (or a shorter URL)."
        )


class UnparsableRequest(HttpProblem):
    """Answered by the server's protocol, which then closes the connection."""

    status = 400

    def __init__(self, reason: str) -> None:
        super().__init__(f"The request is not valid HTTP/1.1: {reason}.")


class UnknownMethod(HttpProblem):
    """A method token HTTP does not define: its request cannot even be parsed, so no path's
    `Allow` can answer it (which 405 would need). Answered by the server's protocol."""

    status = 501

    def __init__(self) -> None:
        super().__init__(
            "The request's method is not one parlour knows; it serves GET, HEAD, POST and "
            "DELETE (see GET /api/openapi.json)."
        )


class StreamNeedsHttp11(HttpProblem):
    status = 505

    def __init__(self) -> None:
        super().__init__(
            "The event stream needs HTTP/1.1: it is sent in chunks, which HTTP/1.0 cannot "
            "carry. Send the request with HTTP/1.1 (a proxy in front of parlour must speak "
            "HTTP/1.1 to it too, e.g. nginx's proxy_http_version 1.1)."
        )


class ShuttingDown(HttpProblem):
    status = 503

    def __init__(self) -> None:
        super().__init__("The server is shutting down; send the request again in a moment.")


class Unexpected(HttpProblem):
    status = 500

    def __init__(self) -> None:
        super().__init__("Something went wrong on the server; the failure has been logged.")


def status_of(error: ParlourError) -> int:
    """Walk the MRO so a concrete error (NameTaken) finds its category (Conflict)."""
    for cls in type(error).__mro__:
        if cls in STATUS_BY_CATEGORY:
            return STATUS_BY_CATEGORY[cls]
    return 500


def problem(status: int, detail: str, headers: dict[str, str] | None = None) -> Response:
    """A problem document. Never cached, like every JSON answer: a cache that kept a 401 or
    a 503 would serve it after the user logged in, or after setup."""
    return Response(
        encode(problem_json(status, TITLES.get(status, "Error"), detail)),
        status_code=status,
        media_type="application/problem+json",
        headers={**(headers or {}), "Cache-Control": "no-store"},
    )


async def on_parlour_error(request: Request, exc: Exception) -> Response:
    exc = cast(ParlourError, exc)
    headers = None
    if isinstance(exc, RateLimited):
        headers = {"Retry-After": str(exc.retry_after_seconds)}
    return problem(status_of(exc), exc.detail, headers)


def render(exc: HttpProblem) -> Response:
    return problem(type(exc).status, exc.detail, exc.headers)


def raw_answer(exc: HttpProblem, server_headers: Iterable[tuple[bytes, bytes]] = ()) -> bytes:
    """`exc` as a whole HTTP/1.1 answer, closing the connection, with the headers every
    answer carries: for the server's protocol to write itself when there is no request it
    can hand to the app (a head too large, or unparsable)."""
    response = render(exc)
    status = type(exc).status
    lines = [b"HTTP/1.1 %d %s\r\n" % (status, TITLES[status].encode())]
    for name, value in [*server_headers, *response.raw_headers, *SECURITY_HEADERS]:
        if name != b"connection":
            lines.append(b"%s: %s\r\n" % (name, value))
    lines.append(b"connection: close\r\n\r\n")
    return b"".join(lines) + response.body


async def on_http_problem(request: Request, exc: Exception) -> Response:
    return render(cast(HttpProblem, exc))


async def on_http_exception(request: Request, exc: Exception) -> Response:
    """Starlette's own errors (an unknown path, a missing file) as problem+json too."""
    exc = cast(HTTPException, exc)
    detail = {
        404: f"There is nothing at {request.url.path}.",
    }.get(exc.status_code, str(exc.detail))
    return problem(exc.status_code, detail, dict(exc.headers or {}))


async def on_storage_error(request: Request, exc: Exception) -> Response:
    log.error("storage failure on %s %s: %s", request.method, request.url.path, exc)
    if isinstance(exc, StorageFull):
        # 507 (RFC 4918), not 500: nothing is broken, the disk is full; and not 503, which
        # says setup is required (docs/api/errors.md). Reads and streams go on meanwhile.
        return problem(
            507,
            "The server's disk is full, so this change could not be saved. Nothing was "
            "changed; reading still works. Try again later.",
        )
    return problem(
        500,
        "The server could not read or save this data (a storage failure, e.g. a full disk). "
        "Nothing was changed; try again later.",
    )


class UnexpectedErrors:
    """The one boundary for errors nothing else handled: each is logged once, with its
    traceback, and answered with a 500 problem document.

    It must sit inside Starlette's ServerErrorMiddleware (app.py passes it as middleware):
    a handler for `Exception` runs inside that middleware, which re-raises to the server,
    which logs the error a second time (issue 10). Errors end here instead.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_tracked)
        except Exception as exc:
            log.error("unexpected error on %s %s", scope["method"], scope["path"], exc_info=exc)
            if not started:
                await render(Unexpected())(scope, receive, send)
            # Otherwise half an answer is out: returning unfinished makes the server close
            # the connection, which tells the client the answer is cut short.
        except asyncio.CancelledError:
            # uvicorn cancels the requests still running when its graceful shutdown ends
            # (server.GRACEFUL_SHUTDOWN_SECONDS), and would answer them in plain text. The
            # task ends here either way: re-raising would only have uvicorn log a traceback
            # for an ordinary shutdown.
            if not started:
                await render(ShuttingDown())(scope, receive, send)


EXCEPTION_HANDLERS = {
    ParlourError: on_parlour_error,
    HttpProblem: on_http_problem,
    HTTPException: on_http_exception,
    StorageError: on_storage_error,
}
