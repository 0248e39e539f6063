"""The `identity` cookie: reading it into a Session, setting, renewing and clearing it."""

from __future__ import annotations

import math
from datetime import datetime

from starlette.requests import Request
from starlette.responses import Response

from parlour.domain.sessions import authenticate
from parlour.http.headers import RENEWED_COOKIE
from parlour.http.state import parlour_of
from parlour.model import Session, now

COOKIE = "identity"


def token_of(request: Request) -> str | None:
    return request.cookies.get(COOKIE) or None


async def require_session(request: Request) -> Session:
    """401 (NotAuthenticated) for a missing, unknown, expired or revoked token.

    When this use extends the session, the response also renews the cookie, so that a
    browser in daily use is not logged out when the cookie it got at login runs out.
    """
    p = parlour_of(request)
    token = token_of(request)
    result = await authenticate(p.store, token, p.config.session_expiry)
    if result.renewed and token is not None:
        request.scope[RENEWED_COOKIE] = cookie_header(request, token, result.session.expires_at)
    return result.session


def cookie_header(request: Request, token: str, expires_at: datetime) -> tuple[bytes, bytes]:
    """The Set-Cookie header `set_cookie` would add, for a response not yet built."""
    response = Response()
    set_cookie(request, response, token, expires_at)
    return response.raw_headers[-1]


def set_cookie(request: Request, response: Response, token: str, expires_at: datetime) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=max(0, math.ceil((expires_at - now()).total_seconds())),
        path="/",
        secure=parlour_of(request).config.behind_https,
        httponly=True,
        samesite="strict",
    )


def clear_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(
        COOKIE,
        path="/",
        secure=parlour_of(request).config.behind_https,
        httponly=True,
        samesite="strict",
    )
