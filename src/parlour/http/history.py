"""GET /api/channels/{id}/messages: history pages (docs/api/history.md)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from parlour.domain.history import read_page
from parlour.http.body import NoFields, respond
from parlour.http.guards import admit_user
from parlour.http.params import optional_int
from parlour.http.state import parlour_of
from parlour.wire import page_json


async def get_channel_messages(request: Request) -> Response:
    p = parlour_of(request)
    session, _ = await admit_user(request, NoFields)
    query = request.query_params
    page = await read_page(
        p.store,
        session,
        request.path_params["channel_id"],
        optional_int(query, "before"),
        optional_int(query, "after"),
        optional_int(query, "limit"),
    )
    return respond(200, page_json(page))
