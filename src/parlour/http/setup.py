"""POST /api/setup."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from parlour.domain.setup import set_up
from parlour.http.auth import set_cookie
from parlour.http.body import Credentials, check_media_type, parse_body, read_body, respond
from parlour.http.state import parlour_of
from parlour.wire import user_json


async def post_setup(request: Request) -> Response:
    p = parlour_of(request)
    body = await read_body(request)
    # docs/api/setup.md: once setup is completed the answer is 409 whatever the body.
    await p.setup.require_not_done()
    check_media_type(request, body)
    data = parse_body(body, Credentials)
    login = await set_up(
        p.store, p.setup, p.passwords, data.name, data.password, p.config.session_expiry
    )
    response = respond(200, user_json(login.user))
    set_cookie(request, response, login.token, login.expires_at)
    return response
