"""Reading messages whole: their rows, mentions and reactions, a list at a time."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from typing import Any

from parlour.model import ChannelId, Message, MessageId, Reaction, Seq, UserId
from parlour.store.engine import Reader
from parlour.store.times import from_ms

MESSAGE_COLUMNS = "id, channel_id, sender, body, sent_at, seq, edited_at, client_id"
MESSAGES = f"SELECT {MESSAGE_COLUMNS} FROM messages"  # noqa: S608 - constant text
# Each emoji in the order first added (kept while anyone holds it), its users in the order
# they added it.
REACTIONS = """
SELECT message_id, emoji, user_id FROM reactions WHERE message_id IN ({marks})
ORDER BY message_id, emoji_seq, seq
"""
# Enough ids for one IN list, within SQLite's and PostgreSQL's limits on parameters.
CHUNK = 500


def message_row(row: tuple[Any, ...]) -> Message:
    """The message (without mentions and reactions) of a MESSAGE_COLUMNS row."""
    return Message(
        MessageId(row[0]),
        ChannelId(row[1]),
        UserId(row[2]),
        row[3],
        from_ms(row[4]),
        Seq(row[5]),
        None if row[6] is None else from_ms(row[6]),
        client_id=row[7],
    )


def with_details(r: Reader, messages: list[Message]) -> list[Message]:
    """The same messages with their mentions (in the order given) and reactions (each emoji
    in the order first added, its users in the order they added it)."""
    mentions: dict[str, list[UserId]] = defaultdict(list)
    reactions: dict[str, dict[str, list[UserId]]] = defaultdict(dict)
    for start in range(0, len(messages), CHUNK):
        ids = [m.id for m in messages[start : start + CHUNK]]
        marks = ", ".join("?" * len(ids))
        for message_id, user_id in r.rows(
            f"SELECT message_id, user_id FROM mentions WHERE message_id IN ({marks})"  # noqa: S608
            " ORDER BY message_id, ord",
            ids,
        ):
            mentions[message_id].append(UserId(user_id))
        for message_id, emoji, user_id in r.rows(
            REACTIONS.format(marks=marks),
            ids,
        ):
            reactions[message_id].setdefault(emoji, []).append(UserId(user_id))
    return [
        replace(
            m,
            mentions=tuple(mentions.get(m.id, ())),
            reactions=tuple(
                Reaction(emoji, tuple(users)) for emoji, users in reactions.get(m.id, {}).items()
            ),
        )
        for m in messages
    ]


def select_message(r: Reader, message_id: MessageId) -> Message | None:
    row = r.row(MESSAGES + " WHERE id = ?", (message_id,))
    return None if row is None else with_details(r, [message_row(row)])[0]
