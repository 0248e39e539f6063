"""SQL that reads across tables (PostgreSQL): boot snapshot, event replay, expiry."""

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
    SessionId,
    Snapshot,
    User,
    UserCreated,
    UserId,
)
from parlour.store import EventBatch, Expired, ExpiryCutoffs
from parlour.store.postgres.channels import delete_empty_channel
from parlour.store.postgres.database import Conn, PgTx
from parlour.store.postgres.messages import delete_one_message
from parlour.store.times import from_ms, to_ms

# As on SQLite: each table limited before the merge, so a batch costs O(limit).
REPLAY = """
(SELECT seq, 0 AS kind, id, name AS text, NULL AS sender, NULL AS body, created_at AS at
 FROM users WHERE seq > %(after)s ORDER BY seq LIMIT %(limit)s)
UNION ALL
(SELECT seq, 1, id, name, NULL, NULL, created_at FROM channels
 WHERE seq > %(after)s ORDER BY seq LIMIT %(limit)s)
UNION ALL
(SELECT seq, 2, id, channel_id, sender, body, sent_at FROM messages
 WHERE seq > %(after)s ORDER BY seq LIMIT %(limit)s)
UNION ALL
(SELECT seq, CASE kind WHEN 'message' THEN 3 ELSE 4 END, id, channel_id, NULL, NULL, at
 FROM tombstones WHERE seq > %(after)s ORDER BY seq LIMIT %(limit)s)
ORDER BY 1 LIMIT %(limit)s
"""

# Any constant shared by all parlour processes: only one of them sweeps at a time.
EXPIRY_LOCK = 0x7061726C6F7573


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


async def select_positions(conn: Conn) -> tuple[Seq, Seq]:
    cur = await conn.execute("SELECT seq, forgotten_seq FROM counter WHERE id = 1")
    row = await cur.fetchone()
    if row is None:
        return Seq(0), Seq(0)
    return Seq(int(row[0])), Seq(int(row[1]))


async def select_events(conn: Conn, after: Seq, limit: int) -> EventBatch:
    newest, forgotten = await select_positions(conn)
    events: list[Event] = []
    if limit > 0:
        cur = await conn.execute(REPLAY, {"after": after, "limit": limit})
        events = [_event(row) for row in await cur.fetchall()]
    return EventBatch(events, newest, forgotten)


async def select_snapshot(conn: Conn) -> Snapshot:
    newest, _ = await select_positions(conn)
    cur = await conn.execute("SELECT id, name FROM users ORDER BY seq")
    users = [User(UserId(r[0]), r[1]) for r in await cur.fetchall()]
    cur = await conn.execute("SELECT id, name, created_at FROM channels ORDER BY seq")
    channels = [Channel(ChannelId(r[0]), r[1], from_ms(r[2])) for r in await cur.fetchall()]
    cur = await conn.execute(
        "SELECT id, channel_id, sender, body, sent_at FROM messages ORDER BY seq"
    )
    messages = [
        Message(MessageId(r[0]), ChannelId(r[1]), UserId(r[2]), r[3], from_ms(r[4]))
        for r in await cur.fetchall()
    ]
    return Snapshot(newest, users, channels, messages)


async def delete_expired(tx: PgTx, cutoffs: ExpiryCutoffs) -> Expired:
    """As on SQLite, in one transaction; a process that finds another sweeping skips."""
    conn = tx.conn
    cur = await conn.execute("SELECT pg_try_advisory_xact_lock(%s)", (EXPIRY_LOCK,))
    row = await cur.fetchone()
    if not (row and row[0]):
        return Expired([], [])
    now = cutoffs.now
    cur = await conn.execute(
        "SELECT id, channel_id FROM messages WHERE sent_at < %s ORDER BY seq",
        (to_ms(cutoffs.messages_sent_before),),
    )
    for message_id, channel_id in await cur.fetchall():
        await delete_one_message(tx, MessageId(message_id), ChannelId(channel_id), now)
    cur = await conn.execute(
        "SELECT id FROM channels c WHERE active_at < %s"
        " AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.channel_id = c.id) ORDER BY seq",
        (to_ms(cutoffs.channels_idle_since),),
    )
    for (channel_id,) in await cur.fetchall():
        await delete_empty_channel(tx, ChannelId(channel_id), now)
    now_ms = to_ms(now)
    await conn.execute("DELETE FROM invites WHERE expires_at <= %s", (now_ms,))
    cur = await conn.execute("DELETE FROM sessions WHERE expires_at <= %s RETURNING id", (now_ms,))
    sessions = [SessionId(r[0]) for r in await cur.fetchall()]
    tx.revoked.extend(sessions)
    cur = await conn.execute(
        "DELETE FROM tombstones WHERE at < %s RETURNING seq", (to_ms(cutoffs.tombstones_before),)
    )
    purged = [int(r[0]) for r in await cur.fetchall()]
    if purged:
        await conn.execute(
            "UPDATE counter SET forgotten_seq = GREATEST(forgotten_seq, %s) WHERE id = 1",
            (max(purged),),
        )
    return Expired(list(tx.events), sessions)
