"""The event log: every retained event, replayed to resuming streams in sequence order.

See docs/architecture.md. Each event is written to the `events` table by `record`, in the
transaction that makes it. What an event carries is kept in `data` (JSON), except a message's
body: `message sent` reads it from the message row, so no log keeps a body once a message is
deleted or expired (its log rows go with it). Old rows are purged after the message expiry
period; resume points below the newest purged sequence then get 410 (see EventBatch).
"""

from __future__ import annotations

from typing import Any

import msgspec

from parlour.model import (
    Channel,
    ChannelCreated,
    ChannelDeleted,
    ChannelId,
    Event,
    Message,
    MessageDeleted,
    MessageId,
    MessageSent,
    Seq,
    User,
    UserCreated,
    UserId,
    UserUpdated,
)
from parlour.store.engine import Reader, Tx
from parlour.store.records import EventBatch
from parlour.store.times import from_ms, to_ms

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(dict[str, Any]).decode


def _user_data(user: User) -> bytes:
    return _encode({"name": user.name, "role": user.role, "active": user.active})


def record(tx: Tx, event: Event) -> None:
    """Log `event` in this transaction and publish it once the transaction commits."""
    channel: str | None = None
    data: bytes | None = None
    match event:
        case UserCreated(user=user) | UserUpdated(user=user):
            subject: str = user.id
            data = _user_data(user)
        case ChannelCreated(channel=c):
            subject = channel = c.id
            data = _encode({"name": c.name, "created_at": to_ms(c.created_at)})
        case ChannelDeleted(id=channel_id):
            subject = channel = channel_id
        case MessageSent(message=message):
            subject, channel = message.id, message.channel
        case MessageDeleted(id=message_id, channel=channel_id):
            subject, channel = message_id, channel_id
    tx.run(
        "INSERT INTO events (seq, at, type, event, channel_id, subject, data)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            event.seq,
            to_ms(event.at),
            event.type,
            event.event,
            channel,
            subject,
            None if data is None else data.decode(),
        ),
    )
    tx.emit(event)


def forget_about(tx: Tx, subject: str) -> None:
    """Drop every logged event about `subject` (a message being deleted): what it said must
    not outlive it, and a stream need not replay what was since erased."""
    tx.run("DELETE FROM events WHERE subject = ?", (subject,))


# One ordered range scan of the log; a message's own fields come from its row.
REPLAY = """
SELECT e.seq, e.at, e.type, e.event, e.channel_id, e.subject, e.data,
       m.sender, m.body, m.sent_at
FROM events e
LEFT JOIN messages m ON e.type = 'message' AND e.event = 'sent' AND m.id = e.subject
WHERE e.seq > ?
ORDER BY e.seq
LIMIT ?
"""


def _user(subject: str, data: dict[str, Any]) -> User:
    return User(UserId(subject), data["name"], data["role"], bool(data["active"]))


def _event(row: tuple[Any, ...]) -> Event | None:
    seq, ms, type_, kind, channel, subject, data, sender, body, sent_at = row
    s, at = Seq(int(seq)), from_ms(ms)
    fields = _decode(data) if data is not None else {}
    match (type_, kind):
        case ("user", "created"):
            return UserCreated(seq=s, at=at, user=_user(subject, fields))
        case ("user", "updated"):
            return UserUpdated(seq=s, at=at, user=_user(subject, fields))
        case ("channel", "created"):
            created = Channel(ChannelId(subject), fields["name"], from_ms(fields["created_at"]))
            return ChannelCreated(seq=s, at=at, channel=created)
        case ("channel", "deleted"):
            return ChannelDeleted(seq=s, at=at, id=ChannelId(subject))
        case ("message", "sent") if body is not None:
            message = Message(
                MessageId(subject), ChannelId(channel), UserId(sender), body, from_ms(sent_at), s
            )
            return MessageSent(seq=s, at=at, message=message)
        case ("message", "deleted"):
            return MessageDeleted(seq=s, at=at, id=MessageId(subject), channel=ChannelId(channel))
    return None  # a message whose row is gone: its deletion follows


def select_positions(r: Reader) -> tuple[Seq, Seq]:
    """The newest sequence handed out, and the newest forgotten one (see EventBatch)."""
    row = r.row("SELECT seq, forgotten_seq FROM counter WHERE id = 1")
    if row is None:
        return Seq(0), Seq(0)
    return Seq(int(row[0])), Seq(int(row[1]))


def select_events(r: Reader, after: Seq, limit: int) -> EventBatch:
    """Retained events with seq > after, in order, at most `limit` of them."""
    newest, forgotten = select_positions(r)
    events: list[Event] = []
    if limit > 0:
        for row in r.rows(REPLAY, (after, limit)):
            event = _event(row)
            if event is not None:
                events.append(event)
    return EventBatch(events, newest, forgotten)


def purge(tx: Tx, before_ms: int) -> None:
    """Forget events older than `before_ms`; resume points below them now get 410."""
    purged = tx.value("SELECT max(seq) FROM events WHERE at < ?", (before_ms,))
    if purged is None:
        return
    tx.run("DELETE FROM events WHERE at < ?", (before_ms,))
    tx.run(
        "UPDATE counter SET forgotten_seq = CASE WHEN forgotten_seq > :purged"
        " THEN forgotten_seq ELSE :purged END WHERE id = 1",
        {"purged": purged},
    )
