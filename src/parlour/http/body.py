"""Request bodies: size limit (413), media type (415), JSON shape (400), in the order of
docs/api/errors.md ("Which error wins")."""

from __future__ import annotations

import asyncio
import re
from typing import Annotated, Any, Literal, TypeVar, cast

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
from parlour.http.errors import BodyCutShort, BodyTooSlow, ContentTooLarge, NotJson
from parlour.http.params import non_negative_int
from parlour.wire import encode

# docs/api/index.md, "Conventions": 65,536 bytes are accepted, one byte more gets 413.
MAX_BODY_BYTES = 65_536
# A whole body must arrive within this long (at least 3.2 kB/s for the largest): a client
# that declares more than it sends would otherwise hold a connection and a task for ever
# (issue 6). The answer is 408, and the connection is closed, its rest unread.
BODY_SECONDS = 20

# Scope key under which the body, once read, waits for the handler.
BODY = "parlour.body"

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
    kind: Annotated[str, Meta(extra_json_schema={"enum": ["public", "private"]})] = "public"
    members: list[str] = []


class Members(msgspec.Struct):
    """POST /api/direct: the others in the conversation (the caller is always in it)."""

    members: list[str]


class NewMember(msgspec.Struct):
    user: str


class NewMessage(msgspec.Struct):
    body: Body
    mentions: list[str] = []
    client_id: str | None = None


class EditedMessage(msgspec.Struct):
    body: Body
    mentions: list[str] = []


class NewReaction(msgspec.Struct):
    emoji: str


class ReadPosition(msgspec.Struct):
    seq: int


class Level(msgspec.Struct):
    level: Annotated[str, Meta(extra_json_schema={"enum": ["all", "mentions", "none"]})]


class UserChange(msgspec.Struct):
    """POST /api/users/{id}: any of the fields; a field left out stays as it is."""

    name: Name | msgspec.UnsetType = msgspec.UNSET
    role: Literal["admin", "member"] | msgspec.UnsetType = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET


class NewPassword(msgspec.Struct):
    password: Password


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
    if (
        declared is not None
        and non_negative_int(declared, "Content-Length header") > MAX_BODY_BYTES
    ):
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
        raise InvalidInput(
            f"The request body is not valid JSON: {_lone_surrogate(body) or e}."
        ) from e
    except UnicodeDecodeError as e:
        raise InvalidInput("The request body is not valid UTF-8 text.") from e
    except RecursionError as e:
        # msgspec skips an unknown field by recursing into it, so even an ignored field
        # nested ~1,000 deep reached the limit: a 500, before any login (issue 10).
        raise InvalidInput(
            "The request body is not valid: its arrays or objects are nested too deeply."
        ) from e
    return cast(T, result)


# A JSON string's escapes, left to right: `\uXXXX`, or a backslash and the one character it
# escapes (so the `\u` in `\\u` is no escape).
_ESCAPE = re.compile(rb"\\(?:u([0-9a-fA-F]{4})|.)", re.DOTALL)


def _lone_surrogate(body: bytes) -> str | None:
    r"""Why `body` is not JSON, when the reason is a `\uXXXX` escape that is half of a UTF-16
    surrogate pair without its other half: msgspec says "Input data was truncated" for a
    lone high half (issue 10), which sends the client looking in the wrong place."""
    waiting: re.Match[bytes] | None = None  # a high half, whose low half must come next
    for escape in _ESCAPE.finditer(body):
        unit = int(escape.group(1), 16) if escape.group(1) else -1
        is_low = 0xDC00 <= unit <= 0xDFFF
        if waiting is not None:
            if is_low and escape.start() == waiting.end():
                waiting = None
                continue
            return _half_pair(waiting)
        if 0xD800 <= unit <= 0xDBFF:
            waiting = escape
        elif is_low:
            return _half_pair(escape)
    return None if waiting is None else _half_pair(waiting)


def _half_pair(escape: re.Match[bytes]) -> str:
    return (
        f"the escape {escape.group(0).decode()} is one half of a UTF-16 surrogate pair "
        "without the other half, so it stands for no character"
    )


def respond(status: int, data: object) -> Response:
    """A JSON response; API answers are never cached (they carry per-user state)."""
    return Response(
        encode(data),
        status_code=status,
        media_type="application/json",
        headers={"Cache-Control": "no-store"},
    )
