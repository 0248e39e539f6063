"""Messages: the transaction functions, for every engine."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from parlour.errors import ChannelNotFound, MessageNotFound, NotTheSender
from parlour.model import ChannelId, Message, MessageDeleted, MessageId, MessageSent, UserId
from parlour.store.engine import Tx
from parlour.store.log import forget_about, record
from parlour.store.times import to_ms
from parlour.store.users import require_active


def insert_message(tx: Tx, message: Message) -> MessageSent:
    """Raises SessionEnded (the sender was deactivated meanwhile), ChannelNotFound."""
    require_active(tx, message.sender)
    sent_at = to_ms(message.sent_at)
    # Marks the channel active (channel expiry counts from its newest message) and tells us,
    # in the same statement, whether the channel exists.
    touched = tx.run(
        "UPDATE channels SET active_at = CASE WHEN active_at > :at THEN active_at ELSE :at END"
        " WHERE id = :channel",
        {"at": sent_at, "channel": message.channel},
    )
    if touched == 0:
        raise ChannelNotFound()
    seq = tx.next_seq()
    tx.run(
        "INSERT INTO messages (id, channel_id, sender, body, sent_at, seq)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (message.id, message.channel, message.sender, message.body, sent_at, seq),
    )
    event = MessageSent(seq=seq, at=message.sent_at, message=replace(message, seq=seq))
    record(tx, event)
    return event


def delete_message(tx: Tx, by: UserId, message_id: MessageId, at: datetime) -> MessageDeleted:
    """Raises SessionEnded, MessageNotFound, NotTheSender (neither its sender nor an admin)."""
    actor = require_active(tx, by)
    row = tx.row("SELECT sender, channel_id FROM messages WHERE id = ?", (message_id,))
    if row is None:
        raise MessageNotFound()
    if row[0] != by and actor.role != "admin":
        raise NotTheSender()
    return delete_one_message(tx, message_id, ChannelId(row[1]), at)


def delete_one_message(
    tx: Tx, message_id: MessageId, channel_id: ChannelId, at: datetime
) -> MessageDeleted:
    """Delete a message known to exist, and every logged event about it; log its deletion."""
    tx.run("DELETE FROM messages WHERE id = ?", (message_id,))
    forget_about(tx, message_id)
    event = MessageDeleted(seq=tx.next_seq(), at=at, id=message_id, channel=channel_id)
    record(tx, event)
    return event
