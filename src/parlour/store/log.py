"""The event log: every retained event, replayed to resuming streams in sequence order, each
to exactly the users who could see it at that moment (docs/api/events.md, "Who receives what").

See docs/architecture.md. Each event is written to the `events` table by `record`, in the
transaction that makes it, with who may see it: everyone, the members of its channel at
that moment (from `memberships`, whose [joined_seq, left_seq] intervals say who was in a
channel at any sequence), or one user. What an event carries is kept in `data` (JSON),
except a message's body: `message sent` reads it from the message row, so no log keeps a
body once a message is deleted or expired (its log rows go with it). Old rows are purged
after the message expiry period; resume points below the newest purged sequence then get
410 (see EventBatch).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import msgspec

from parlour.model import (
    Audience,
    Channel,
    ChannelCreated,
    ChannelDeleted,
    ChannelId,
    ChannelUpdated,
    Delivery,
    Event,
    Message,
    MessageDeleted,
    MessageEdited,
    MessageId,
    MessageSent,
    NotifyUpdated,
    ReactionAdded,
    ReactionRemoved,
    ReadUpdated,
    Seq,
    User,
    UserCreated,
    UserId,
    UserUpdated,
)
from parlour.store.details import message_row, with_details
from parlour.store.engine import Reader, Tx
from parlour.store.records import EventBatch
from parlour.store.times import from_ms, to_ms

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(dict[str, Any]).decode


def _user_data(user: User) -> bytes:
    return _encode({"name": user.name, "role": user.role, "active": user.active})


def _channel_data(channel: Channel) -> bytes:
    return _encode(
        {
            "name": channel.name,
            "created_at": to_ms(channel.created_at),
            "kind": channel.kind,
            "members": channel.members,
        }
    )


def record(tx: Tx, event: Event, audience: Audience = None, user: UserId | None = None) -> None:
    """Log `event` in this transaction and publish it, once committed, to `audience`.

    `audience` is None for everyone, or the members of the event's channel right now (plus a
    member being removed); `user`, for an event that only one user may see.
    """
    channel: str | None = None
    data: bytes | None = None
    match event:
        case UserCreated(user=u) | UserUpdated(user=u):
            subject: str = u.id
            data = _user_data(u)
        case ChannelCreated(channel=c) | ChannelUpdated(channel=c):
            subject = channel = c.id
            data = _channel_data(c)
        case ChannelDeleted(id=channel_id):
            subject = channel = channel_id
        case MessageSent(message=message) | MessageEdited(message=message):
            subject, channel = message.id, message.channel
        case MessageDeleted(id=message_id, channel=channel_id):
            subject, channel = message_id, channel_id
        case ReactionAdded(message=message_id, channel=channel_id, user=u, emoji=emoji) | (
            ReactionRemoved(message=message_id, channel=channel_id, user=u, emoji=emoji)
        ):
            subject, channel = message_id, channel_id
            data = _encode({"user": u, "emoji": emoji})
        case ReadUpdated(channel=channel_id, position=position):
            subject = channel = channel_id
            data = _encode({"seq": position})
        case NotifyUpdated(channel=channel_id, level=level):
            subject = channel = channel_id
            data = _encode({"level": level})
    if user is not None:
        kind, audience = "user", frozenset({user})
    else:
        kind = "all" if audience is None else "members"
    tx.run(
        "INSERT INTO events (seq, at, type, event, channel_id, subject, data, audience, user_id)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            event.seq,
            to_ms(event.at),
            event.type,
            event.event,
            channel,
            subject,
            None if data is None else data.decode(),
            kind,
            user,
        ),
    )
    tx.emit(event, audience)


def forget_about(tx: Tx, subject: str) -> None:
    """Drop every logged event about `subject` (a message being deleted): what it said must
    not outlive it, and a stream need not replay what was since erased."""
    tx.run("DELETE FROM events WHERE subject = ?", (subject,))


COLUMNS = """
SELECT e.seq, e.at, e.type, e.event, e.channel_id, e.subject, e.data, e.audience, e.user_id,
       m.id, m.channel_id, m.sender, m.body, m.sent_at, m.seq, m.edited_at, m.client_id
FROM events e
LEFT JOIN messages m ON e.type = 'message' AND e.event IN ('sent', 'edited')
                        AND m.id = e.subject
"""
# Was `:user` a member of the event's channel when it happened?
MEMBER_THEN = """
EXISTS (SELECT 1 FROM memberships ms
        WHERE ms.channel_id = e.channel_id AND ms.user_id = :user
          AND ms.joined_seq <= e.seq AND (ms.left_seq IS NULL OR ms.left_seq >= e.seq))
"""
# One ordered range scan of the log, keeping what the user could see then.
REPLAY_FOR_USER = (
    COLUMNS
    + " WHERE e.seq > :after AND (e.audience = 'all'"
    + " OR (e.audience = 'user' AND e.user_id = :user)"
    + " OR (e.audience = 'members' AND "
    + MEMBER_THEN
    + ")) ORDER BY e.seq LIMIT :limit"
)
REPLAY_ALL = COLUMNS + " WHERE e.seq > :after ORDER BY e.seq LIMIT :limit"
MEMBERS_AT = (
    "SELECT user_id FROM memberships WHERE channel_id = ? AND joined_seq <= ?"
    " AND (left_seq IS NULL OR left_seq >= ?)"
)


def _user(subject: str, data: dict[str, Any]) -> User:
    return User(UserId(subject), data["name"], data["role"], bool(data["active"]))


def _channel(subject: str, data: dict[str, Any]) -> Channel:
    return Channel(
        ChannelId(subject),
        data["name"],
        from_ms(data["created_at"]),
        data.get("kind", "public"),
        tuple(UserId(u) for u in data.get("members", ())),
    )


def _event(row: tuple[Any, ...], messages: dict[MessageId, Message]) -> Event | None:
    """The event of a COLUMNS row; `messages` holds the messages (with their details) that
    `message sent` and `message edited` rows show as they are now."""
    seq, ms, type_, kind, channel, subject, data = row[:7]
    s, at = Seq(int(seq)), from_ms(ms)
    fields = _decode(data) if data is not None else {}
    match (type_, kind):
        case ("user", "created"):
            return UserCreated(seq=s, at=at, user=_user(subject, fields))
        case ("user", "updated"):
            return UserUpdated(seq=s, at=at, user=_user(subject, fields))
        case ("channel", "created"):
            return ChannelCreated(seq=s, at=at, channel=_channel(subject, fields))
        case ("channel", "updated"):
            return ChannelUpdated(seq=s, at=at, channel=_channel(subject, fields))
        case ("channel", "deleted"):
            return ChannelDeleted(seq=s, at=at, id=ChannelId(subject))
        case ("message", "sent") if MessageId(subject) in messages:
            # Reactions come after it, each with its own event.
            message = replace(messages[MessageId(subject)], reactions=())
            return MessageSent(seq=s, at=at, message=message)
        case ("message", "edited") if MessageId(subject) in messages:
            return MessageEdited(seq=s, at=at, message=messages[MessageId(subject)])
        case ("message", "deleted"):
            return MessageDeleted(seq=s, at=at, id=MessageId(subject), channel=ChannelId(channel))
        case ("reaction", "added" | "removed"):
            made = ReactionAdded if kind == "added" else ReactionRemoved
            return made(
                seq=s,
                at=at,
                message=MessageId(subject),
                channel=ChannelId(channel),
                user=UserId(fields["user"]),
                emoji=fields["emoji"],
            )
        case ("read", "updated"):
            return ReadUpdated(seq=s, at=at, channel=ChannelId(channel), position=fields["seq"])
        case ("notify", "updated"):
            return NotifyUpdated(seq=s, at=at, channel=ChannelId(channel), level=fields["level"])
    return None  # a message whose row is gone: its deletion follows


def _events(r: Reader, rows: list[tuple[Any, ...]]) -> list[tuple[Event, tuple[Any, ...]]]:
    """The events of COLUMNS rows, each with its row; rows of erased messages are skipped."""
    shown = with_details(r, [message_row(row[9:]) for row in rows if row[9] is not None])
    messages = {m.id: m for m in shown}
    found = []
    for row in rows:
        event = _event(row, messages)
        if event is not None:
            found.append((event, row))
    return found


def select_positions(r: Reader) -> tuple[Seq, Seq]:
    """The newest sequence handed out, and the newest forgotten one (see EventBatch)."""
    row = r.row("SELECT seq, forgotten_seq FROM counter WHERE id = 1")
    if row is None:
        return Seq(0), Seq(0)
    return Seq(int(row[0])), Seq(int(row[1]))


def select_events(r: Reader, after: Seq, limit: int, user: UserId) -> EventBatch:
    """The retained events with seq > after that `user` could see when they happened, in
    order, at most `limit` of them (a resuming stream's replay)."""
    newest, forgotten = select_positions(r)
    events: list[Event] = []
    if limit > 0:
        params = {"after": after, "limit": limit, "user": user}
        events = [event for event, _ in _events(r, r.rows(REPLAY_FOR_USER, params))]
    return EventBatch(events, newest, forgotten)


def select_deliveries(r: Reader, after: Seq, limit: int) -> tuple[list[Delivery], Seq]:
    """Every retained event with seq > after (at most `limit`), with who may receive it:
    what a process that did not commit them (PostgreSQL's tail) publishes; and the newest
    sequence committed, which the caller has seen all of once a read comes back short."""
    newest, _ = select_positions(r)
    deliveries: list[Delivery] = []
    for event, row in _events(r, r.rows(REPLAY_ALL, {"after": after, "limit": limit})):
        audience_kind, user = row[7], row[8]
        audience: Audience = None
        if audience_kind == "user":
            audience = frozenset({UserId(user)})
        elif audience_kind == "members":
            members = r.rows(MEMBERS_AT, (row[4], event.seq, event.seq))
            audience = frozenset(UserId(m[0]) for m in members)
        deliveries.append(Delivery(event, audience))
    return deliveries, newest


def purge(tx: Tx, before_ms: int) -> None:
    """Forget events older than `before_ms`, and memberships that ended before them:
    resume points below the newest forgotten event now get 410."""
    purged = tx.value("SELECT max(seq) FROM events WHERE at < ?", (before_ms,))
    if purged is None:
        return
    tx.run("DELETE FROM events WHERE at < ?", (before_ms,))
    tx.run(
        "UPDATE counter SET forgotten_seq = CASE WHEN forgotten_seq > :purged"
        " THEN forgotten_seq ELSE :purged END WHERE id = 1",
        {"purged": purged},
    )
    tx.run("DELETE FROM memberships WHERE left_seq <= ?", (purged,))
