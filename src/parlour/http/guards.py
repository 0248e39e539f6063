"""The checks every API request passes, in SPEC's order: 413 → 503 → 401 → 415 → 400."""

from __future__ import annotations

from typing import TypeVar

import msgspec
from starlette.requests import Request

from parlour.http.auth import require_session
from parlour.http.body import check_media_type, parse_body, read_body
from parlour.http.state import parlour_of
from parlour.model import Session

T = TypeVar("T", bound=msgspec.Struct)


async def admit(request: Request, shape: type[T]) -> T:
    """For endpoints open to anyone once set up (login, invites)."""
    body = await read_body(request)
    await parlour_of(request).setup.require_done()
    check_media_type(request, body)
    return parse_body(body, shape)


async def admit_user(request: Request, shape: type[T]) -> tuple[Session, T]:
    """For endpoints that need a logged-in user."""
    body = await read_body(request)
    await parlour_of(request).setup.require_done()
    session = await require_session(request)
    check_media_type(request, body)
    return session, parse_body(body, shape)
