"""The one mapping from errors to HTTP statuses, rendered as RFC 9457 problem+json.

Errors reach it three ways: the app's exception handlers (EXCEPTION_HANDLERS), and the one
boundary for what nothing else handled (UnexpectedErrors). See docs/api/errors.md.
"""

from __future__ import annotations

import logging
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
from parlour.wire import encode

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
    500: "Internal Server Error",
    503: "Service Unavailable",
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


def status_of(error: ParlourError) -> int:
    """Walk the MRO so a concrete error (NameTaken) finds its category (Conflict)."""
    for cls in type(error).__mro__:
        if cls in STATUS_BY_CATEGORY:
            return STATUS_BY_CATEGORY[cls]
    return 500


def problem(status: int, detail: str, headers: dict[str, str] | None = None) -> Response:
    """A problem document. Never cached, like every JSON answer: a cache that kept a 401 or
    a 503 would serve it after the user logged in, or after setup."""
    body = {
        "type": "about:blank",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    return Response(
        encode(body),
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
        # SPEC keeps for "setup required". Reads and streams go on meanwhile.
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


class Unexpected(HttpProblem):
    status = 500

    def __init__(self) -> None:
        super().__init__("Something went wrong on the server; the failure has been logged.")


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


EXCEPTION_HANDLERS = {
    ParlourError: on_parlour_error,
    HttpProblem: on_http_problem,
    HTTPException: on_http_exception,
    StorageError: on_storage_error,
}
