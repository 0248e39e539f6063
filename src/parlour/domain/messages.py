"""Messages: sending and deleting (SPEC "Channels and messages")."""

from __future__ import annotations

from parlour.domain.names import validate_body
from parlour.errors import ChannelNotFound, MessageNotFound
from parlour.model import (
    ChannelId,
    Message,
    MessageId,
    Seq,
    Session,
    is_well_formed_id,
    new_id,
    now,
)
from parlour.store import Store


async def send_message(store: Store, session: Session, channel_id: str, body: str) -> Message:
    """Raises InvalidInput (body), ChannelNotFound."""
    text = validate_body(body)
    if not is_well_formed_id(channel_id, "C"):
        raise ChannelNotFound()
    message = Message(
        MessageId(new_id("M")), ChannelId(channel_id), session.user.id, text, now(), Seq(0)
    )
    event = await store.insert_message(message)
    return event.message


async def delete_message(store: Store, session: Session, message_id: str) -> MessageId:
    """Raises MessageNotFound, NotTheSender (only the sender may delete)."""
    if not is_well_formed_id(message_id, "M"):
        raise MessageNotFound()
    event = await store.delete_message(session.user.id, MessageId(message_id), now())
    return event.id
