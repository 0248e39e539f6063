"""GET /api/openapi.json: the machine-readable contract, built from the route table."""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from parlour import __version__
from parlour.http.body import Credentials, NewChannel, NewMessage, PasswordChange, respond

_STRING = {"type": "string"}
_TIME = {"type": "string", "format": "date-time"}
_ID = {"type": "string", "minLength": 17}


def _object(**props: Any) -> dict[str, Any]:
    return {"type": "object", "required": list(props), "properties": props}


SCHEMAS: dict[str, Any] = {
    "User": _object(id=_ID, name=_STRING),
    "Channel": _object(id=_ID, name=_STRING, created_at=_TIME),
    "Message": _object(id=_ID, channel=_ID, sender=_ID, body=_STRING, sent_at=_TIME),
    "Invite": _object(id=_ID, issuer={"$ref": "#/components/schemas/User"}, issued_at=_TIME),
    "Deleted": _object(id=_ID),
    "Boot": _object(
        user={"$ref": "#/components/schemas/User"},
        resume_point={"type": "integer", "minimum": 0},
        heartbeat={"type": "integer", "minimum": 1},
        users={"type": "array", "items": {"$ref": "#/components/schemas/User"}},
        channels={"type": "array", "items": {"$ref": "#/components/schemas/Channel"}},
        messages={"type": "array", "items": {"$ref": "#/components/schemas/Message"}},
    ),
    "Problem": _object(type=_STRING, title=_STRING, status={"type": "integer"}, detail=_STRING),
    # One message of the event stream. Before OpenAPI 3.2 (which adds `itemSchema`), the
    # schema of a text/event-stream describes each event, not the stream as one string
    # (issue 6: schemathesis checks every event against it).
    "ServerSentEvent": {
        "type": "object",
        "required": ["data"],
        "properties": {
            "id": {"type": "string", "pattern": "^[0-9]+$"},
            "event": _STRING,
            "data": {"type": "string", "contentMediaType": "application/json"},
            "retry": {"type": "integer", "minimum": 0},
        },
    },
}
_, _BODY_SCHEMAS = msgspec.json.schema_components(
    [Credentials, PasswordChange, NewChannel, NewMessage],
    ref_template="#/components/schemas/{name}",
)
SCHEMAS.update(_BODY_SCHEMAS)

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
    429: "Too many failed logins for this name, or the server is busy checking passwords",
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
) -> dict[str, Any]:
    """One OpenAPI operation; `ok` is (status, schema name or None)."""
    status, schema = ok
    responses: dict[str, Any] = {str(status): {"description": DESCRIPTIONS[status]}}
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
