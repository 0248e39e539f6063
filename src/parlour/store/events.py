"""Reading across tables: the boot snapshot and event replay, for every engine.

Every row that an event describes carries the event's sequence number, and deletions leave
tombstones, so the stream is replayed from the tables themselves: no log keeps a copy of a
message body after the message is gone (docs/architecture.md).
"""

from __future__ import annotations

from typing import Any

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
    Snapshot,
    User,
    UserCreated,
    UserId,
)
from parlour.store.engine import Reader
from parlour.store.records import EventBatch
from parlour.store.times import from_ms

# Each table's rows after the resume point, limited before they are merged, so a batch costs
# O(limit) however long the backlog (an unlimited UNION would rescan it for every batch).
# The parentheses let each part have its own ORDER BY and LIMIT on both engines.
REPLAY = """
SELECT * FROM (SELECT seq, 0 AS kind, id, name AS text, NULL AS sender, NULL AS body,
                      created_at AS at
               FROM users WHERE seq > :after ORDER BY seq LIMIT :limit) AS u
UNION ALL
SELECT * FROM (SELECT seq, 1, id, name, NULL, NULL, created_at FROM channels
               WHERE seq > :after ORDER BY seq LIMIT :limit) AS c
UNION ALL
SELECT * FROM (SELECT seq, 2, id, channel_id, sender, body, sent_at FROM messages
               WHERE seq > :after ORDER BY seq LIMIT :limit) AS m
UNION ALL
SELECT * FROM (SELECT seq, CASE kind WHEN 'message' THEN 3 ELSE 4 END, id, channel_id,
                      NULL, NULL, at FROM tombstones
               WHERE seq > :after ORDER BY seq LIMIT :limit) AS t
ORDER BY 1 LIMIT :limit
"""


def _event(row: tuple[Any, ...]) -> Event:
    seq, kind, id_, text, sender, body, ms = row
    at = from_ms(ms)
    s = Seq(int(seq))
    if kind == 0:
        return UserCreated(seq=s, at=at, user=User(UserId(id_), text))
    if kind == 1:
        return ChannelCreated(seq=s, at=at, channel=Channel(ChannelId(id_), text, at))
    if kind == 2:
        message = Message(MessageId(id_), ChannelId(text), UserId(str(sender)), str(body), at)
        return MessageSent(seq=s, at=at, message=message)
    if kind == 3:
        return MessageDeleted(seq=s, at=at, id=MessageId(id_), channel=ChannelId(text))
    return ChannelDeleted(seq=s, at=at, id=ChannelId(id_))


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
        events = [_event(row) for row in r.rows(REPLAY, {"after": after, "limit": limit})]
    return EventBatch(events, newest, forgotten)


def select_snapshot(r: Reader) -> Snapshot:
    """Everything up to and including the newest sequence, in one read transaction."""
    newest, _ = select_positions(r)
    users = [
        User(UserId(row[0]), row[1]) for row in r.rows("SELECT id, name FROM users ORDER BY seq")
    ]
    channels = [
        Channel(ChannelId(row[0]), row[1], from_ms(row[2]))
        for row in r.rows("SELECT id, name, created_at FROM channels ORDER BY seq")
    ]
    messages = [
        Message(MessageId(row[0]), ChannelId(row[1]), UserId(row[2]), row[3], from_ms(row[4]))
        for row in r.rows("SELECT id, channel_id, sender, body, sent_at FROM messages ORDER BY seq")
    ]
    return Snapshot(newest, users, channels, messages)
