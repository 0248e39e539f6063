"""Channels: the transaction functions, for every engine."""

from __future__ import annotations

from datetime import datetime

from parlour.errors import ChannelNameTaken, ChannelNotEmpty, ChannelNotFound
from parlour.model import Channel, ChannelCreated, ChannelDeleted, ChannelId, MessageId, UserId
from parlour.store.engine import Tx
from parlour.store.log import record
from parlour.store.messages import delete_one_message
from parlour.store.times import to_ms
from parlour.store.users import require_active


def insert_channel(tx: Tx, by: UserId, channel: Channel, name_key: str) -> ChannelCreated:
    """Raises SessionEnded, ChannelNameTaken if a channel has the same name key."""
    require_active(tx, by)
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
    record(tx, event)
    return event


def delete_channel(tx: Tx, by: UserId, channel_id: ChannelId, at: datetime) -> ChannelDeleted:
    """Delete a channel: an empty one for anyone, one with messages only for an admin, who
    deletes its messages first (an event each), then the channel (docs/api/members.md).

    Raises SessionEnded, ChannelNotFound, ChannelNotEmpty.
    """
    actor = require_active(tx, by)
    if tx.value("SELECT 1 FROM channels WHERE id = ?", (channel_id,)) is None:
        raise ChannelNotFound()
    held = tx.rows("SELECT id FROM messages WHERE channel_id = ? ORDER BY seq", (channel_id,))
    if held and actor.role != "admin":
        raise ChannelNotEmpty()
    for (message_id,) in held:
        delete_one_message(tx, MessageId(message_id), channel_id, at)
    return delete_empty_channel(tx, channel_id, at)


def delete_empty_channel(tx: Tx, channel_id: ChannelId, at: datetime) -> ChannelDeleted:
    """Delete a channel known to exist and hold no messages."""
    tx.run("DELETE FROM channels WHERE id = ?", (channel_id,))
    event = ChannelDeleted(seq=tx.next_seq(), at=at, id=channel_id)
    record(tx, event)
    return event
