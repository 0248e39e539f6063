"""The whole route table: read this file to see the API (and its OpenAPI description)."""

from __future__ import annotations

from typing import Any

from starlette.routing import BaseRoute, Mount, Route

from parlour.http.boot import get_boot
from parlour.http.channels import delete_channel_by_id, post_channels
from parlour.http.events import get_events
from parlour.http.invites import get_invite_by_id, post_invite, post_invite_by_id
from parlour.http.messages import delete_message_by_id, post_message
from parlour.http.openapi import build_document, openapi_endpoint, operation, path_id
from parlour.http.pages import get_page, static_files
from parlour.http.sessions import post_login, post_logout, post_password
from parlour.http.setup import post_setup

RESUME_POINT = {
    "name": "resume_point",
    "in": "query",
    "required": False,
    "schema": {"type": "integer", "minimum": 0},
    "description": "Used when no Last-Event-ID header is sent.",
}
LAST_EVENT_ID = {
    "name": "Last-Event-ID",
    "in": "header",
    "required": False,
    "schema": {"type": "string"},
}

# (path, method, handler, OpenAPI operation)
API: list[tuple[str, str, Any, dict[str, Any]]] = [
    ("/api/setup", "POST", post_setup,
     operation("Create the first user and log in", (200, "User"), [400, 409, 413, 415, 429],
               "Credentials", auth=False)),
    ("/api/auth/login", "POST", post_login,
     operation("Log in", (200, "User"), [400, 401, 413, 415, 429, 503], "Credentials",
               auth=False)),
    ("/api/auth/logout", "POST", post_logout,
     operation("Log out (revoke this session)", (204, None), [400, 413, 415, 503], auth=False)),
    ("/api/password", "POST", post_password,
     operation("Change password; other sessions are revoked", (200, "User"),
               [400, 401, 403, 413, 415, 429, 503], "PasswordChange")),
    ("/api/invite", "POST", post_invite,
     operation("Issue an invitation", (200, "Invite"), [400, 401, 413, 415, 503])),
    ("/api/invite/{invite_id}", "GET", get_invite_by_id,
     operation("Look at an invitation", (200, "Invite"), [404, 413, 503], auth=False,
               params=[path_id("invite_id")])),
    ("/api/invite/{invite_id}", "POST", post_invite_by_id,
     operation("Accept an invitation: create a user and log in", (200, "User"),
               [400, 404, 409, 413, 415, 429, 503], "Credentials", auth=False,
               params=[path_id("invite_id")])),
    ("/api/boot", "GET", get_boot,
     operation("Snapshot of everything, and the resume point", (200, "Boot"),
               [401, 413, 503])),
    ("/api/channels", "POST", post_channels,
     operation("Create a channel", (202, "Channel"), [400, 401, 409, 413, 415, 503],
               "NewChannel")),
    ("/api/channels/{channel_id}", "DELETE", delete_channel_by_id,
     operation("Delete an empty channel", (202, "Deleted"), [401, 404, 409, 413, 503],
               params=[path_id("channel_id")])),
    ("/api/channels/{channel_id}", "POST", post_message,
     operation("Send a message", (202, "Message"), [400, 401, 404, 413, 415, 503],
               "NewMessage", params=[path_id("channel_id")])),
    ("/api/messages/{message_id}", "DELETE", delete_message_by_id,
     operation("Delete one's own message", (202, "Deleted"), [401, 403, 404, 413, 503],
               params=[path_id("message_id")])),
    ("/api/events", "GET", get_events,
     operation("Follow the event stream (Server-Sent Events)", (200, "EventStream"),
               [400, 401, 410, 413, 503], params=[RESUME_POINT, LAST_EVENT_ID])),
]  # fmt: skip


def build_routes() -> list[BaseRoute]:
    paths: dict[str, dict[str, Any]] = {}
    routes: list[BaseRoute] = []
    by_path: dict[str, dict[str, Any]] = {}
    for path, method, handler, op in API:
        paths.setdefault(path, {})[method.lower()] = op
        by_path.setdefault(path, {})[method] = handler
    for path, handlers in by_path.items():
        routes.append(Route(path, _dispatch(handlers), methods=list(handlers)))
    routes.append(Route("/api/openapi.json", openapi_endpoint(build_document(paths))))
    routes.append(Mount("/static", app=static_files(), name="static"))
    routes.append(Route("/", get_page))
    routes.append(Route("/invite/{invite_id}", get_page))
    routes.append(Route("/channels/{channel_id}", get_page))
    return routes


def _dispatch(handlers: dict[str, Any]) -> Any:
    """One endpoint per path that picks the handler by method (Starlette matches one route
    per path; two Routes on one path would answer 405 for the second's methods)."""
    if len(handlers) == 1:
        return next(iter(handlers.values()))

    async def endpoint(request: Any) -> Any:
        return await handlers[request.method](request)

    return endpoint
