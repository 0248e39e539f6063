"""GET /api/search: messages that match a query, newest first (docs/api/search.md)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from parlour.domain.search import search_messages
from parlour.http.body import NoFields, respond
from parlour.http.guards import admit_user
from parlour.http.params import optional_int
from parlour.http.state import parlour_of
from parlour.wire import search_json


async def get_search(request: Request) -> Response:
    p = parlour_of(request)
    session, _ = await admit_user(request, NoFields)
    query = request.query_params
    found = await search_messages(
        p.store,
        session,
        query.get("q"),
        query.get("channel"),
        optional_int(query, "before"),
        optional_int(query, "limit"),
    )
    return respond(200, search_json(found))
