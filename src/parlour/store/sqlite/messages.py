"""SQL for messages."""

from __future__ import annotations

from datetime import datetime

from parlour.errors import NotAllowed, NotFound
from parlour.model import ChannelId, Message, MessageDeleted, MessageId, MessageSent, UserId
from parlour.store.sqlite.database import Tx
from parlour.store.times import to_ms


def insert_message(tx: Tx, message: Message) -> MessageSent:
    sent_at = to_ms(message.sent_at)
    # Marks the channel active (channel expiry counts from its newest message) and tells us,
    # in the same statement, whether the channel exists.
    touched = tx.conn.execute(
        "UPDATE channels SET active_at = max(active_at, ?) WHERE id = ?",
        (sent_at, message.channel),
    ).rowcount
    if touched == 0:
        raise NotFound("No such channel: it may have been deleted.")
    seq = tx.next_seq()
    tx.conn.execute(
        "INSERT INTO messages (id, channel_id, sender, body, sent_at, seq)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (message.id, message.channel, message.sender, message.body, sent_at, seq),
    )
    event = MessageSent(seq=seq, at=message.sent_at, message=message)
    tx.emit(event)
    return event


def delete_message(tx: Tx, message_id: MessageId, by: UserId, at: datetime) -> MessageDeleted:
    row = tx.conn.execute(
        "SELECT sender, channel_id FROM messages WHERE id = ?", (message_id,)
    ).fetchone()
    if row is None:
        raise NotFound("No such message: it may have been deleted already.")
    if row[0] != by:
        raise NotAllowed("Only the sender of a message can delete it.")
    return delete_one_message(tx, message_id, ChannelId(row[1]), at)


def delete_one_message(
    tx: Tx, message_id: MessageId, channel_id: ChannelId, at: datetime
) -> MessageDeleted:
    tx.conn.execute("DELETE FROM messages WHERE id = ?", (message_id,))
    seq = tx.next_seq()
    tx.conn.execute(
        "INSERT INTO tombstones (seq, kind, id, channel_id, at) VALUES (?, 'message', ?, ?, ?)",
        (seq, message_id, channel_id, to_ms(at)),
    )
    event = MessageDeleted(seq=seq, at=at, id=message_id, channel=channel_id)
    tx.emit(event)
    return event
