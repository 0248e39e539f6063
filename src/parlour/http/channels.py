"""POST /api/channels, DELETE /api/channels/{id}."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from parlour.domain.channels import create_channel, delete_channel
from parlour.http.body import NewChannel, NoFields, respond
from parlour.http.guards import admit_user
from parlour.http.state import parlour_of
from parlour.wire import channel_json, deleted_json


async def post_channels(request: Request) -> Response:
    session, data = await admit_user(request, NewChannel)
    channel = await create_channel(parlour_of(request).store, session, data.name)
    return respond(202, channel_json(channel))


async def delete_channel_by_id(request: Request) -> Response:
    session, _ = await admit_user(request, NoFields)
    channel_id = await delete_channel(
        parlour_of(request).store, session, request.path_params["channel_id"]
    )
    return respond(202, deleted_json(channel_id))
