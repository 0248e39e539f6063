"""SQL for channels (PostgreSQL)."""

from __future__ import annotations

from datetime import datetime

import psycopg

from parlour.errors import ChannelNotEmpty, NameTaken, NotFound
from parlour.model import Channel, ChannelCreated, ChannelDeleted, ChannelId
from parlour.store.postgres.database import PgTx
from parlour.store.times import to_ms


async def insert_channel(tx: PgTx, channel: Channel, name_key: str) -> ChannelCreated:
    seq = await tx.next_seq()
    at = to_ms(channel.created_at)
    try:
        async with tx.conn.transaction():
            await tx.conn.execute(
                "INSERT INTO channels (id, name, name_key, created_at, active_at, seq)"
                " VALUES (%s, %s, %s, %s, %s, %s)",
                (channel.id, channel.name, name_key, at, at, seq),
            )
    except psycopg.errors.UniqueViolation as e:
        if e.diag.constraint_name == "channels_name_key":
            raise NameTaken(
                f"A channel named {channel.name!r} exists already; choose another name."
            ) from e
        raise
    event = ChannelCreated(seq=seq, at=channel.created_at, channel=channel)
    tx.emit(event)
    return event


async def delete_channel(tx: PgTx, channel_id: ChannelId, at: datetime) -> ChannelDeleted:
    await tx.lock_counter()  # no message can arrive while we look
    cur = await tx.conn.execute(
        "SELECT EXISTS (SELECT 1 FROM messages WHERE channel_id = %(id)s)"
        " FROM channels WHERE id = %(id)s",
        {"id": channel_id},
    )
    row = await cur.fetchone()
    if row is None:
        raise NotFound("No such channel.")
    if row[0]:
        raise ChannelNotEmpty()
    return await delete_empty_channel(tx, channel_id, at)


async def delete_empty_channel(tx: PgTx, channel_id: ChannelId, at: datetime) -> ChannelDeleted:
    await tx.conn.execute("DELETE FROM channels WHERE id = %s", (channel_id,))
    seq = await tx.next_seq()
    await tx.conn.execute(
        "INSERT INTO tombstones (seq, kind, id, channel_id, at) VALUES (%s, 'channel', %s, %s, %s)",
        (seq, channel_id, channel_id, to_ms(at)),
    )
    event = ChannelDeleted(seq=seq, at=at, id=channel_id)
    tx.emit(event)
    return event
