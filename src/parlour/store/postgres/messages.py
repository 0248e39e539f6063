"""SQL for messages (PostgreSQL)."""

from __future__ import annotations

from datetime import datetime

from parlour.errors import NotAllowed, NotFound
from parlour.model import ChannelId, Message, MessageDeleted, MessageId, MessageSent, Seq, UserId
from parlour.store.postgres.database import EVENTS_CHANNEL, PgTx
from parlour.store.times import to_ms

# One statement, so the counter row (which serialises every writer of every process) is held
# for one round trip and the commit, not four: measured at ~2 ms a message when each
# statement went separately. The counter is taken first, as every other writer takes it
# (the channel's update waits on it), so two writers never lock the two rows in opposite
# orders. The NOTIFY rides along in RETURNING; on a missing channel nothing is inserted and
# the transaction is rolled back.
SEND = """
WITH counter AS (
    UPDATE counter SET seq = seq + 1 WHERE id = 1 RETURNING seq
), channel AS (
    UPDATE channels SET active_at = GREATEST(active_at, %(sent_at)s)
    WHERE id = %(channel)s AND EXISTS (SELECT 1 FROM counter) RETURNING id
)
INSERT INTO messages (id, channel_id, sender, body, sent_at, seq)
SELECT %(id)s, channel.id, %(sender)s, %(body)s, %(sent_at)s, counter.seq
FROM counter, channel
RETURNING seq, pg_notify(%(notify)s, seq::text)
"""


async def insert_message(tx: PgTx, message: Message) -> MessageSent:
    cur = await tx.conn.execute(
        SEND,
        {
            "sent_at": to_ms(message.sent_at),
            "channel": message.channel,
            "id": message.id,
            "sender": message.sender,
            "body": message.body,
            "notify": EVENTS_CHANNEL,
        },
    )
    row = await cur.fetchone()
    if row is None:
        raise NotFound("No such channel: it may have been deleted.")
    tx.notified = True
    event = MessageSent(seq=Seq(int(row[0])), at=message.sent_at, message=message)
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
