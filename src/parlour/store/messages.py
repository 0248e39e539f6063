"""Messages: the transaction functions, for every engine."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from parlour.errors import ChannelNotFound, MessageNotFound, NotTheSender
from parlour.model import (
    Audience,
    ChannelId,
    Message,
    MessageDeleted,
    MessageId,
    MessageSent,
    UserId,
)
from parlour.store.engine import Tx
from parlour.store.log import forget_about, record
from parlour.store.times import to_ms
from parlour.store.users import require_active
from parlour.store.visibility import audience_of, require_visible


def insert_message(tx: Tx, message: Message) -> MessageSent:
    """Raises SessionEnded (the sender was deactivated meanwhile), ChannelNotFound (none the
    sender may see)."""
    require_active(tx, message.sender)
    channel = require_visible(tx, message.channel, message.sender)
    sent_at = to_ms(message.sent_at)
    # Channel expiry counts from the newest message.
    tx.run(
        "UPDATE channels SET active_at = CASE WHEN active_at > :at THEN active_at ELSE :at END"
        " WHERE id = :channel",
        {"at": sent_at, "channel": message.channel},
    )
    seq = tx.next_seq()
    tx.run(
        "INSERT INTO messages (id, channel_id, sender, body, sent_at, seq)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (message.id, message.channel, message.sender, message.body, sent_at, seq),
    )
    event = MessageSent(seq=seq, at=message.sent_at, message=replace(message, seq=seq))
    record(tx, event, audience_of(channel))
    return event


def delete_message(tx: Tx, by: UserId, message_id: MessageId, at: datetime) -> MessageDeleted:
    """Raises SessionEnded, MessageNotFound (none that `by` may see), NotTheSender (neither
    its sender nor an admin)."""
    actor = require_active(tx, by)
    row = tx.row("SELECT sender, channel_id FROM messages WHERE id = ?", (message_id,))
    if row is None:
        raise MessageNotFound()
    try:
        channel = require_visible(tx, ChannelId(row[1]), by)
    except ChannelNotFound:
        raise MessageNotFound() from None
    if row[0] != by and actor.role != "admin":
        raise NotTheSender()
    return delete_one_message(tx, message_id, channel.id, at, audience_of(channel))


def delete_one_message(
    tx: Tx, message_id: MessageId, channel_id: ChannelId, at: datetime, audience: Audience
) -> MessageDeleted:
    """Delete a message known to exist, and every logged event about it; log its deletion."""
    tx.run("DELETE FROM messages WHERE id = ?", (message_id,))
    forget_about(tx, message_id)
    event = MessageDeleted(seq=tx.next_seq(), at=at, id=message_id, channel=channel_id)
    record(tx, event, audience)
    return event
