"""SQL for messages (PostgreSQL)."""

from __future__ import annotations

from datetime import datetime

from parlour.errors import NotAllowed, NotFound
from parlour.model import ChannelId, Message, MessageDeleted, MessageId, MessageSent, UserId
from parlour.store.postgres.database import PgTx
from parlour.store.times import to_ms


async def insert_message(tx: PgTx, message: Message) -> MessageSent:
    seq = await tx.next_seq()
    sent_at = to_ms(message.sent_at)
    cur = await tx.conn.execute(
        "UPDATE channels SET active_at = GREATEST(active_at, %s) WHERE id = %s",
        (sent_at, message.channel),
    )
    if cur.rowcount == 0:
        raise NotFound("No such channel: it may have been deleted.")
    await tx.conn.execute(
        "INSERT INTO messages (id, channel_id, sender, body, sent_at, seq)"
        " VALUES (%s, %s, %s, %s, %s, %s)",
        (message.id, message.channel, message.sender, message.body, sent_at, seq),
    )
    event = MessageSent(seq=seq, at=message.sent_at, message=message)
    tx.emit(event)
    return event


async def delete_message(
    tx: PgTx, message_id: MessageId, by: UserId, at: datetime
) -> MessageDeleted:
    await tx.lock_counter()
    cur = await tx.conn.execute(
        "SELECT sender, channel_id FROM messages WHERE id = %s", (message_id,)
    )
    row = await cur.fetchone()
    if row is None:
        raise NotFound("No such message: it may have been deleted already.")
    if row[0] != by:
        raise NotAllowed("Only the sender of a message can delete it.")
    return await delete_one_message(tx, message_id, ChannelId(row[1]), at)


async def delete_one_message(
    tx: PgTx, message_id: MessageId, channel_id: ChannelId, at: datetime
) -> MessageDeleted:
    await tx.conn.execute("DELETE FROM messages WHERE id = %s", (message_id,))
    seq = await tx.next_seq()
    await tx.conn.execute(
        "INSERT INTO tombstones (seq, kind, id, channel_id, at) VALUES (%s, 'message', %s, %s, %s)",
        (seq, message_id, channel_id, to_ms(at)),
    )
    event = MessageDeleted(seq=seq, at=at, id=message_id, channel=channel_id)
    tx.emit(event)
    return event
