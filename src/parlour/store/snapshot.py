"""The boot snapshot: every user, channel and message, read in one transaction."""

from __future__ import annotations

from parlour.model import Channel, ChannelId, Message, MessageId, Snapshot, UserId
from parlour.store.engine import Reader
from parlour.store.log import select_positions
from parlour.store.times import from_ms
from parlour.store.users import user_of


def select_snapshot(r: Reader) -> Snapshot:
    """Everything up to and including the newest sequence, in one read transaction."""
    newest, _ = select_positions(r)
    users = [
        user_of(row)
        for row in r.rows("SELECT u.id, u.name, u.role, u.active FROM users u ORDER BY seq")
    ]
    channels = [
        Channel(ChannelId(row[0]), row[1], from_ms(row[2]))
        for row in r.rows("SELECT id, name, created_at FROM channels ORDER BY seq")
    ]
    messages = [
        Message(MessageId(row[0]), ChannelId(row[1]), UserId(row[2]), row[3], from_ms(row[4]))
        for row in r.rows("SELECT id, channel_id, sender, body, sent_at FROM messages ORDER BY seq")
    ]
    return Snapshot(newest, users, channels, messages)
