"""Request bodies: size limit (413), media type (415), JSON shape (400), per SPEC's order."""

from __future__ import annotations

import asyncio
from typing import Any, TypeVar, cast

import msgspec
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from parlour.errors import InvalidInput
from parlour.http.errors import BodyCutShort, BodyTooSlow, ContentTooLarge, NotJson
from parlour.wire import encode

# SPEC "HTTP conventions": 65,536 bytes are accepted, one byte more gets 413.
MAX_BODY_BYTES = 65_536
# A whole body must arrive within this long (at least 3.2 kB/s for the largest): a client
# that declares more than it sends would otherwise hold a connection and a task for ever
# (issue 6). The answer is 408, and the connection is closed, its rest unread.
BODY_SECONDS = 20

# Scope key under which the body, once read, waits for the handler.
BODY = "parlour.body"

T = TypeVar("T", bound=msgspec.Struct)


class Credentials(msgspec.Struct):
    name: str
    password: str


class PasswordChange(msgspec.Struct):
    password: str
    to: str


class NewChannel(msgspec.Struct):
    name: str


class NewMessage(msgspec.Struct):
    body: str


class NoFields(msgspec.Struct):
    pass


async def read_body(request: Request) -> bytes:
    """The whole body, or ContentTooLarge as soon as it is known to be too large.

    Read once per request, before anything else is checked (routes.PathEndpoint); later
    calls, from the handler's guards, return the same bytes.
    """
    if BODY in request.scope:
        body: bytes = request.scope[BODY]
        return body
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise ContentTooLarge(MAX_BODY_BYTES)
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(BODY_SECONDS):
            async for chunk in request.stream():
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise ContentTooLarge(MAX_BODY_BYTES)
                chunks.append(chunk)
    except TimeoutError:
        raise BodyTooSlow(BODY_SECONDS) from None
    except ClientDisconnect:
        # The client went away mid-body: nobody will read this answer, and it is no failure
        # of the server's (which an unexpected exception would log as one).
        raise BodyCutShort() from None
    request.scope[BODY] = body = b"".join(chunks)
    return body


def is_json(request: Request) -> bool:
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return media_type == "application/json"


def check_media_type(request: Request, body: bytes) -> None:
    """415 for a body that is not declared as JSON (an empty body needs no type)."""
    if body and not is_json(request):
        raise NotJson()


_decoders: dict[type[msgspec.Struct], Any] = {}


def parse_body(body: bytes, shape: type[T]) -> T:
    """Decode a JSON object into `shape`; unknown fields are ignored. Raises InvalidInput."""
    if not body.strip():
        if shape is NoFields:
            return shape()
        raise InvalidInput("The request needs a JSON body.")
    decoder = _decoders.get(shape)
    if decoder is None:
        decoder = _decoders[shape] = msgspec.json.Decoder(shape)
    try:
        result = decoder.decode(body)
    except msgspec.ValidationError as e:
        raise InvalidInput(f"The request body is not valid: {e}.") from e
    except msgspec.DecodeError as e:
        raise InvalidInput(f"The request body is not valid JSON: {e}.") from e
    except UnicodeDecodeError as e:
        raise InvalidInput("The request body is not valid UTF-8 text.") from e
    return cast(T, result)


def respond(status: int, data: object) -> Response:
    """A JSON response; API answers are never cached (they carry per-user state)."""
    return Response(
        encode(data),
        status_code=status,
        media_type="application/json",
        headers={"Cache-Control": "no-store"},
    )
