"""Who may see a channel: a public one everyone, a private or direct one its members only.

For everyone else such a channel does not exist: ChannelNotFound, never a 403 that would
give away that it does (docs/api/channels-and-messages.md).
"""

from __future__ import annotations

from typing import Any

from parlour.errors import ChannelNotFound
from parlour.model import Audience, Channel, ChannelId, UserId
from parlour.store.engine import Reader
from parlour.store.times import from_ms

CHANNELS = "SELECT id, name, created_at, kind FROM channels"
MEMBERS = "SELECT user_id FROM memberships WHERE channel_id = ? AND left_seq IS NULL ORDER BY ord"


def _channel(r: Reader, row: tuple[Any, ...]) -> Channel:
    kind = row[3]
    members: tuple[UserId, ...] = ()
    if kind != "public":
        members = tuple(UserId(m[0]) for m in r.rows(MEMBERS, (row[0],)))
    return Channel(ChannelId(row[0]), row[1], from_ms(row[2]), kind, members)


def select_channel(r: Reader, channel_id: ChannelId) -> Channel | None:
    row = r.row(CHANNELS + " WHERE id = ?", (channel_id,))
    return None if row is None else _channel(r, row)


def can_see(channel: Channel, user: UserId) -> bool:
    return channel.kind == "public" or user in channel.members


def audience_of(channel: Channel) -> Audience:
    """Who may receive an event about `channel` now: everyone, or its members."""
    return None if channel.kind == "public" else frozenset(channel.members)


def require_visible(r: Reader, channel_id: ChannelId, user: UserId) -> Channel:
    """The channel if `user` may see it; ChannelNotFound otherwise (it does not exist for
    them: no 403 that would give away that it does)."""
    channel = select_channel(r, channel_id)
    if channel is None or not can_see(channel, user):
        raise ChannelNotFound()
    return channel


def select_visible_channels(r: Reader, user: UserId) -> list[Channel]:
    """The channels `user` may see, in the order they were made."""
    rows = r.rows(
        "SELECT id, name, created_at, kind FROM channels c"
        " WHERE kind = 'public' OR EXISTS (SELECT 1 FROM memberships ms"
        " WHERE ms.channel_id = c.id AND ms.user_id = ? AND ms.left_seq IS NULL)"
        " ORDER BY seq",
        (user,),
    )
    return [_channel(r, row) for row in rows]
