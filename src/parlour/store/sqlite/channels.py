"""SQL for channels."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from parlour.errors import ChannelNotEmpty, NameTaken, NotFound
from parlour.model import Channel, ChannelCreated, ChannelDeleted, ChannelId
from parlour.store.sqlite.database import Tx
from parlour.store.times import to_ms


def insert_channel(tx: Tx, channel: Channel, name_key: str) -> ChannelCreated:
    seq = tx.next_seq()
    at = to_ms(channel.created_at)
    try:
        tx.conn.execute(
            "INSERT INTO channels (id, name, name_key, created_at, active_at, seq)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (channel.id, channel.name, name_key, at, at, seq),
        )
    except sqlite3.IntegrityError as e:
        if "channels.name_key" in str(e):
            raise NameTaken(
                f"A channel named {channel.name!r} exists already; choose another name."
            ) from e
        raise
    event = ChannelCreated(seq=seq, at=channel.created_at, channel=channel)
    tx.emit(event)
    return event


def delete_channel(tx: Tx, channel_id: ChannelId, at: datetime) -> ChannelDeleted:
    row = tx.conn.execute(
        "SELECT EXISTS (SELECT 1 FROM messages WHERE channel_id = ?1) FROM channels WHERE id = ?1",
        (channel_id,),
    ).fetchone()
    if row is None:
        raise NotFound("No such channel.")
    if row[0]:
        raise ChannelNotEmpty()
    return delete_empty_channel(tx, channel_id, at)


def delete_empty_channel(tx: Tx, channel_id: ChannelId, at: datetime) -> ChannelDeleted:
    tx.conn.execute("DELETE FROM channels WHERE id = ?", (channel_id,))
    seq = tx.next_seq()
    tx.conn.execute(
        "INSERT INTO tombstones (seq, kind, id, channel_id, at) VALUES (?, 'channel', ?, ?, ?)",
        (seq, channel_id, channel_id, to_ms(at)),
    )
    event = ChannelDeleted(seq=seq, at=at, id=channel_id)
    tx.emit(event)
    return event
