"""SQL that reads across tables: the boot snapshot, event replay, and expiry."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

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
    SessionId,
    Snapshot,
    User,
    UserCreated,
    UserId,
)
from parlour.store import EventBatch, Expired, ExpiryCutoffs
from parlour.store.sqlite.channels import delete_empty_channel
from parlour.store.sqlite.database import Tx
from parlour.store.sqlite.messages import delete_one_message
from parlour.store.times import from_ms, to_ms

# Each table's rows after the resume point, limited before they are merged, so a batch costs
# O(limit) however long the backlog (an unlimited UNION would rescan it for every batch).
REPLAY = """
SELECT * FROM (SELECT seq, 0, id, name, NULL, NULL, created_at FROM users
               WHERE seq > ?1 ORDER BY seq LIMIT ?2)
UNION ALL
SELECT * FROM (SELECT seq, 1, id, name, NULL, NULL, created_at FROM channels
               WHERE seq > ?1 ORDER BY seq LIMIT ?2)
UNION ALL
SELECT * FROM (SELECT seq, 2, id, channel_id, sender, body, sent_at FROM messages
               WHERE seq > ?1 ORDER BY seq LIMIT ?2)
UNION ALL
SELECT * FROM (SELECT seq, CASE kind WHEN 'message' THEN 3 ELSE 4 END, id, channel_id,
                      NULL, NULL, at FROM tombstones
               WHERE seq > ?1 ORDER BY seq LIMIT ?2)
ORDER BY 1 LIMIT ?2
"""


def _event(row: tuple[int, int, str, str, str | None, str | None, int]) -> Event:
    seq, kind, id_, text, sender, body, ms = row
    at = from_ms(ms)
    if kind == 0:
        return UserCreated(seq=Seq(seq), at=at, user=User(UserId(id_), text))
    if kind == 1:
        return ChannelCreated(seq=Seq(seq), at=at, channel=Channel(ChannelId(id_), text, at))
    if kind == 2:
        message = Message(MessageId(id_), ChannelId(text), UserId(str(sender)), str(body), at)
        return MessageSent(seq=Seq(seq), at=at, message=message)
    if kind == 3:
        return MessageDeleted(seq=Seq(seq), at=at, id=MessageId(id_), channel=ChannelId(text))
    return ChannelDeleted(seq=Seq(seq), at=at, id=ChannelId(id_))


def select_positions(conn: sqlite3.Connection) -> tuple[Seq, Seq]:
    row = conn.execute("SELECT seq, forgotten_seq FROM counter WHERE id = 1").fetchone()
    return Seq(row[0]), Seq(row[1])


def select_events(conn: sqlite3.Connection, after: Seq, limit: int) -> EventBatch:
    newest, forgotten = select_positions(conn)
    events = [_event(row) for row in conn.execute(REPLAY, (after, limit))]
    return EventBatch(events, newest, forgotten)


def select_snapshot(conn: sqlite3.Connection) -> Snapshot:
    newest, _ = select_positions(conn)
    users = [
        User(UserId(r[0]), r[1]) for r in conn.execute("SELECT id, name FROM users ORDER BY seq")
    ]
    channels = [
        Channel(ChannelId(r[0]), r[1], from_ms(r[2]))
        for r in conn.execute("SELECT id, name, created_at FROM channels ORDER BY seq")
    ]
    messages = [
        Message(MessageId(r[0]), ChannelId(r[1]), UserId(r[2]), r[3], from_ms(r[4]))
        for r in conn.execute(
            "SELECT id, channel_id, sender, body, sent_at FROM messages ORDER BY seq"
        )
    ]
    return Snapshot(newest, users, channels, messages)


def delete_expired(tx: Tx, cutoffs: ExpiryCutoffs) -> Expired:
    """Expire, in one transaction: messages, then the channels they left empty and idle,
    invites, sessions; then forget tombstones older than the message expiry period."""
    conn = tx.conn
    now = cutoffs.now
    old_messages: Iterable[tuple[str, str]] = conn.execute(
        "SELECT id, channel_id FROM messages WHERE sent_at < ? ORDER BY seq",
        (to_ms(cutoffs.messages_sent_before),),
    ).fetchall()
    for message_id, channel_id in old_messages:
        delete_one_message(tx, MessageId(message_id), ChannelId(channel_id), now)
    idle_channels = conn.execute(
        "SELECT id FROM channels c WHERE active_at < ?"
        " AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.channel_id = c.id) ORDER BY seq",
        (to_ms(cutoffs.channels_idle_since),),
    ).fetchall()
    for (channel_id,) in idle_channels:
        delete_empty_channel(tx, ChannelId(channel_id), now)
    now_ms = to_ms(now)
    conn.execute("DELETE FROM invites WHERE expires_at <= ?", (now_ms,))
    sessions = [
        SessionId(r[0])
        for r in conn.execute("DELETE FROM sessions WHERE expires_at <= ? RETURNING id", (now_ms,))
    ]
    purged = conn.execute(
        "DELETE FROM tombstones WHERE at < ? RETURNING seq", (to_ms(cutoffs.tombstones_before),)
    ).fetchall()
    if purged:
        conn.execute(
            "UPDATE counter SET forgotten_seq = max(forgotten_seq, ?) WHERE id = 1",
            (max(r[0] for r in purged),),
        )
    return Expired(list(tx.events), sessions)
