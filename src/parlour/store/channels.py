"""Channels: the transaction functions, for every engine."""

from __future__ import annotations

from datetime import datetime

from parlour.errors import ChannelNameTaken, ChannelNotEmpty, ChannelNotFound
from parlour.model import Channel, ChannelCreated, ChannelDeleted, ChannelId
from parlour.store.engine import Tx
from parlour.store.times import to_ms


def insert_channel(tx: Tx, channel: Channel, name_key: str) -> ChannelCreated:
    """Raises ChannelNameTaken if a channel has the same name key."""
    if tx.value("SELECT 1 FROM channels WHERE name_key = ?", (name_key,)) is not None:
        raise ChannelNameTaken(channel.name)
    seq = tx.next_seq()
    at = to_ms(channel.created_at)
    tx.run(
        "INSERT INTO channels (id, name, name_key, created_at, active_at, seq)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (channel.id, channel.name, name_key, at, at, seq),
    )
    event = ChannelCreated(seq=seq, at=channel.created_at, channel=channel)
    tx.emit(event)
    return event


def delete_channel(tx: Tx, channel_id: ChannelId, at: datetime) -> ChannelDeleted:
    """Raises ChannelNotFound, ChannelNotEmpty."""
    row = tx.row(
        "SELECT EXISTS (SELECT 1 FROM messages WHERE channel_id = :id) FROM channels"
        " WHERE id = :id",
        {"id": channel_id},
    )
    if row is None:
        raise ChannelNotFound()
    if row[0]:
        raise ChannelNotEmpty()
    return delete_empty_channel(tx, channel_id, at)


def delete_empty_channel(tx: Tx, channel_id: ChannelId, at: datetime) -> ChannelDeleted:
    """Delete a channel known to exist and hold no messages, leaving its tombstone."""
    tx.run("DELETE FROM channels WHERE id = ?", (channel_id,))
    seq = tx.next_seq()
    tx.run(
        "INSERT INTO tombstones (seq, kind, id, channel_id, at) VALUES (?, 'channel', ?, ?, ?)",
        (seq, channel_id, channel_id, to_ms(at)),
    )
    event = ChannelDeleted(seq=seq, at=at, id=channel_id)
    tx.emit(event)
    return event
