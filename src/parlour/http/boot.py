"""GET /api/boot."""

from __future__ import annotations

from datetime import timedelta

from starlette.requests import Request
from starlette.responses import Response

from parlour.domain.boot import boot
from parlour.http.body import NoFields, respond
from parlour.http.guards import admit_user
from parlour.http.state import parlour_of
from parlour.wire import channel_json, message_json, user_json


async def get_boot(request: Request) -> Response:
    p = parlour_of(request)
    session, _ = await admit_user(request, NoFields)
    snapshot = await boot(p.store)
    return respond(
        200,
        {
            "user": user_json(session.user),
            "resume_point": snapshot.resume_point,
            "heartbeat": int(p.config.heartbeat / timedelta(seconds=1)),
            "users": [user_json(u) for u in snapshot.users],
            "channels": [channel_json(c) for c in snapshot.channels],
            "messages": [message_json(m) for m in snapshot.messages],
        },
    )
