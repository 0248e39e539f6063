"""GET /api/events: where the resume point comes from, then the stream (see sse.py)."""

from __future__ import annotations

from datetime import timedelta

from starlette.requests import Request
from starlette.responses import Response

from parlour.domain.stream import EventStream
from parlour.errors import InvalidInput
from parlour.http.body import NoFields
from parlour.http.errors import StreamNeedsHttp11
from parlour.http.guards import admit_user
from parlour.http.params import non_negative_int
from parlour.http.sse import EventStreamResponse
from parlour.http.state import parlour_of


def resume_point_of(request: Request) -> int:
    """`Last-Event-ID` when present and non-empty (browsers send it on reconnect), else the
    `resume_point` query parameter. An invalid header is not rescued by a valid query."""
    header = request.headers.get("last-event-id")
    source, value = (
        ("Last-Event-ID header", header)
        if header
        else ("resume_point parameter", request.query_params.get("resume_point"))
    )
    if value is None:
        raise InvalidInput(
            "Say where to resume: the resume_point parameter (from GET /api/boot) "
            "or a Last-Event-ID header."
        )
    return non_negative_int(value, source)


# HTTP versions whose clients cannot read a chunked answer, the only way an answer of no
# known length can be sent while the connection stays usable. uvicorn would chunk the stream
# anyway, and the client would read the chunk sizes as events (issue 10). Answering such a
# client without chunking needs uvicorn's internals; a 505 tells it plainly instead.
BEFORE_CHUNKING = {"0.9", "1.0"}


async def get_events(request: Request) -> Response:
    """The stream, or for HEAD its headers alone; 505 (right after 405) for HTTP/1.0."""
    p = parlour_of(request)
    if request.scope.get("http_version") in BEFORE_CHUNKING:
        raise StreamNeedsHttp11()
    session, _ = await admit_user(request, NoFields)
    resume_point = resume_point_of(request)
    stream = await EventStream.open(p.store, p.broker, session, resume_point)
    return EventStreamResponse(stream, p.config.heartbeat / timedelta(seconds=1), p.shutting_down)
