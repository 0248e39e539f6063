"""The `identity` cookie: reading it into a Session, setting and clearing it."""

from __future__ import annotations

from datetime import datetime

from starlette.requests import Request
from starlette.responses import Response

from parlour.domain.sessions import authenticate
from parlour.http.state import parlour_of
from parlour.model import Session, now

COOKIE = "identity"


def token_of(request: Request) -> str | None:
    return request.cookies.get(COOKIE) or None


async def require_session(request: Request) -> Session:
    """401 (NotAuthenticated) for a missing, unknown, expired or revoked token."""
    p = parlour_of(request)
    return await authenticate(p.store, token_of(request), p.config.session_expiry)


def set_cookie(request: Request, response: Response, token: str, expires_at: datetime) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=max(0, int((expires_at - now()).total_seconds())),
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
