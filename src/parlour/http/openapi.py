"""GET /api/openapi.json: the machine-readable contract, built from the route table."""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from parlour import __version__
from parlour.http.body import (
    Credentials,
    EditedMessage,
    Level,
    Members,
    NewChannel,
    NewMember,
    NewMessage,
    NewPassword,
    NewReaction,
    PasswordChange,
    ReadPosition,
    UserChange,
    respond,
)
from parlour.http.push import PushEndpoint, PushSubscription
from parlour.wire import ANSWERS

_STRING = {"type": "string"}

# Answers and request bodies are msgspec Structs (wire.py, http/body.py): their schemas are
# generated from the very types that encode and decode them, so the document cannot drift.
_, SCHEMAS = msgspec.json.schema_components(
    [
        *ANSWERS,
        Credentials,
        PasswordChange,
        NewChannel,
        NewMessage,
        UserChange,
        NewPassword,
        Members,
        NewMember,
        EditedMessage,
        NewReaction,
        ReadPosition,
        Level,
        PushSubscription,
        PushEndpoint,
    ],
    ref_template="#/components/schemas/{name}",
)
# One message of the event stream: SSE framing, not JSON, so described by hand. Before
# OpenAPI 3.2 (which adds `itemSchema`), the schema of a text/event-stream describes each
# event, not the stream as one string (issue 6: schemathesis checks every event against it).
SCHEMAS["ServerSentEvent"] = {
    "type": "object",
    "required": ["data"],
    "properties": {
        "id": {"type": "string", "pattern": "^[0-9]+$"},
        "event": _STRING,
        "data": {"type": "string", "contentMediaType": "application/json"},
        "retry": {"type": "integer", "minimum": 0},
    },
}

DESCRIPTIONS = {
    200: "OK",
    202: "Accepted: every client also receives the change as an event",
    204: "No Content",
    400: "Invalid input",
    401: "Not logged in",
    403: "Not allowed",
    404: "Not found",
    409: "Conflict",
    410: "Resume point too old: boot again",
    413: "Body larger than 65,536 bytes",
    415: "Body is not application/json",
    429: "Too many failed logins (for this name, or from this address), or the server is busy",
    503: "Setup required",
}


def operation(
    summary: str,
    ok: tuple[int, str | None],
    errors: list[int],
    body: str | None = None,
    *,
    auth: bool = True,
    params: list[dict[str, Any]] | None = None,
    also: tuple[int, str | None] | None = None,
) -> dict[str, Any]:
    """One OpenAPI operation; `ok` (and `also`, a second success) is (status, schema name or
    None)."""
    responses: dict[str, Any] = {}
    for status, schema in (ok,) if also is None else (ok, also):
        responses[str(status)] = {"description": DESCRIPTIONS[status]}
        if schema == "EventStream":
            responses[str(status)]["content"] = {
                "text/event-stream": {"schema": {"$ref": "#/components/schemas/ServerSentEvent"}}
            }
        elif schema is not None:
            responses[str(status)]["content"] = {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}
            }
    for code in errors:
        responses[str(code)] = {
            "description": DESCRIPTIONS[code],
            "content": {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            },
        }
    op: dict[str, Any] = {"summary": summary, "responses": responses}
    if body is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{body}"}}},
        }
    if auth:
        op["security"] = [{"identity": []}]
    if params:
        op["parameters"] = params
    return op


def path_id(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": _STRING}


def build_document(paths: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "parlour",
            "version": __version__,
            "description": "A small self-hosted group-chat server: JSON + Server-Sent Events.",
        },
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"identity": {"type": "apiKey", "in": "cookie", "name": "identity"}},
        },
    }


def openapi_endpoint(document: dict[str, Any]) -> Any:
    async def get_openapi(request: Request) -> Response:
        return respond(200, document)

    return get_openapi
