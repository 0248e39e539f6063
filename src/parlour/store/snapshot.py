"""The boot snapshot: users, channels, and the newest messages of each, in one transaction."""

from __future__ import annotations

from parlour.model import ChannelId, Message, ReadState, Snapshot, UserId
from parlour.store.details import with_details
from parlour.store.engine import Reader
from parlour.store.history import select_newest
from parlour.store.log import select_positions
from parlour.store.reads import select_read_state
from parlour.store.users import user_of
from parlour.store.visibility import select_visible_channels


def select_snapshot(r: Reader, user: UserId, messages_per_channel: int) -> Snapshot:
    """What `user` may see up to and including the newest sequence, with each visible
    channel's newest `messages_per_channel` messages: its cost grows with channels times that,
    never with the history retained."""
    newest, _ = select_positions(r)
    users = [
        user_of(row)
        for row in r.rows("SELECT u.id, u.name, u.role, u.active FROM users u ORDER BY seq")
    ]
    channels = select_visible_channels(r, user)
    messages: list[Message] = []
    older: dict[ChannelId, bool] = {}
    reads: dict[ChannelId, ReadState] = {}
    for channel in channels:
        newest_messages, older[channel.id] = select_newest(r, channel.id, messages_per_channel)
        messages.extend(newest_messages)
        reads[channel.id] = select_read_state(r, user, channel)
    messages.sort(key=lambda m: m.seq)
    return Snapshot(newest, users, channels, with_details(r, messages), older, reads)
