"""GET, POST and DELETE /api/push: Web Push subscriptions (docs/api/push.md); and /sw.js,
the service worker that shows the pushes."""

from __future__ import annotations

from typing import TypeVar

import msgspec
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from parlour.domain.push import push_key, subscribe, unsubscribe
from parlour.http.auth import require_session
from parlour.http.body import NoFields, check_media_type, parse_body, read_body, respond
from parlour.http.guards import admit_user
from parlour.http.pages import REVALIDATE, STATIC
from parlour.http.state import parlour_of
from parlour.model import Session
from parlour.wire import PushKey

T = TypeVar("T", bound=msgspec.Struct)


class PushKeys(msgspec.Struct):
    p256dh: str
    auth: str


class PushSubscription(msgspec.Struct):
    """What a browser's `PushSubscription.toJSON()` gives (its `expirationTime` ignored)."""

    endpoint: str
    keys: PushKeys


class PushEndpoint(msgspec.Struct):
    endpoint: str


async def get_push(request: Request) -> Response:
    await admit_user(request, NoFields)
    return respond(200, PushKey(key=await push_key(parlour_of(request).push)))


async def post_push(request: Request) -> Response:
    session, data = await admit_user(request, PushSubscription)
    p = parlour_of(request)
    await subscribe(p.store, p.push, session, data.endpoint, data.keys.p256dh, data.keys.auth)
    return Response(status_code=204, headers={"Cache-Control": "no-store"})


async def delete_push(request: Request) -> Response:
    session, data = await _admit_with_body(request, PushEndpoint)
    p = parlour_of(request)
    await unsubscribe(p.store, p.push, session, data.endpoint)
    return Response(status_code=204, headers={"Cache-Control": "no-store"})


async def _admit_with_body(request: Request, shape: type[T]) -> tuple[Session, T]:
    """guards.admit_user, for a DELETE whose body names what to delete: the same checks in
    the same order (docs/api/errors.md), but the body is read as a POST's would be."""
    body = await read_body(request)
    await parlour_of(request).setup.require_done()
    session = await require_session(request)
    check_media_type(request, body)
    return session, parse_body(body, shape)


# The service worker must be served from the root for its scope to be the whole site
# (a worker at /static/sw.js could control only /static/); `Service-Worker-Allowed` says so
# explicitly. Revalidated on every load, like the client's files, so an upgrade reaches it.
SERVICE_WORKER = STATIC / "sw.js"


async def get_service_worker(request: Request) -> Response:
    return FileResponse(
        SERVICE_WORKER,
        media_type="text/javascript",
        headers={"Cache-Control": REVALIDATE, "Service-Worker-Allowed": "/"},
    )
