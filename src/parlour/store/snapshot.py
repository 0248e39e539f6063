"""The boot snapshot: users, channels, and the newest messages of each, in one transaction."""

from __future__ import annotations

from parlour.model import Channel, ChannelId, Message, Snapshot
from parlour.store.engine import Reader
from parlour.store.history import select_newest
from parlour.store.log import select_positions
from parlour.store.times import from_ms
from parlour.store.users import user_of


def select_snapshot(r: Reader, messages_per_channel: int) -> Snapshot:
    """Everything up to and including the newest sequence, with each channel's newest
    `messages_per_channel` messages: its cost grows with channels times that, never with the
    history retained."""
    newest, _ = select_positions(r)
    users = [
        user_of(row)
        for row in r.rows("SELECT u.id, u.name, u.role, u.active FROM users u ORDER BY seq")
    ]
    channels = [
        Channel(ChannelId(row[0]), row[1], from_ms(row[2]))
        for row in r.rows("SELECT id, name, created_at FROM channels ORDER BY seq")
    ]
    messages: list[Message] = []
    older: dict[ChannelId, bool] = {}
    for channel in channels:
        newest_messages, older[channel.id] = select_newest(r, channel.id, messages_per_channel)
        messages.extend(newest_messages)
    messages.sort(key=lambda m: m.seq)
    return Snapshot(newest, users, channels, messages, older)
