"""Messages, their mentions, edits and reactions: the transaction functions, for every engine."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from parlour.errors import (
    BadMention,
    ChannelNotFound,
    MessageNotFound,
    NotTheAuthor,
    NotTheSender,
    ReactionExists,
    ReactionNotFound,
    TooManyReactions,
)
from parlour.model import (
    Audience,
    Channel,
    ChannelId,
    Message,
    MessageDeleted,
    MessageEdited,
    MessageId,
    MessageSent,
    ReactionAdded,
    ReactionRemoved,
    Seq,
    UserId,
)
from parlour.store.details import select_message
from parlour.store.engine import Tx
from parlour.store.log import forget_about, record
from parlour.store.search import index_message, reindex_message, unindex_message
from parlour.store.times import to_ms
from parlour.store.users import require_active, select_user
from parlour.store.visibility import audience_of, can_see, require_visible

# docs/api/channels-and-messages.md: at most 50 different emoji on one message.
MAX_REACTIONS = 50


def _check_mentions(tx: Tx, channel: Channel, mentions: tuple[UserId, ...]) -> None:
    for user_id in mentions:
        user = select_user(tx, user_id)
        if user is None or not user.active or not can_see(channel, user_id):
            raise BadMention(user_id)


def _store_mentions(tx: Tx, message: Message) -> None:
    tx.run("DELETE FROM mentions WHERE message_id = ?", (message.id,))
    for ord_, user_id in enumerate(message.mentions):
        tx.run(
            "INSERT INTO mentions (message_id, user_id, channel_id, seq, ord)"
            " VALUES (?, ?, ?, ?, ?)",
            (message.id, user_id, message.channel, message.seq, ord_),
        )


def insert_message(tx: Tx, message: Message) -> tuple[Message, MessageSent | None]:
    """Send `message`; or, when its sender already sent one with its `client_id` in this
    channel and it is retained, that message as it now is, and no event (a safe retry).

    Raises SessionEnded (the sender was deactivated meanwhile), ChannelNotFound (none the
    sender may see), BadMention.
    """
    require_active(tx, message.sender)
    channel = require_visible(tx, message.channel, message.sender)
    if message.client_id is not None:
        sent = tx.value(
            "SELECT id FROM messages WHERE channel_id = ? AND sender = ? AND client_id = ?",
            (message.channel, message.sender, message.client_id),
        )
        if sent is not None:
            existing = select_message(tx, MessageId(sent))
            if existing is not None:
                return existing, None
    _check_mentions(tx, channel, message.mentions)
    sent_at = to_ms(message.sent_at)
    # Channel expiry counts from the newest message.
    tx.run(
        "UPDATE channels SET active_at = CASE WHEN active_at > :at THEN active_at ELSE :at END"
        " WHERE id = :channel",
        {"at": sent_at, "channel": message.channel},
    )
    seq = tx.next_seq()
    stored = replace(message, seq=seq)
    tx.run(
        "INSERT INTO messages (id, channel_id, sender, body, sent_at, seq, client_id)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            message.id,
            message.channel,
            message.sender,
            message.body,
            sent_at,
            seq,
            message.client_id,
        ),
    )
    index_message(tx, seq, message.body)
    _store_mentions(tx, stored)
    event = MessageSent(seq=seq, at=message.sent_at, message=stored)
    record(tx, event, audience_of(channel))
    return stored, event


def _visible_message(tx: Tx, by: UserId, message_id: MessageId) -> tuple[Message, Channel]:
    """The message and its channel, if `by` may see them; MessageNotFound otherwise."""
    message = select_message(tx, message_id)
    if message is None:
        raise MessageNotFound()
    try:
        channel = require_visible(tx, message.channel, by)
    except ChannelNotFound:
        raise MessageNotFound() from None
    return message, channel


def update_message(
    tx: Tx, by: UserId, message_id: MessageId, body: str, mentions: tuple[UserId, ...], at: datetime
) -> MessageEdited:
    """Edit a message: the old body is overwritten, no history of it is kept. Raises
    SessionEnded, MessageNotFound, NotTheAuthor (admins too), BadMention."""
    require_active(tx, by)
    message, channel = _visible_message(tx, by, message_id)
    if message.sender != by:
        raise NotTheAuthor()
    _check_mentions(tx, channel, mentions)
    tx.run(
        "UPDATE messages SET body = ?, edited_at = ? WHERE id = ?", (body, to_ms(at), message_id)
    )
    reindex_message(tx, message.seq, message.body, body)
    edited = replace(message, body=body, mentions=mentions, edited_at=at)
    _store_mentions(tx, edited)
    event = MessageEdited(seq=tx.next_seq(), at=at, message=edited)
    record(tx, event, audience_of(channel))
    return event


def insert_reaction(
    tx: Tx, by: UserId, message_id: MessageId, emoji: str, at: datetime
) -> tuple[ReactionAdded, Message]:
    """Raises SessionEnded, MessageNotFound, ReactionExists, TooManyReactions."""
    require_active(tx, by)
    message, channel = _visible_message(tx, by, message_id)
    emojis = {r.emoji: r.users for r in message.reactions}
    if by in emojis.get(emoji, ()):
        raise ReactionExists()
    if emoji not in emojis and len(emojis) >= MAX_REACTIONS:
        raise TooManyReactions(MAX_REACTIONS)
    event = ReactionAdded(
        seq=tx.next_seq(), at=at, message=message_id, channel=channel.id, user=by, emoji=emoji
    )
    # The emoji keeps the place it took when first added, while anyone still holds it.
    held_since = tx.value(
        "SELECT min(emoji_seq) FROM reactions WHERE message_id = ? AND emoji = ?",
        (message_id, emoji),
    )
    tx.run(
        "INSERT INTO reactions (message_id, emoji, user_id, seq, emoji_seq) VALUES (?, ?, ?, ?, ?)",
        (message_id, emoji, by, event.seq, event.seq if held_since is None else held_since),
    )
    record(tx, event, audience_of(channel))
    return event, _reloaded(tx, message_id)


def delete_reaction(
    tx: Tx, by: UserId, message_id: MessageId, emoji: str, at: datetime
) -> tuple[ReactionRemoved, Message]:
    """Raises SessionEnded, MessageNotFound, ReactionNotFound."""
    require_active(tx, by)
    _, channel = _visible_message(tx, by, message_id)
    removed = tx.run(
        "DELETE FROM reactions WHERE message_id = ? AND emoji = ? AND user_id = ?",
        (message_id, emoji, by),
    )
    if not removed:
        raise ReactionNotFound()
    event = ReactionRemoved(
        seq=tx.next_seq(), at=at, message=message_id, channel=channel.id, user=by, emoji=emoji
    )
    record(tx, event, audience_of(channel))
    return event, _reloaded(tx, message_id)


def _reloaded(tx: Tx, message_id: MessageId) -> Message:
    message = select_message(tx, message_id)
    if message is None:
        raise MessageNotFound()
    return message


def delete_message(tx: Tx, by: UserId, message_id: MessageId, at: datetime) -> MessageDeleted:
    """Raises SessionEnded, MessageNotFound (none that `by` may see), NotTheSender (neither
    its sender nor an admin)."""
    actor = require_active(tx, by)
    message, channel = _visible_message(tx, by, message_id)
    if message.sender != by and actor.role != "admin":
        raise NotTheSender()
    return delete_one_message(tx, message_id, channel.id, at, audience_of(channel))


def delete_one_message(
    tx: Tx, message_id: MessageId, channel_id: ChannelId, at: datetime, audience: Audience
) -> MessageDeleted:
    """Delete a message known to exist (its mentions, reactions and search entry go with it),
    and every logged event about it; log its deletion."""
    row = tx.row("DELETE FROM messages WHERE id = ? RETURNING seq, body", (message_id,))
    if row is not None:
        unindex_message(tx, Seq(row[0]), row[1])
    forget_about(tx, message_id)
    event = MessageDeleted(seq=tx.next_seq(), at=at, id=message_id, channel=channel_id)
    record(tx, event, audience)
    return event
