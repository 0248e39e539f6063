"""The vocabulary of parlour: ids, entities and the closed union of events (the wire schema)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, NewType

UserId = NewType("UserId", str)
ChannelId = NewType("ChannelId", str)
MessageId = NewType("MessageId", str)
InviteId = NewType("InviteId", str)
ResetLinkId = NewType("ResetLinkId", str)
"""A password-reset link is known by its token (`R…`), which the store keeps only hashed."""
SessionId = NewType("SessionId", str)
"""A session is known by the hash of its token, never the token itself."""

Seq = NewType("Seq", int)
"""A position in the server-wide event sequence (docs/api/index.md, "The model in one page")."""

# 24 characters of base64url carry 144 bits: far beyond guessing, and over the 16 random
# characters docs/api/index.md promises.
ID_RANDOM_BYTES = 18


Role = Literal["admin", "member"]
ROLES: tuple[Role, ...] = ("admin", "member")
ChannelKind = Literal["public", "private", "direct"]
NotifyLevel = Literal["all", "mentions", "none"]
NOTIFY_LEVELS: tuple[NotifyLevel, ...] = ("all", "mentions", "none")


def new_id(prefix: Literal["U", "C", "M", "I"]) -> str:
    """A fresh opaque id: the prefix letter, then 24 URL-safe characters from the OS CSPRNG."""
    return prefix + secrets.token_urlsafe(ID_RANDOM_BYTES)


def is_well_formed_id(value: str, prefix: str) -> bool:
    """Whether `value` could be an id we issued; a malformed id is simply "not found"."""
    return (
        len(value) >= 17
        and len(value) <= 64
        and value[0] == prefix
        and all(c.isascii() and (c.isalnum() or c in "-_") for c in value[1:])
    )


def format_time(at: datetime) -> str:
    """RFC 3339 in UTC with millisecond precision and a `Z` suffix (docs/api/index.md)."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def now() -> datetime:
    """The current time, truncated to milliseconds so that what we store is what we show."""
    t = datetime.now(UTC)
    return t.replace(microsecond=t.microsecond - t.microsecond % 1000)


@dataclass(frozen=True, slots=True)
class User:
    id: UserId
    name: str
    role: Role
    active: bool


@dataclass(frozen=True, slots=True)
class Channel:
    id: ChannelId
    name: str | None
    """None for a direct channel (clients show its members' names)."""
    created_at: datetime
    kind: ChannelKind = "public"
    members: tuple[UserId, ...] = ()
    """A private or direct channel's members, in the order they joined; () when public."""


@dataclass(frozen=True, slots=True)
class Message:
    id: MessageId
    channel: ChannelId
    sender: UserId
    body: str
    sent_at: datetime
    seq: Seq
    """The sequence of its `message sent` event (0 until the store has taken it)."""
    edited_at: datetime | None = None
    mentions: tuple[UserId, ...] = ()
    reactions: tuple[Reaction, ...] = ()
    client_id: str | None = None
    """Chosen by the sender's client, so that a retry never posts twice."""


@dataclass(frozen=True, slots=True)
class Reaction:
    """One emoji on a message, and who added it, in the order they did."""

    emoji: str
    users: tuple[UserId, ...]


@dataclass(frozen=True, slots=True)
class ReadState:
    """A user's read position and notification level in one channel (docs/api/reads.md)."""

    seq: Seq
    unread: int
    mentions: int
    notify: NotifyLevel


@dataclass(frozen=True, slots=True)
class Invite:
    id: InviteId
    issuer: User
    issued_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class ResetLink:
    id: ResetLinkId
    user: User
    issued_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Session:
    id: SessionId
    user: User
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class UserCreated:
    seq: Seq
    at: datetime
    user: User
    type: Literal["user"] = "user"
    event: Literal["created"] = "created"


@dataclass(frozen=True, slots=True)
class UserUpdated:
    seq: Seq
    at: datetime
    user: User
    type: Literal["user"] = "user"
    event: Literal["updated"] = "updated"


@dataclass(frozen=True, slots=True)
class ChannelCreated:
    seq: Seq
    at: datetime
    channel: Channel
    type: Literal["channel"] = "channel"
    event: Literal["created"] = "created"


@dataclass(frozen=True, slots=True)
class ChannelUpdated:
    seq: Seq
    at: datetime
    channel: Channel
    type: Literal["channel"] = "channel"
    event: Literal["updated"] = "updated"


@dataclass(frozen=True, slots=True)
class ChannelDeleted:
    seq: Seq
    at: datetime
    id: ChannelId
    type: Literal["channel"] = "channel"
    event: Literal["deleted"] = "deleted"


@dataclass(frozen=True, slots=True)
class MessageSent:
    seq: Seq
    at: datetime
    message: Message
    type: Literal["message"] = "message"
    event: Literal["sent"] = "sent"


@dataclass(frozen=True, slots=True)
class MessageEdited:
    seq: Seq
    at: datetime
    message: Message
    type: Literal["message"] = "message"
    event: Literal["edited"] = "edited"


@dataclass(frozen=True, slots=True)
class ReactionAdded:
    seq: Seq
    at: datetime
    message: MessageId
    channel: ChannelId
    user: UserId
    emoji: str
    type: Literal["reaction"] = "reaction"
    event: Literal["added"] = "added"


@dataclass(frozen=True, slots=True)
class ReactionRemoved:
    seq: Seq
    at: datetime
    message: MessageId
    channel: ChannelId
    user: UserId
    emoji: str
    type: Literal["reaction"] = "reaction"
    event: Literal["removed"] = "removed"


@dataclass(frozen=True, slots=True)
class ReadUpdated:
    """Only for its own user's streams."""

    seq: Seq
    at: datetime
    channel: ChannelId
    position: Seq
    type: Literal["read"] = "read"
    event: Literal["updated"] = "updated"


@dataclass(frozen=True, slots=True)
class NotifyUpdated:
    """Only for its own user's streams."""

    seq: Seq
    at: datetime
    channel: ChannelId
    level: NotifyLevel
    type: Literal["notify"] = "notify"
    event: Literal["updated"] = "updated"


@dataclass(frozen=True, slots=True)
class MessageDeleted:
    seq: Seq
    at: datetime
    id: MessageId
    channel: ChannelId
    type: Literal["message"] = "message"
    event: Literal["deleted"] = "deleted"


Event = (
    UserCreated
    | UserUpdated
    | ChannelCreated
    | ChannelUpdated
    | ChannelDeleted
    | MessageSent
    | MessageEdited
    | MessageDeleted
    | ReactionAdded
    | ReactionRemoved
    | ReadUpdated
    | NotifyUpdated
)

Audience = frozenset[UserId] | None
"""Who may receive an event: None for everyone, else exactly these users."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """A committed event and who may receive it (docs/api/events.md, "Who receives what")."""

    event: Event
    audience: Audience


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What `/api/boot` shows: the effect of every event up to and including `resume_point`."""

    resume_point: Seq
    users: list[User]
    channels: list[Channel]
    messages: list[Message]
    """The newest retained messages of each channel, in sequence order."""
    older: dict[ChannelId, bool]
    """For each channel: whether it retains messages older than those in `messages`."""
    reads: dict[ChannelId, ReadState]


@dataclass(frozen=True, slots=True)
class Page:
    """A page of one channel's history (docs/api/history.md)."""

    messages: list[Message]
    older: bool
    newer: bool
    position: Seq
    """Every event up to here is reflected in the page."""


@dataclass(frozen=True, slots=True)
class SearchResult:
    """A message that matched a search, and where: the [start, end) code-point offsets in its
    body of the words that matched (docs/api/search.md)."""

    message: Message
    highlights: tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class SearchResults:
    """A page of matches, newest first, and whether more match below the last."""

    results: list[SearchResult]
    older: bool
