"""Request bodies: size limit (413), media type (415), JSON shape (400), per SPEC's order."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, TypeVar, cast

import msgspec
from msgspec import Meta
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from parlour.domain.names import (
    BODY_MAX_CHARS,
    NAME_MAX_CHARS,
    PASSWORD_MAX_CHARS,
    PASSWORD_MIN_CHARS,
)
from parlour.errors import InvalidInput
from parlour.http.errors import HttpProblem
from parlour.wire import encode

# SPEC "HTTP conventions": 65,536 bytes are accepted, one byte more gets 413.
MAX_BODY_BYTES = 65_536
# A whole body must arrive within this long (at least 3.2 kB/s for the largest): a client
# that declares more than it sends would otherwise hold a connection and a task for ever
# (issue 6). The answer is 408, and the connection is closed, its rest unread.
BODY_SECONDS = 20

T = TypeVar("T", bound=msgspec.Struct)


# The limits of docs/api/index.md ("Names and bodies"), published in the OpenAPI document for
# clients to read instead of copying them. Only published (extra_json_schema), never enforced
# while decoding: the domain counts code points after NFC and says what is wrong in its words.
Name = Annotated[str, Meta(extra_json_schema={"maxLength": NAME_MAX_CHARS})]
Password = Annotated[
    str,
    Meta(extra_json_schema={"minLength": PASSWORD_MIN_CHARS, "maxLength": PASSWORD_MAX_CHARS}),
]
Body = Annotated[str, Meta(extra_json_schema={"maxLength": BODY_MAX_CHARS})]


class Credentials(msgspec.Struct):
    name: Name
    password: Password


class PasswordChange(msgspec.Struct):
    password: str
    to: Password


class NewChannel(msgspec.Struct):
    name: Name


class NewMessage(msgspec.Struct):
    body: Body


class NoFields(msgspec.Struct):
    pass


async def read_body(request: Request) -> bytes:
    """The whole body, or HttpProblem(413) as soon as it is known to be too large."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise HttpProblem(413, f"The request body is larger than {MAX_BODY_BYTES} bytes.")
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(BODY_SECONDS):
            async for chunk in request.stream():
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise HttpProblem(
                        413, f"The request body is larger than {MAX_BODY_BYTES} bytes."
                    )
                chunks.append(chunk)
    except TimeoutError:
        raise HttpProblem(
            408,
            f"The request body did not arrive within {BODY_SECONDS} seconds; send it again.",
            {"Connection": "close"},
        ) from None
    except ClientDisconnect:
        # The client went away mid-body: nobody will read this answer, and it is no failure
        # of the server's (which an unexpected exception would log as one).
        raise HttpProblem(400, "The client disconnected before sending the whole body.") from None
    return b"".join(chunks)


def is_json(request: Request) -> bool:
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return media_type == "application/json"


def check_media_type(request: Request, body: bytes) -> None:
    """415 for a body that is not declared as JSON (an empty body needs no type)."""
    if body and not is_json(request):
        raise HttpProblem(
            415, "Send the request body as JSON, with Content-Type: application/json."
        )


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
