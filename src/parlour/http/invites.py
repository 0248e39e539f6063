"""POST /api/invite, GET /api/invites, GET, POST and DELETE /api/invite/{id}."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from parlour.domain.invites import (
    accept_invite,
    get_invite,
    issue_invite,
    list_invites,
    revoke_invite,
)
from parlour.http.auth import set_cookie
from parlour.http.body import Credentials, NoFields, read_body, respond
from parlour.http.guards import admit, admit_user
from parlour.http.state import parlour_of
from parlour.wire import invite_json, invites_json, user_json


async def post_invite(request: Request) -> Response:
    p = parlour_of(request)
    session, _ = await admit_user(request, NoFields)
    admins_only = p.config.who_can_invite == "admins"
    invite = await issue_invite(p.store, session, p.config.invite_expiry, admins_only)
    return respond(200, invite_json(invite))


async def get_invites(request: Request) -> Response:
    p = parlour_of(request)
    session, _ = await admit_user(request, NoFields)
    return respond(200, invites_json(await list_invites(p.store, session)))


async def delete_invite_by_id(request: Request) -> Response:
    p = parlour_of(request)
    session, _ = await admit_user(request, NoFields)
    await revoke_invite(p.store, session, request.path_params["invite_id"])
    return Response(status_code=204, headers={"Cache-Control": "no-store"})


async def get_invite_by_id(request: Request) -> Response:
    p = parlour_of(request)
    await read_body(request)
    await p.setup.require_done()
    invite = await get_invite(p.store, request.path_params["invite_id"])
    return respond(200, invite_json(invite))


async def post_invite_by_id(request: Request) -> Response:
    p = parlour_of(request)
    data = await admit(request, Credentials)
    login = await accept_invite(
        p.store,
        p.passwords,
        request.path_params["invite_id"],
        data.name,
        data.password,
        p.config.session_expiry,
    )
    response = respond(200, user_json(login.user))
    set_cookie(request, response, login.token, login.expires_at)
    return response
