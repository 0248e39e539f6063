"""Channels: creating and deleting rooms (SPEC "Channels and messages")."""

from __future__ import annotations

from parlour.domain.names import normalize_name
from parlour.errors import ChannelNotFound
from parlour.model import Channel, ChannelId, Session, is_well_formed_id, new_id, now
from parlour.store import Store


async def create_channel(store: Store, session: Session, name: str) -> Channel:
    """Raises InvalidInput, ChannelNameTaken (same NFKC case-folded name exists)."""
    shown, key = normalize_name(name, "channel")
    channel = Channel(ChannelId(new_id("C")), shown, now())
    await store.insert_channel(session.user.id, channel, key)
    return channel


async def delete_channel(store: Store, session: Session, channel_id: str) -> ChannelId:
    """Raises ChannelNotFound, ChannelNotEmpty."""
    if not is_well_formed_id(channel_id, "C"):
        raise ChannelNotFound()
    event = await store.delete_channel(session.user.id, ChannelId(channel_id), now())
    return event.id
