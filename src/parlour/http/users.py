"""POST /api/users/{id} (rename, roles, deactivation), POST /api/users/{id}/reset,
GET and POST /api/reset/{id} (docs/api/members.md)."""

from __future__ import annotations

from typing import TypeVar

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from parlour.domain.members import change_user, create_reset_link, get_reset_link, use_reset_link
from parlour.http.auth import set_cookie
from parlour.http.body import NewPassword, NoFields, UserChange, respond
from parlour.http.guards import admit, admit_user
from parlour.http.state import parlour_of
from parlour.wire import reset_link_json, user_json

T = TypeVar("T")


def _given(value: T | msgspec.UnsetType) -> T | None:
    return None if isinstance(value, msgspec.UnsetType) else value


async def post_user(request: Request) -> Response:
    p = parlour_of(request)
    session, data = await admit_user(request, UserChange)
    user = await change_user(
        p.store,
        session,
        request.path_params["user_id"],
        _given(data.name),
        _given(data.role),
        _given(data.active),
    )
    return respond(202, user_json(user))


async def post_user_reset(request: Request) -> Response:
    p = parlour_of(request)
    session, _ = await admit_user(request, NoFields)
    issued = await create_reset_link(
        p.store, session, request.path_params["user_id"], p.config.invite_expiry
    )
    return respond(200, reset_link_json(issued.link))


async def get_reset(request: Request) -> Response:
    p = parlour_of(request)
    await admit(request, NoFields)
    link = await get_reset_link(p.store, request.path_params["reset_id"])
    return respond(200, reset_link_json(link))


async def post_reset(request: Request) -> Response:
    p = parlour_of(request)
    data = await admit(request, NewPassword)
    login = await use_reset_link(
        p.store,
        p.passwords,
        request.path_params["reset_id"],
        data.password,
        p.config.session_expiry,
    )
    response = respond(200, user_json(login.user))
    set_cookie(request, response, login.token, login.expires_at)
    return response
