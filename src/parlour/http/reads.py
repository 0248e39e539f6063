"""POST /api/channels/{id}/read and /notify: one's own read state (docs/api/reads.md)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from parlour.domain.reads import mark_read, set_level
from parlour.http.body import Level, ReadPosition, respond
from parlour.http.guards import admit_user
from parlour.http.state import parlour_of
from parlour.wire import read_json


async def post_read(request: Request) -> Response:
    session, data = await admit_user(request, ReadPosition)
    state = await mark_read(
        parlour_of(request).store, session, request.path_params["channel_id"], data.seq
    )
    return respond(202, read_json(state))


async def post_notify(request: Request) -> Response:
    session, data = await admit_user(request, Level)
    state = await set_level(
        parlour_of(request).store, session, request.path_params["channel_id"], data.level
    )
    return respond(202, read_json(state))
