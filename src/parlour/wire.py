"""The JSON shapes of SPEC's vocabulary and events: the one place they are spelled out."""

from __future__ import annotations

from typing import Any

import msgspec

from parlour.model import (
    Channel,
    ChannelCreated,
    ChannelDeleted,
    Event,
    Invite,
    Message,
    MessageDeleted,
    MessageSent,
    User,
    UserCreated,
    format_time,
)

_encoder = msgspec.json.Encoder()


def encode(value: Any) -> bytes:
    return _encoder.encode(value)


def user_json(user: User) -> dict[str, Any]:
    return {"id": user.id, "name": user.name}


def channel_json(channel: Channel) -> dict[str, Any]:
    return {"id": channel.id, "name": channel.name, "created_at": format_time(channel.created_at)}


def message_json(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "channel": message.channel,
        "sender": message.sender,
        "body": message.body,
        "sent_at": format_time(message.sent_at),
    }


def invite_json(invite: Invite) -> dict[str, Any]:
    return {
        "id": invite.id,
        "issuer": user_json(invite.issuer),
        "issued_at": format_time(invite.issued_at),
    }


def event_json(event: Event) -> dict[str, Any]:
    head: dict[str, Any] = {"type": event.type, "event": event.event, "at": format_time(event.at)}
    match event:
        case UserCreated(user=user):
            head.update(user_json(user))
        case ChannelCreated(channel=channel):
            head.update(channel_json(channel))
        case ChannelDeleted(id=channel_id):
            head["id"] = channel_id
        case MessageSent(message=message):
            head.update(message_json(message))
        case MessageDeleted(id=message_id, channel=channel_id):
            head["id"] = message_id
            head["channel"] = channel_id
    return head


def event_frame(event: Event) -> bytes:
    """One SSE message: `id:` then one `data:` line of JSON.

    msgspec escapes every control character in strings (CR and LF included), so
    the JSON is always one line and a message body can never break the framing.
    """
    return b"id: %d\ndata: %s\n\n" % (event.seq, _encoder.encode(event_json(event)))


HEARTBEAT_FRAME = b"event: heartbeat\ndata: {}\n\n"
