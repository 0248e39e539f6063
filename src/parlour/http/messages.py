"""POST /api/channels/{id} (send), DELETE /api/messages/{id}."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from parlour.domain.messages import delete_message, send_message
from parlour.http.body import NewMessage, NoFields, respond
from parlour.http.guards import admit_user
from parlour.http.state import parlour_of
from parlour.wire import deleted_json, message_json


async def post_message(request: Request) -> Response:
    session, data = await admit_user(request, NewMessage)
    message = await send_message(
        parlour_of(request).store, session, request.path_params["channel_id"], data.body
    )
    return respond(202, message_json(message))


async def delete_message_by_id(request: Request) -> Response:
    session, _ = await admit_user(request, NoFields)
    message_id = await delete_message(
        parlour_of(request).store, session, request.path_params["message_id"]
    )
    return respond(202, deleted_json(message_id))
