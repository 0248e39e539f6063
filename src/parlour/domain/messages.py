"""Messages: sending (safely retried), editing, deleting, mentions and reactions
(docs/api/channels-and-messages.md)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from parlour.domain.names import ALLOWED_FORMAT_CHARACTERS, validate_body
from parlour.errors import BadMention, ChannelNotFound, InvalidInput, MessageNotFound
from parlour.model import (
    ChannelId,
    Message,
    MessageId,
    Seq,
    Session,
    UserId,
    is_well_formed_id,
    new_id,
    now,
)
from parlour.store import Store

MAX_MENTIONS = 50
CLIENT_ID_MAX_CHARS = 64
EMOJI_MAX_CHARS = 32


def validate_mentions(raw: list[str]) -> tuple[UserId, ...]:
    """At most 50 user ids, duplicates collapsed, order kept. Raises InvalidInput."""
    mentions: list[UserId] = []
    for user_id in raw:
        if not is_well_formed_id(user_id, "U"):
            raise BadMention(user_id)
        if user_id not in mentions:
            mentions.append(UserId(user_id))
    if len(mentions) > MAX_MENTIONS:
        raise InvalidInput(f"A message may mention at most {MAX_MENTIONS} people.")
    return tuple(mentions)


def validate_client_id(raw: str) -> str:
    """1 to 64 printable ASCII characters. Raises InvalidInput."""
    if not 1 <= len(raw) <= CLIENT_ID_MAX_CHARS or not all(" " <= c <= "~" for c in raw):
        raise InvalidInput(f"A client_id is 1 to {CLIENT_ID_MAX_CHARS} printable ASCII characters.")
    return raw


def validate_emoji(raw: str) -> str:
    """An emoji sequence or a short word: 1 to 32 characters after NFC, not only white
    space, no control characters. Raises InvalidInput."""
    emoji = unicodedata.normalize("NFC", raw)
    if not 1 <= len(emoji) <= EMOJI_MAX_CHARS:
        raise InvalidInput(f"A reaction is 1 to {EMOJI_MAX_CHARS} characters long.")
    if emoji.isspace():
        raise InvalidInput("A reaction must contain something other than white space.")
    # As in names: invisible format characters could make two reactions look alike (or
    # reverse the text around them); only those emoji sequences are made of stay allowed.
    if any(
        unicodedata.category(c) in ("Cc", "Cs")
        or (unicodedata.category(c) == "Cf" and c not in ALLOWED_FORMAT_CHARACTERS)
        for c in emoji
    ):
        raise InvalidInput(
            "A reaction must not contain control or invisible format characters (other than "
            "the joiners and tags emoji are made of)."
        )
    return emoji


def _message_id(message_id: str) -> MessageId:
    if not is_well_formed_id(message_id, "M"):
        raise MessageNotFound()
    return MessageId(message_id)


@dataclass(frozen=True, slots=True)
class Sent:
    message: Message
    is_new: bool
    """False for a retry that found the message its client_id names: nothing was posted."""


async def send_message(
    store: Store,
    session: Session,
    channel_id: str,
    body: str,
    mentions: list[str],
    client_id: str | None,
) -> Sent:
    """Raises InvalidInput (body, mentions, client_id), ChannelNotFound, BadMention."""
    text = validate_body(body)
    mentioned = validate_mentions(mentions)
    retry_id = None if client_id is None else validate_client_id(client_id)
    if not is_well_formed_id(channel_id, "C"):
        raise ChannelNotFound()
    message = Message(
        MessageId(new_id("M")),
        ChannelId(channel_id),
        session.user.id,
        text,
        now(),
        Seq(0),
        mentions=mentioned,
        client_id=retry_id,
    )
    stored, event = await store.insert_message(message)
    return Sent(stored, event is not None)


async def edit_message(
    store: Store, session: Session, message_id: str, body: str, mentions: list[str]
) -> Message:
    """Raises InvalidInput, MessageNotFound, NotTheAuthor, BadMention."""
    text = validate_body(body)
    mentioned = validate_mentions(mentions)
    event = await store.update_message(
        session.user.id, _message_id(message_id), text, mentioned, now()
    )
    return event.message


async def add_reaction(store: Store, session: Session, message_id: str, emoji: str) -> Message:
    """Raises InvalidInput, MessageNotFound, ReactionExists, TooManyReactions."""
    return await store.insert_reaction(
        session.user.id, _message_id(message_id), validate_emoji(emoji), now()
    )


async def remove_reaction(store: Store, session: Session, message_id: str, emoji: str) -> Message:
    """Raises MessageNotFound, ReactionNotFound."""
    ident = _message_id(message_id)
    try:
        shown = validate_emoji(emoji)
    except InvalidInput:
        shown = emoji  # nobody can have added it: ReactionNotFound below
    return await store.delete_reaction(session.user.id, ident, shown, now())


async def delete_message(store: Store, session: Session, message_id: str) -> MessageId:
    """Raises MessageNotFound, NotTheSender (only the sender, or an admin, may delete)."""
    event = await store.delete_message(session.user.id, _message_id(message_id), now())
    return event.id
