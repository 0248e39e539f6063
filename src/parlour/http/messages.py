"""POST /api/channels/{id} (send), POST and DELETE /api/messages/{id} (edit, delete), and
POST/DELETE /api/messages/{id}/reactions (docs/api/channels-and-messages.md)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from parlour.domain.messages import (
    add_reaction,
    delete_message,
    edit_message,
    remove_reaction,
    send_message,
)
from parlour.http.body import EditedMessage, NewMessage, NewReaction, NoFields, respond
from parlour.http.guards import admit_user
from parlour.http.state import parlour_of
from parlour.wire import deleted_json, message_json


async def post_message(request: Request) -> Response:
    """202 for a new message; 200 for a retry whose client_id found the message already
    sent (nothing posted twice, no event)."""
    session, data = await admit_user(request, NewMessage)
    sent = await send_message(
        parlour_of(request).store,
        session,
        request.path_params["channel_id"],
        data.body,
        data.mentions,
        data.client_id,
    )
    return respond(202 if sent.is_new else 200, message_json(sent.message))


async def post_message_by_id(request: Request) -> Response:
    session, data = await admit_user(request, EditedMessage)
    message = await edit_message(
        parlour_of(request).store,
        session,
        request.path_params["message_id"],
        data.body,
        data.mentions,
    )
    return respond(202, message_json(message))


async def delete_message_by_id(request: Request) -> Response:
    session, _ = await admit_user(request, NoFields)
    message_id = await delete_message(
        parlour_of(request).store, session, request.path_params["message_id"]
    )
    return respond(202, deleted_json(message_id))


async def post_reaction(request: Request) -> Response:
    session, data = await admit_user(request, NewReaction)
    message = await add_reaction(
        parlour_of(request).store, session, request.path_params["message_id"], data.emoji
    )
    return respond(202, message_json(message))


async def delete_reaction(request: Request) -> Response:
    session, _ = await admit_user(request, NoFields)
    message = await remove_reaction(
        parlour_of(request).store,
        session,
        request.path_params["message_id"],
        request.path_params["emoji"],
    )
    return respond(202, message_json(message))
