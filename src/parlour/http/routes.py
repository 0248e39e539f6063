"""The whole route table: read this file to see the API (and its OpenAPI description).

It is also the one place that says which methods each path serves: `Allow` headers, the
405s and the OpenAPI document all come from it (see `methods_by_path`).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import Receive, Scope, Send

from parlour.http.body import read_body
from parlour.http.boot import get_boot
from parlour.http.channels import (
    delete_channel_by_id,
    delete_channel_member,
    post_channel_members,
    post_channels,
    post_direct,
)
from parlour.http.errors import MethodNotAllowed
from parlour.http.events import get_events
from parlour.http.history import get_channel_messages
from parlour.http.invites import (
    delete_invite_by_id,
    get_invite_by_id,
    get_invites,
    post_invite,
    post_invite_by_id,
)
from parlour.http.messages import (
    delete_message_by_id,
    delete_reaction,
    post_message,
    post_message_by_id,
    post_reaction,
)
from parlour.http.openapi import build_document, openapi_endpoint, operation, path_id
from parlour.http.pages import FILE_METHODS, get_page, static_files
from parlour.http.push import delete_push, get_push, get_service_worker, post_push
from parlour.http.reads import post_notify, post_read
from parlour.http.search import get_search
from parlour.http.sessions import post_login, post_logout, post_password
from parlour.http.setup import post_setup
from parlour.http.users import get_reset, post_reset, post_user, post_user_reset

RESUME_POINT = {
    "name": "resume_point",
    "in": "query",
    "required": False,
    "schema": {"type": "integer", "minimum": 0},
    "description": "Used when no Last-Event-ID header is sent.",
}
MESSAGES_PER_CHANNEL = {
    "name": "messages",
    "in": "query",
    "required": False,
    "schema": {"type": "integer", "minimum": 0, "maximum": 200, "default": 50},
    "description": "How many of each channel's newest messages to include.",
}
HISTORY_PARAMS = [
    {"name": "before", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 0, "maximum": 2**63 - 1},
     "description": "The newest messages with a sequence below this (not with `after`)."},
    {"name": "after", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 0, "maximum": 2**63 - 1},
     "description": "The oldest messages with a sequence above this (not with `before`)."},
    {"name": "limit", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}},
]  # fmt: skip
SEARCH_PARAMS = [
    {"name": "q", "in": "query", "required": True,
     "schema": {"type": "string", "minLength": 1, "maxLength": 1000},
     "description": 'Words that must all appear, "quoted phrases", and word* for a prefix.'},
    {"name": "channel", "in": "query", "required": False, "schema": {"type": "string"},
     "description": "Only this channel's messages."},
    {"name": "before", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 0, "maximum": 2**63 - 1},
     "description": "Only messages with a sequence below this (the next page)."},
    {"name": "limit", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}},
]  # fmt: skip
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
     operation("Issue an invitation", (200, "Invite"), [400, 401, 403, 413, 415, 503])),
    ("/api/invites", "GET", get_invites,
     operation("The usable invitations one may see (all of them, for an admin)",
               (200, "Invites"), [401, 413, 503])),
    ("/api/invite/{invite_id}", "GET", get_invite_by_id,
     operation("Look at an invitation", (200, "Invite"), [404, 413, 503], auth=False,
               params=[path_id("invite_id")])),
    ("/api/invite/{invite_id}", "POST", post_invite_by_id,
     operation("Accept an invitation: create a user and log in", (200, "User"),
               [400, 404, 409, 413, 415, 429, 503], "Credentials", auth=False,
               params=[path_id("invite_id")])),
    ("/api/invite/{invite_id}", "DELETE", delete_invite_by_id,
     operation("Revoke a usable invitation (its issuer, or an admin)", (204, None),
               [401, 403, 404, 413, 503], params=[path_id("invite_id")])),
    ("/api/users/{user_id}", "POST", post_user,
     operation("Rename oneself; as an admin, rename, change a role, deactivate", (202, "User"),
               [400, 401, 403, 404, 409, 413, 415, 503], "UserChange",
               params=[path_id("user_id")])),
    ("/api/users/{user_id}/reset", "POST", post_user_reset,
     operation("Create a password-reset link for a user (admins)", (200, "ResetLink"),
               [400, 401, 403, 404, 409, 413, 415, 503], params=[path_id("user_id")])),
    ("/api/reset/{reset_id}", "GET", get_reset,
     operation("Look at a password-reset link", (200, "ResetLink"), [404, 413, 503],
               auth=False, params=[path_id("reset_id")])),
    ("/api/reset/{reset_id}", "POST", post_reset,
     operation("Set a new password through a reset link, and log in", (200, "User"),
               [400, 404, 413, 415, 429, 503], "NewPassword", auth=False,
               params=[path_id("reset_id")])),
    ("/api/boot", "GET", get_boot,
     operation("Snapshot: users, channels, each channel's newest messages, the resume point",
               (200, "Boot"), [400, 401, 413, 503], params=[MESSAGES_PER_CHANNEL])),
    ("/api/channels", "POST", post_channels,
     operation("Create a public or private channel", (202, "Channel"),
               [400, 401, 409, 413, 415, 503], "NewChannel")),
    ("/api/direct", "POST", post_direct,
     operation("The direct channel of exactly these users and the caller (made if new: 202)",
               (200, "Channel"), [400, 401, 413, 415, 503], "Members", also=(202, "Channel"))),
    ("/api/channels/{channel_id}/members", "POST", post_channel_members,
     operation("Add a user to a private channel", (202, "Channel"),
               [400, 401, 404, 409, 413, 415, 503], "NewMember",
               params=[path_id("channel_id")])),
    ("/api/channels/{channel_id}/members/{user_id}", "DELETE", delete_channel_member,
     operation("Leave a private channel, or (admins) remove someone", (202, "Channel"),
               [401, 403, 404, 409, 413, 503],
               params=[path_id("channel_id"), path_id("user_id")])),
    ("/api/channels/{channel_id}", "DELETE", delete_channel_by_id,
     operation("Delete a channel (with its messages: admins)", (202, "Deleted"),
               [401, 404, 409, 413, 503],
               params=[path_id("channel_id")])),
    ("/api/channels/{channel_id}", "POST", post_message,
     operation("Send a message (a retry with a used client_id: 200, nothing posted)",
               (202, "Message"), [400, 401, 404, 413, 415, 503], "NewMessage",
               params=[path_id("channel_id")], also=(200, "Message"))),
    ("/api/channels/{channel_id}/read", "POST", post_read,
     operation("Move one's read position forward", (202, "Read"),
               [400, 401, 404, 413, 415, 503], "ReadPosition",
               params=[path_id("channel_id")])),
    ("/api/channels/{channel_id}/notify", "POST", post_notify,
     operation("Set one's notification level for a channel", (202, "Read"),
               [400, 401, 404, 413, 415, 503], "Level", params=[path_id("channel_id")])),
    ("/api/channels/{channel_id}/messages", "GET", get_channel_messages,
     operation("A page of a channel's history", (200, "Page"), [400, 401, 404, 413, 503],
               params=[path_id("channel_id"), *HISTORY_PARAMS])),
    ("/api/messages/{message_id}", "POST", post_message_by_id,
     operation("Edit one's message", (202, "Message"), [400, 401, 403, 404, 413, 415, 503],
               "EditedMessage", params=[path_id("message_id")])),
    ("/api/messages/{message_id}/reactions", "POST", post_reaction,
     operation("React to a message", (202, "Message"), [400, 401, 404, 409, 413, 415, 503],
               "NewReaction", params=[path_id("message_id")])),
    ("/api/messages/{message_id}/reactions/{emoji:path}", "DELETE", delete_reaction,
     operation("Take back one's reaction (the emoji percent-encoded)", (202, "Message"),
               [401, 404, 413, 503], params=[path_id("message_id"), path_id("emoji")])),
    ("/api/messages/{message_id}", "DELETE", delete_message_by_id,
     operation("Delete one's own message (any message: admins)", (202, "Deleted"),
               [401, 403, 404, 413, 503],
               params=[path_id("message_id")])),
    ("/api/search", "GET", get_search,
     operation("Messages that match a query, newest first", (200, "SearchResults"),
               [400, 401, 404, 413, 503], params=SEARCH_PARAMS)),
    ("/api/push", "GET", get_push,
     operation("The server's VAPID public key, to subscribe a browser to Web Push",
               (200, "PushKey"), [401, 404, 413, 503])),
    ("/api/push", "POST", post_push,
     operation("Register this browser for Web Push (the endpoint moves to the caller)",
               (204, None), [400, 401, 404, 413, 415, 503], "PushSubscription")),
    ("/api/push", "DELETE", delete_push,
     operation("Stop pushing to one of one's browsers", (204, None),
               [400, 401, 404, 413, 415, 503], "PushEndpoint")),
    ("/api/events", "GET", get_events,
     operation("Follow the event stream (Server-Sent Events)", (200, "EventStream"),
               [400, 401, 410, 413, 503], params=[RESUME_POINT, LAST_EVENT_ID])),
]  # fmt: skip


OPENAPI_PATH = "/api/openapi.json"
# The web client's own URLs: each serves the one page, which routes itself.
PAGES = ["/", "/invite/{invite_id}", "/reset/{reset_id}", "/channels/{channel_id}"]
# The client's files, one path per file: GET and HEAD where a file exists, 404 elsewhere.
STATIC_PATH = "/static"
# The service worker (Web Push), at the root so that its scope is the whole site.
SERVICE_WORKER_PATH = "/sw.js"

Handler = Callable[[Request], Awaitable[Response]]


def methods_by_path() -> dict[str, list[str]]:
    """Every path and the methods it serves, as its `Allow` header lists them (HEAD wherever
    GET). Static files are one entry, `/static/{file}`, for the files that exist."""
    served = {path: allowed(handlers) for path, handlers in _handlers_by_path({}).items()}
    served[STATIC_PATH + "/{file}"] = list(FILE_METHODS)
    return served


def openapi_path(path: str) -> str:
    """A route's path as OpenAPI spells it: `{emoji:path}` (Starlette's converter, so that a
    percent-encoded `/` in an emoji still matches) is `{emoji}` there."""
    return re.sub(r"\{(\w+):\w+\}", r"{\1}", path)


def allowed(methods: Iterable[str]) -> list[str]:
    """What `Allow` lists for a path whose handlers have these methods: HEAD wherever GET is
    served (as HTTP asks), in a fixed order."""
    listed = set(methods)
    if "GET" in listed:
        listed.add("HEAD")
    return sorted(listed)


def build_routes() -> list[BaseRoute]:
    paths: dict[str, dict[str, Any]] = {}
    for path, method, _, op in API:
        paths.setdefault(openapi_path(path), {})[method.lower()] = op
    routes: list[BaseRoute] = [
        Route(path, PathEndpoint(handlers)) for path, handlers in _handlers_by_path(paths).items()
    ]
    routes.append(Mount(STATIC_PATH, app=static_files(), name="static"))
    return routes


def _handlers_by_path(openapi_paths: dict[str, dict[str, Any]]) -> dict[str, dict[str, Handler]]:
    by_path: dict[str, dict[str, Handler]] = {}
    for path, method, handler, _ in API:
        by_path.setdefault(path, {})[method] = handler
    by_path[OPENAPI_PATH] = {"GET": openapi_endpoint(build_document(openapi_paths))}
    for page in PAGES:
        by_path[page] = {"GET": get_page}
    by_path[SERVICE_WORKER_PATH] = {"GET": get_service_worker}
    return by_path


class PathEndpoint:
    """One path's endpoint, whatever the method: the body's size is checked first (413), then
    the method (405, with `Allow`), before any other check; HEAD runs GET's handler (the
    server sends its status and headers, without the body).

    One plain-ASGI endpoint per path, because Starlette matches one route per path, and its
    own 405 would come before the 413 (issue 10).
    """

    def __init__(self, handlers: dict[str, Handler]) -> None:
        self.handlers = handlers
        self.allow = allowed(handlers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive, send)
        await read_body(request)
        method = request.method
        handler = self.handlers.get("GET" if method == "HEAD" else method)
        if handler is None:
            raise MethodNotAllowed(method, request.url.path, self.allow)
        response = await handler(request)
        await response(scope, receive, send)
