"""GET /api/boot."""

from __future__ import annotations

from datetime import timedelta

from starlette.requests import Request
from starlette.responses import Response

from parlour.domain.boot import boot
from parlour.http.body import NoFields, respond
from parlour.http.guards import admit_user
from parlour.http.params import optional_int
from parlour.http.state import parlour_of
from parlour.wire import boot_json


async def get_boot(request: Request) -> Response:
    p = parlour_of(request)
    session, _ = await admit_user(request, NoFields)
    snapshot = await boot(p.store, session, optional_int(request.query_params, "messages"))
    heartbeat_seconds = int(p.config.heartbeat / timedelta(seconds=1))
    return respond(200, boot_json(session.user, snapshot, heartbeat_seconds))
