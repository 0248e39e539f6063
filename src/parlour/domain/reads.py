"""Read state: how far a user has read each channel, and what they want to hear of it
(docs/api/reads.md)."""

from __future__ import annotations

from parlour.errors import ChannelNotFound, InvalidInput
from parlour.model import (
    NOTIFY_LEVELS,
    ChannelId,
    NotifyLevel,
    ReadState,
    Seq,
    Session,
    is_well_formed_id,
    now,
)
from parlour.store import Store


def _channel_id(channel_id: str) -> ChannelId:
    if not is_well_formed_id(channel_id, "C"):
        raise ChannelNotFound()
    return ChannelId(channel_id)


async def mark_read(store: Store, session: Session, channel_id: str, seq: int) -> ReadState:
    """Move the read position forward (never back). Raises InvalidInput, ChannelNotFound."""
    if seq < 0:
        raise InvalidInput("A read position is a non-negative sequence number.")
    return await store.update_read(session.user.id, _channel_id(channel_id), Seq(seq), now())


async def set_level(store: Store, session: Session, channel_id: str, level: str) -> ReadState:
    """Raises InvalidInput (not all, mentions or none), ChannelNotFound."""
    if level not in NOTIFY_LEVELS:
        raise InvalidInput("A notification level is all, mentions or none.")
    chosen: NotifyLevel = next(known for known in NOTIFY_LEVELS if known == level)
    return await store.update_level(session.user.id, _channel_id(channel_id), chosen, now())
