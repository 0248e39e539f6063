"""Read state: each user's read position and notification level per channel, and the unread
and mention counts that follow from them (docs/api/reads.md).

Counts are read from indexes, from the read position onwards: `messages_unread` (channel,
seq, sender) and `mentions_by_user` (user, channel, seq); never by scanning history.
"""

from __future__ import annotations

from datetime import datetime

from parlour.errors import InvalidInput
from parlour.model import (
    Channel,
    NotifyLevel,
    NotifyUpdated,
    ReadState,
    ReadUpdated,
    Seq,
    UserId,
)
from parlour.store.engine import Reader, Tx
from parlour.store.log import record, select_positions

UNREAD = "SELECT count(*) FROM messages WHERE channel_id = ? AND seq > ? AND sender != ?"
MENTIONED = (
    "SELECT count(*) FROM mentions mn JOIN messages m ON m.id = mn.message_id"
    " WHERE mn.user_id = ? AND mn.channel_id = ? AND mn.seq > ? AND m.sender != ?"
)


def default_level(channel: Channel) -> NotifyLevel:
    """Every message of a direct conversation is for you; elsewhere, only mentions."""
    return "all" if channel.kind == "direct" else "mentions"


def _first_visible(r: Reader, user: UserId, channel: Channel) -> Seq:
    """Where the user could first see the channel: its creation or their arrival on the
    server (public), or their joining (private, direct). A new user does not inherit 90 days
    of unread messages."""
    if channel.kind == "public":
        row = r.row(
            "SELECT c.seq, u.seq FROM channels c, users u WHERE c.id = ? AND u.id = ?",
            (channel.id, user),
        )
        return Seq(0) if row is None else Seq(max(int(row[0]), int(row[1])))
    joined = r.value(
        "SELECT max(joined_seq) FROM memberships WHERE channel_id = ? AND user_id = ?",
        (channel.id, user),
    )
    return Seq(0) if joined is None else Seq(int(joined))


def _stored(r: Reader, user: UserId, channel: Channel) -> tuple[Seq, NotifyLevel]:
    row = r.row(
        "SELECT seq, level FROM reads WHERE user_id = ? AND channel_id = ?", (user, channel.id)
    )
    position = None if row is None else row[0]
    level = None if row is None else row[1]
    return (
        _first_visible(r, user, channel) if position is None else Seq(int(position)),
        default_level(channel) if level is None else level,
    )


def select_read_state(r: Reader, user: UserId, channel: Channel) -> ReadState:
    position, level = _stored(r, user, channel)
    unread = int(r.value(UNREAD, (channel.id, position, user)) or 0)
    mentioned = int(r.value(MENTIONED, (user, channel.id, position, user)) or 0)
    return ReadState(position, unread, mentioned, level)


def _upsert(
    tx: Tx, user: UserId, channel: Channel, position: Seq | None, level: str | None
) -> None:
    tx.run(
        "INSERT INTO reads (user_id, channel_id, seq, level) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (user_id, channel_id) DO UPDATE SET"
        " seq = coalesce(excluded.seq, reads.seq), level = coalesce(excluded.level, reads.level)",
        (user, channel.id, position, level),
    )


def update_read(
    tx: Tx, user: UserId, channel: Channel, position: Seq, at: datetime
) -> ReadUpdated | None:
    """Move the read position forward to `position` (never back); None when that changes
    nothing. Raises InvalidInput for a position beyond the newest sequence."""
    newest, _ = select_positions(tx)
    if position > newest:
        raise InvalidInput(
            f"The sequence {position} is beyond the newest one ({newest}); read up to an "
            "event you have seen."
        )
    current, _ = _stored(tx, user, channel)
    if position <= current:
        return None
    _upsert(tx, user, channel, position, None)
    event = ReadUpdated(seq=tx.next_seq(), at=at, channel=channel.id, position=position)
    record(tx, event, user=user)
    return event


def update_level(
    tx: Tx, user: UserId, channel: Channel, level: NotifyLevel, at: datetime
) -> NotifyUpdated | None:
    """Set the notification level; None when it is the level already."""
    _, current = _stored(tx, user, channel)
    if level == current:
        return None
    _upsert(tx, user, channel, None, level)
    event = NotifyUpdated(seq=tx.next_seq(), at=at, channel=channel.id, level=level)
    record(tx, event, user=user)
    return event


def forget_reads(tx: Tx, channel_id: str, user: UserId | None = None) -> None:
    """A channel went away (or a user left it): its read state starts afresh if it returns."""
    if user is None:
        tx.run("DELETE FROM reads WHERE channel_id = ?", (channel_id,))
    else:
        tx.run("DELETE FROM reads WHERE channel_id = ? AND user_id = ?", (channel_id, user))
