"""POST /api/channels, DELETE /api/channels/{id}, POST /api/direct, and
POST/DELETE /api/channels/{id}/members (docs/api/channels-and-messages.md)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from parlour.domain.channels import (
    add_member,
    create_channel,
    delete_channel,
    open_direct,
    remove_member,
)
from parlour.http.body import Members, NewChannel, NewMember, NoFields, respond
from parlour.http.guards import admit_user
from parlour.http.state import parlour_of
from parlour.wire import channel_json, deleted_json


async def post_channels(request: Request) -> Response:
    session, data = await admit_user(request, NewChannel)
    channel = await create_channel(
        parlour_of(request).store, session, data.name, data.kind, data.members
    )
    return respond(202, channel_json(channel))


async def delete_channel_by_id(request: Request) -> Response:
    session, _ = await admit_user(request, NoFields)
    channel_id = await delete_channel(
        parlour_of(request).store, session, request.path_params["channel_id"]
    )
    return respond(202, deleted_json(channel_id))


async def post_direct(request: Request) -> Response:
    """200 with the existing conversation, 202 (and a `channel created` event) for a new one."""
    session, data = await admit_user(request, Members)
    channel, created = await open_direct(parlour_of(request).store, session, data.members)
    return respond(202 if created else 200, channel_json(channel))


async def post_channel_members(request: Request) -> Response:
    session, data = await admit_user(request, NewMember)
    channel = await add_member(
        parlour_of(request).store, session, request.path_params["channel_id"], data.user
    )
    return respond(202, channel_json(channel))


async def delete_channel_member(request: Request) -> Response:
    session, _ = await admit_user(request, NoFields)
    channel = await remove_member(
        parlour_of(request).store,
        session,
        request.path_params["channel_id"],
        request.path_params["user_id"],
    )
    return respond(202, channel_json(channel))
