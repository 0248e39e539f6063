"""POST /api/auth/login, POST /api/auth/logout, POST /api/password."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from parlour.domain.sessions import change_password, log_in, log_out
from parlour.http.auth import clear_cookie, set_cookie, token_of
from parlour.http.body import Credentials, NoFields, PasswordChange, respond
from parlour.http.guards import admit, admit_user
from parlour.http.state import parlour_of
from parlour.wire import user_json


async def post_login(request: Request) -> Response:
    p = parlour_of(request)
    data = await admit(request, Credentials)
    # The peer, or the client a trusted proxy reports (server.py, --trusted-proxies).
    address = request.client.host if request.client else None
    login = await log_in(
        p.store,
        p.throttle,
        p.passwords,
        data.name,
        data.password,
        address,
        p.config.session_expiry,
    )
    response = respond(200, user_json(login.user))
    set_cookie(request, response, login.token, login.expires_at)
    return response


async def post_logout(request: Request) -> Response:
    """204 and a cleared cookie, with or without a valid session (docs/api/sessions.md)."""
    p = parlour_of(request)
    await admit(request, NoFields)
    await log_out(p.store, token_of(request))
    response = Response(status_code=204)
    clear_cookie(request, response)
    return response


async def post_password(request: Request) -> Response:
    p = parlour_of(request)
    session, data = await admit_user(request, PasswordChange)
    await change_password(p.store, p.passwords, session, data.password, data.to)
    return respond(200, user_json(session.user))
