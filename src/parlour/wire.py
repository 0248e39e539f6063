"""The JSON shapes of parlour's answers and events: each defined once, here (docs/api/index.md).

Each shape is a msgspec Struct. Encoding one gives the bytes a client receives, and
`msgspec.json.schema_components` gives the JSON Schema that `GET /api/openapi.json`
publishes (http/openapi.py), so the two cannot disagree. Fields are written in the order
they are declared. Adding a field to an answer is two lines here: one in its Struct and one
in the function that fills it from the model; every event that carries the shape (a
`message sent` carries the whole message) follows.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from parlour import model
from parlour.model import format_time

Id = Annotated[str, Meta(min_length=17, description="An opaque id: never parse it.")]
Time = Annotated[
    str,
    Meta(
        description="RFC 3339 in UTC with milliseconds and a Z suffix.",
        extra_json_schema={"format": "date-time"},
    ),
]


# gc=False: these are short-lived trees without cycles, so the cyclic garbage collector need
# not track them (cheaper to build on the fan-out's hot path).
class Shape(msgspec.Struct, gc=False):
    """Base of every JSON shape: a Struct that encodes as an object."""


class User(Shape):
    """A user, as every answer and event shows one."""

    id: Id
    name: str
    role: Literal["admin", "member"]
    active: bool


class UserRef(Shape):
    """Who issued an invitation, or whom a reset link is for: just enough to show them."""

    id: Id
    name: str


class Channel(Shape):
    """A channel: public (everyone sees it), private (named, members only) or direct (a
    conversation among a fixed set of users, with no name)."""

    id: Id
    name: str | None
    created_at: Time
    kind: Literal["public", "private", "direct"]
    members: Annotated[
        list[Id] | msgspec.UnsetType,
        Meta(description="A private or direct channel's members, in the order they joined."),
    ] = msgspec.UNSET


class Message(Shape):
    """A message; the body is returned exactly as stored (after NFC), never escaped."""

    id: Id
    seq: Annotated[int, Meta(ge=1, description="The sequence of its `message sent` event.")]
    channel: Id
    sender: Id
    body: str
    sent_at: Time
    edited_at: Time | None
    mentions: list[Id]
    reactions: list[Reaction]
    client_id: str | None


class Reaction(Shape):
    """One emoji on a message and who added it, in order."""

    emoji: str
    users: list[Id]


class Edited(Shape):
    """What a `message edited` event says besides its head."""

    id: Id
    channel: Id
    body: str
    mentions: list[Id]
    edited_at: Time


class ReactionChange(Shape):
    """What a `reaction added` or `reaction removed` event says besides its head."""

    message: Id
    channel: Id
    user: Id
    emoji: str


class ReadChange(Shape):
    """What a `read updated` event says (to its own user only) besides its head."""

    channel: Id
    seq: int


class NotifyChange(Shape):
    """What a `notify updated` event says (to its own user only) besides its head."""

    channel: Id
    level: Literal["all", "mentions", "none"]


class Read(Shape):
    """A user's read state in one channel (docs/api/reads.md)."""

    seq: Annotated[
        int, Meta(ge=0, description="The read position: later messages of others are unread.")
    ]
    unread: Annotated[int, Meta(ge=0)]
    mentions: Annotated[int, Meta(ge=0, description="How many unread messages mention the user.")]
    notify: Literal["all", "mentions", "none"]


class Invite(Shape):
    """An invitation and who issued it."""

    id: Id
    issuer: UserRef
    issued_at: Time
    expires_at: Time


class Invites(Shape):
    """The usable invitations the caller may see, oldest first."""

    invites: list[Invite]


class ResetLink(Shape):
    """A password-reset link; its id is the secret that the link's path carries."""

    id: Annotated[str, Meta(min_length=17, description="The link's token: /reset/{id}.")]
    user: UserRef
    issued_at: Time
    expires_at: Time


class Deleted(Shape):
    """What a deletion answers: the id of what is gone (its event follows on the stream)."""

    id: Id


class Boot(Shape):
    """A consistent snapshot: the effect of every event up to `resume_point`, and no other."""

    user: User
    resume_point: Annotated[int, Meta(ge=0)]
    heartbeat: Annotated[int, Meta(ge=1, description="Seconds between heartbeats.")]
    users: list[User]
    channels: list[Channel]
    messages: list[Message]
    older: Annotated[
        dict[str, bool],
        Meta(description="For every channel: whether it retains messages older than these."),
    ]
    reads: Annotated[dict[str, Read], Meta(description="The read state of every channel.")]


class Page(Shape):
    """A page of one channel's history, in sequence order (docs/api/history.md)."""

    messages: list[Message]
    older: bool
    newer: bool
    position: Annotated[
        int, Meta(ge=0, description="Every event up to this sequence is reflected here.")
    ]


class SearchResult(Shape):
    """A message that matched, and where (docs/api/search.md)."""

    message: Message
    highlights: Annotated[
        list[tuple[int, int]],
        Meta(
            description="[start, end) offsets, in code points, into the body of the words that"
            " matched, in order; mark them up as text, never as HTML."
        ),
    ]


class SearchResults(Shape):
    """A page of matches, newest first (docs/api/search.md)."""

    results: list[SearchResult]
    older: Annotated[bool, Meta(description="Whether more messages match below the last one.")]


class Problem(Shape):
    """An RFC 9457 problem document: every error answer is one (docs/api/errors.md)."""

    type: Literal["about:blank"]
    title: str
    status: int
    detail: str


class PushKey(Shape):
    """The server's VAPID public key, for `PushManager.subscribe` (docs/api/push.md)."""

    key: Annotated[
        str,
        Meta(description="An uncompressed P-256 point (65 bytes), base64url without padding."),
    ]


class DeletedMessage(Shape):
    """What a `message deleted` event says besides its head."""

    id: Id
    channel: Id


class EventHead(Shape):
    """What every event starts with; the fields of what it is about follow (docs/api/events.md)."""

    type: str
    event: str
    at: Time


ANSWERS: tuple[type[Shape], ...] = (
    User,
    Channel,
    Message,
    Invite,
    Invites,
    ResetLink,
    Deleted,
    Boot,
    Page,
    Read,
    SearchResults,
    PushKey,
    Problem,
)
"""The shapes http/openapi.py publishes as components/schemas, under their class names."""

_encoder = msgspec.json.Encoder()


def encode(value: Any) -> bytes:
    return _encoder.encode(value)


def user_json(user: model.User) -> User:
    return User(user.id, user.name, user.role, user.active)


def user_ref_json(user: model.User) -> UserRef:
    return UserRef(user.id, user.name)


def channel_json(channel: model.Channel) -> Channel:
    members: list[str] | msgspec.UnsetType = msgspec.UNSET
    if channel.kind != "public":
        members = list(channel.members)
    return Channel(channel.id, channel.name, format_time(channel.created_at), channel.kind, members)


def message_json(message: model.Message) -> Message:
    return Message(
        message.id,
        message.seq,
        message.channel,
        message.sender,
        message.body,
        format_time(message.sent_at),
        None if message.edited_at is None else format_time(message.edited_at),
        list(message.mentions),
        [Reaction(r.emoji, list(r.users)) for r in message.reactions],
        message.client_id,
    )


def read_json(state: model.ReadState) -> Read:
    return Read(state.seq, state.unread, state.mentions, state.notify)


def invite_json(invite: model.Invite) -> Invite:
    return Invite(
        invite.id,
        user_ref_json(invite.issuer),
        format_time(invite.issued_at),
        format_time(invite.expires_at),
    )


def invites_json(invites: list[model.Invite]) -> Invites:
    return Invites([invite_json(i) for i in invites])


def reset_link_json(link: model.ResetLink) -> ResetLink:
    return ResetLink(
        link.id, user_ref_json(link.user), format_time(link.issued_at), format_time(link.expires_at)
    )


def deleted_json(gone: str) -> Deleted:
    return Deleted(gone)


def boot_json(user: model.User, snapshot: model.Snapshot, heartbeat_seconds: int) -> Boot:
    return Boot(
        user_json(user),
        snapshot.resume_point,
        heartbeat_seconds,
        [user_json(u) for u in snapshot.users],
        [channel_json(c) for c in snapshot.channels],
        [message_json(m) for m in snapshot.messages],
        {channel: older for channel, older in snapshot.older.items()},
        {channel: read_json(state) for channel, state in snapshot.reads.items()},
    )


def page_json(page: model.Page) -> Page:
    return Page([message_json(m) for m in page.messages], page.older, page.newer, page.position)


def search_json(found: model.SearchResults) -> SearchResults:
    return SearchResults(
        [SearchResult(message_json(r.message), list(r.highlights)) for r in found.results],
        found.older,
    )


def problem_json(status: int, title: str, detail: str) -> Problem:
    return Problem("about:blank", title, status, detail)


def event_json(event: model.Event) -> bytes:
    """One event as JSON: its head, then the fields of the user, channel or message it is about.

    The two objects are encoded, then joined into one (`{head…}` + `{about…}` →
    `{head…,about…}`): the shape of what an event is about is the one defined above, never
    restated per event, and it costs no copy into an intermediate dict.
    """
    about: Shape
    match event:
        case model.UserCreated(user=user) | model.UserUpdated(user=user):
            about = user_json(user)
        case model.ChannelCreated(channel=channel) | model.ChannelUpdated(channel=channel):
            about = channel_json(channel)
        case model.ChannelDeleted(id=channel_id):
            about = Deleted(channel_id)
        case model.MessageSent(message=message):
            about = message_json(message)
        case model.MessageEdited(message=message):
            edited_at = message.edited_at or event.at
            about = Edited(
                message.id, message.channel, message.body, list(message.mentions),
                format_time(edited_at),
            )  # fmt: skip
        case model.ReactionAdded(message=m, channel=c, user=u, emoji=emoji) | (
            model.ReactionRemoved(message=m, channel=c, user=u, emoji=emoji)
        ):
            about = ReactionChange(m, c, u, emoji)
        case model.ReadUpdated(channel=c, position=position):
            about = ReadChange(c, position)
        case model.NotifyUpdated(channel=c, level=level):
            about = NotifyChange(c, level)
        case model.MessageDeleted(id=message_id, channel=channel_id):
            about = DeletedMessage(message_id, channel_id)
    head = _encoder.encode(EventHead(event.type, event.event, format_time(event.at)))
    # Every shape has at least one field, so `about` is never `{}` and the comma is right.
    return head[:-1] + b"," + _encoder.encode(about)[1:]


def event_frame(event: model.Event) -> bytes:
    """One SSE message: `id:` then one `data:` line of JSON.

    msgspec escapes every control character in strings (CR and LF included), so
    the JSON is always one line and a message body can never break the framing.
    """
    return b"id: %d\ndata: %s\n\n" % (event.seq, event_json(event))


HEARTBEAT_FRAME = b"event: heartbeat\ndata: {}\n\n"
