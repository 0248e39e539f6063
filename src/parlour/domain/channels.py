"""Channels: public, private and direct rooms, who is in them, and deleting them
(docs/api/channels-and-messages.md)."""

from __future__ import annotations

from parlour.domain.names import normalize_name
from parlour.errors import ChannelNotFound, InvalidInput, NotAMember, UnknownMember
from parlour.model import Channel, ChannelId, Session, UserId, is_well_formed_id, new_id, now
from parlour.store import Store

# A direct conversation is among a few people: beyond this many others, make a private
# channel (docs/api/channels-and-messages.md).
MAX_DIRECT_OTHERS = 15


def _member_ids(session: Session, given: list[str]) -> tuple[UserId, ...]:
    """The caller first, then the others in the order given, duplicates collapsed.

    Raises UnknownMember for an id that cannot be a user's.
    """
    members = [session.user.id]
    for user_id in given:
        if not is_well_formed_id(user_id, "U"):
            raise UnknownMember(user_id)
        if user_id not in members:
            members.append(UserId(user_id))
    return tuple(members)


async def create_channel(
    store: Store, session: Session, name: str, kind: str, members: list[str]
) -> Channel:
    """A public channel, or a private one with the caller and `members`.

    Raises InvalidInput (name, kind), UnknownMember, ChannelNameTaken (public names only).
    """
    shown, key = normalize_name(name, "channel")
    if kind == "public":
        channel = Channel(ChannelId(new_id("C")), shown, now())
    elif kind == "private":
        channel = Channel(
            ChannelId(new_id("C")), shown, now(), "private", _member_ids(session, members)
        )
    else:
        raise InvalidInput(
            "A channel's kind is public or private; start a direct conversation with "
            "POST /api/direct."
        )
    event = await store.insert_channel(session.user.id, channel, key)
    return event.channel


async def open_direct(store: Store, session: Session, members: list[str]) -> tuple[Channel, bool]:
    """The direct channel of exactly the caller and `members`, made if new (True).

    Raises InvalidInput (more than 15 others), UnknownMember.
    """
    ids = _member_ids(session, members)
    if len(ids) - 1 > MAX_DIRECT_OTHERS:
        raise InvalidInput(
            f"A direct conversation has at most {MAX_DIRECT_OTHERS} people besides you; "
            "make a private channel for more."
        )
    channel = Channel(ChannelId(new_id("C")), None, now(), "direct", ids)
    return await store.insert_direct(channel)


def _channel_id(channel_id: str) -> ChannelId:
    if not is_well_formed_id(channel_id, "C"):
        raise ChannelNotFound()
    return ChannelId(channel_id)


async def add_member(store: Store, session: Session, channel_id: str, user_id: str) -> Channel:
    """Raises UnknownMember, ChannelNotFound, MembersOnlyInPrivate, AlreadyMember."""
    if not is_well_formed_id(user_id, "U"):
        raise UnknownMember(user_id)
    event = await store.insert_member(
        session.user.id, _channel_id(channel_id), UserId(user_id), now()
    )
    return event.channel


async def remove_member(store: Store, session: Session, channel_id: str, user_id: str) -> Channel:
    """Leave a private channel, or (an admin who is a member) remove someone from it.

    Raises ChannelNotFound, MembersOnlyInPrivate, NotAMember, AdminsOnly.
    """
    channel = _channel_id(channel_id)
    if not is_well_formed_id(user_id, "U"):
        raise NotAMember()
    event = await store.delete_member(session.user.id, channel, UserId(user_id), now())
    return event.channel


async def delete_channel(store: Store, session: Session, channel_id: str) -> ChannelId:
    """Raises ChannelNotFound, DirectChannelKept, ChannelNotEmpty."""
    event = await store.delete_channel(session.user.id, _channel_id(channel_id), now())
    return event.id
