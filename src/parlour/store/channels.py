"""Channels and who is in them: the transaction functions, for every engine.

A public channel is seen by everyone; a private or direct one only by its members, and for
everyone else it does not exist (ChannelNotFound, never a 403): docs/api/channels-and-messages.md.
"""

from __future__ import annotations

from datetime import datetime

from parlour.errors import (
    AdminsOnly,
    AlreadyMember,
    ChannelNameTaken,
    ChannelNotEmpty,
    ChannelNotFound,
    DirectChannelKept,
    MembersOnlyInPrivate,
    NotAMember,
    UnknownMember,
)
from parlour.model import (
    Channel,
    ChannelCreated,
    ChannelDeleted,
    ChannelId,
    ChannelUpdated,
    MessageId,
    Seq,
    UserId,
)
from parlour.store.engine import Tx
from parlour.store.log import record
from parlour.store.messages import delete_one_message
from parlour.store.reads import forget_reads
from parlour.store.times import to_ms
from parlour.store.users import require_active, select_user
from parlour.store.visibility import audience_of, require_visible, select_channel


def _require_member_candidates(tx: Tx, users: list[UserId]) -> None:
    for user_id in users:
        user = select_user(tx, user_id)
        if user is None or not user.active:
            raise UnknownMember(user_id)


def _join(tx: Tx, channel_id: ChannelId, users: list[UserId], seq: Seq) -> None:
    start = tx.value("SELECT max(ord) FROM memberships WHERE channel_id = ?", (channel_id,))
    for i, user_id in enumerate(users, start=1 if start is None else int(start) + 1):
        tx.run(
            "INSERT INTO memberships (channel_id, user_id, joined_seq, left_seq, ord)"
            " VALUES (?, ?, ?, NULL, ?)",
            (channel_id, user_id, seq, i),
        )


def insert_channel(tx: Tx, by: UserId, channel: Channel, name_key: str) -> ChannelCreated:
    """Create a public channel, or a private one with `channel.members` (the caller first).

    Raises SessionEnded, UnknownMember (a member who is not an active user), ChannelNameTaken
    (public names only: a private name is never compared with anything, as a 409 would give
    away a channel the caller cannot see).
    """
    require_active(tx, by)
    if channel.kind == "public":
        taken = tx.value(
            "SELECT 1 FROM channels WHERE kind = 'public' AND name_key = ?", (name_key,)
        )
        if taken is not None:
            raise ChannelNameTaken(str(channel.name))
    else:
        _require_member_candidates(tx, [m for m in channel.members if m != by])
    return _create(tx, channel, name_key, None)


def _create(
    tx: Tx, channel: Channel, name_key: str | None, direct_key: str | None
) -> ChannelCreated:
    seq = tx.next_seq()
    at = to_ms(channel.created_at)
    tx.run(
        "INSERT INTO channels (id, kind, name, name_key, direct_key, created_at, active_at, seq)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (channel.id, channel.kind, channel.name, name_key, direct_key, at, at, seq),
    )
    if channel.kind != "public":
        _join(tx, channel.id, list(channel.members), seq)
    event = ChannelCreated(seq=seq, at=channel.created_at, channel=channel)
    record(tx, event, audience_of(channel))
    return event


def insert_direct(tx: Tx, channel: Channel) -> tuple[Channel, bool]:
    """The direct channel of exactly `channel.members`: the existing one, or `channel`, made
    now (True). Of concurrent requests for one set of users, one makes it (writers take
    turns, and the set's key is unique). Raises SessionEnded, UnknownMember."""
    by = channel.members[0]
    require_active(tx, by)
    _require_member_candidates(tx, list(channel.members[1:]))
    key = ",".join(sorted(channel.members))
    existing = tx.value("SELECT id FROM channels WHERE direct_key = ?", (key,))
    if existing is not None:
        found = select_channel(tx, ChannelId(existing))
        if found is not None:
            return found, False
    _create(tx, channel, None, key)
    return channel, True


def _updated(
    tx: Tx, channel_id: ChannelId, seq: Seq, at: datetime, removed: UserId | None
) -> ChannelUpdated:
    """Log the channel as it now is, for its members (and for the one just removed)."""
    channel = select_channel(tx, channel_id)
    if channel is None:
        raise ChannelNotFound()
    event = ChannelUpdated(seq=seq, at=at, channel=channel)
    audience = frozenset(channel.members) | ({removed} if removed else frozenset())
    record(tx, event, audience)
    return event


def insert_member(
    tx: Tx, by: UserId, channel_id: ChannelId, user_id: UserId, at: datetime
) -> ChannelUpdated:
    """Any member adds an active user to a private channel. Raises SessionEnded,
    UnknownMember, ChannelNotFound, MembersOnlyInPrivate, AlreadyMember."""
    require_active(tx, by)
    _require_member_candidates(tx, [user_id])
    channel = require_visible(tx, channel_id, by)
    if channel.kind != "private":
        raise MembersOnlyInPrivate()
    if user_id in channel.members:
        raise AlreadyMember()
    seq = tx.next_seq()
    _join(tx, channel_id, [user_id], seq)
    return _updated(tx, channel_id, seq, at, None)


def delete_member(
    tx: Tx, by: UserId, channel_id: ChannelId, user_id: UserId, at: datetime
) -> ChannelUpdated:
    """A member leaves a private channel, or an admin who is a member removes someone.

    When the last member leaves, the channel goes with its messages; those deletions reach
    nobody. Raises SessionEnded, ChannelNotFound, MembersOnlyInPrivate, NotAMember,
    AdminsOnly.
    """
    actor = require_active(tx, by)
    channel = require_visible(tx, channel_id, by)
    # docs/api/errors.md, "Which error wins": 404, then 403, then 409.
    if channel.kind == "private" and user_id not in channel.members:
        raise NotAMember()
    if user_id != by and actor.role != "admin":
        raise AdminsOnly("remove someone else from a channel")
    if channel.kind != "private":
        raise MembersOnlyInPrivate()
    seq = tx.next_seq()
    tx.run(
        "UPDATE memberships SET left_seq = ? WHERE channel_id = ? AND user_id = ?"
        " AND left_seq IS NULL",
        (seq, channel_id, user_id),
    )
    forget_reads(tx, channel_id, user_id)
    event = _updated(tx, channel_id, seq, at, user_id)
    if not event.channel.members:
        _delete_with_messages(tx, event.channel, at)
    return event


def delete_channel(tx: Tx, by: UserId, channel_id: ChannelId, at: datetime) -> ChannelDeleted:
    """Delete a channel: an empty one for anyone who sees it, one with messages only for an
    admin who sees it, who deletes its messages first (an event each), then the channel
    (docs/api/members.md). A direct channel is never deleted by hand.

    Raises SessionEnded, ChannelNotFound, DirectChannelKept, ChannelNotEmpty.
    """
    actor = require_active(tx, by)
    channel = require_visible(tx, channel_id, by)
    if channel.kind == "direct":
        raise DirectChannelKept()
    holds = tx.value("SELECT 1 FROM messages WHERE channel_id = ? LIMIT 1", (channel_id,))
    if holds is not None and actor.role != "admin":
        raise ChannelNotEmpty()
    return _delete_with_messages(tx, channel, at)


def _delete_with_messages(tx: Tx, channel: Channel, at: datetime) -> ChannelDeleted:
    audience = audience_of(channel)
    for (message_id,) in tx.rows(
        "SELECT id FROM messages WHERE channel_id = ? ORDER BY seq", (channel.id,)
    ):
        delete_one_message(tx, MessageId(message_id), channel.id, at, audience)
    return delete_empty_channel(tx, channel, at)


def delete_empty_channel(tx: Tx, channel: Channel, at: datetime) -> ChannelDeleted:
    """Delete a channel known to hold no messages; its members see it go, then leave it."""
    tx.run("DELETE FROM channels WHERE id = ?", (channel.id,))
    forget_reads(tx, channel.id)
    event = ChannelDeleted(seq=tx.next_seq(), at=at, id=channel.id)
    tx.run(
        "UPDATE memberships SET left_seq = ? WHERE channel_id = ? AND left_seq IS NULL",
        (event.seq, channel.id),
    )
    record(tx, event, audience_of(channel))
    return event
