"""The checks every API request passes, in the order of docs/api/errors.md:
413 → 405 → 503 → 401 → 415 → 400 (the first two in routes.PathEndpoint).

Only a POST's body means anything: GET and DELETE bodies are read (so 413 still bounds
them) and otherwise ignored, as HTTP gives them no defined meaning.
"""

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
    return _parse(request, body, shape)


async def admit_user(request: Request, shape: type[T]) -> tuple[Session, T]:
    """For endpoints that need a logged-in user."""
    body = await read_body(request)
    await parlour_of(request).setup.require_done()
    session = await require_session(request)
    return session, _parse(request, body, shape)


def _parse(request: Request, body: bytes, shape: type[T]) -> T:
    if request.method != "POST":
        return parse_body(b"", shape)
    check_media_type(request, body)
    return parse_body(body, shape)
