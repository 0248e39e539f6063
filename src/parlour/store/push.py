"""Web Push: the server's settings (its VAPID key), browsers' subscriptions, who is present,
and whom a message is pushed to (docs/api/push.md). Transaction functions, for every engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from parlour.model import (
    Channel,
    ChannelId,
    Message,
    MessageId,
    NotifyLevel,
    SessionId,
    UserId,
)
from parlour.store.engine import Reader, Tx
from parlour.store.reads import default_level
from parlour.store.times import to_ms
from parlour.store.visibility import select_channel

# A user's browsers: enough for every device anyone uses; beyond it, registering another
# replaces the oldest. Each message is pushed to every one of them, so an unbounded list
# would let one member make the server send without bound (docs/api/push.md).
MAX_SUBSCRIPTIONS_PER_USER = 10
# Rows per statement when recording presence: far below both engines' parameter limits (a
# power of two, see _chunk_sizes).
PRESENCE_ROWS_PER_STATEMENT = 256


@dataclass(frozen=True, slots=True)
class PushSubscription:
    """Where and how to push to one browser (RFC 8030 endpoint, RFC 8291 keys)."""

    endpoint: str
    p256dh: str
    """The browser's P-256 public key: an uncompressed point, base64url without padding."""
    auth: str
    """The browser's 16-byte authentication secret, base64url without padding."""


@dataclass(frozen=True, slots=True)
class NewPushSubscription:
    subscription: PushSubscription
    user_id: UserId
    session_id: SessionId
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PushTargets:
    """What a push about one message needs: where it was sent, by whom, and the browsers of
    everyone it should reach (with whose they are)."""

    channel: Channel
    sender_name: str
    recipients: list[tuple[UserId, PushSubscription]]


def select_setting(r: Reader, name: str) -> str | None:
    value = r.value("SELECT value FROM settings WHERE name = ?", (name,))
    return None if value is None else str(value)


def insert_setting(tx: Tx, name: str, value: str) -> str:
    """Store `value` under `name` unless a value is there already; return the one kept.

    Writers take turns in every process (docs/architecture.md), so of processes starting
    together the first to write wins and every other reads its value.
    """
    tx.run(
        "INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
        (name, value),
    )
    kept = select_setting(tx, name)
    if kept is None:  # pragma: no cover - the row was written or was there
        raise RuntimeError(f"the setting {name} was not stored")
    return kept


def insert_subscription(tx: Tx, new: NewPushSubscription) -> None:
    """Register a browser for a user, through one of their sessions.

    An endpoint belongs to one user: registering it again (for anyone) moves it. A session
    is one browser, which has one subscription: a new one replaces the session's old one.
    Beyond MAX_SUBSCRIPTIONS_PER_USER, the user's oldest go.
    """
    sub = new.subscription
    tx.run(
        "DELETE FROM push_subscriptions WHERE session_id = ? AND endpoint != ?",
        (new.session_id, sub.endpoint),
    )
    tx.run(
        "INSERT INTO push_subscriptions (endpoint, user_id, session_id, p256dh, auth, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (endpoint) DO UPDATE SET"
        " user_id = excluded.user_id, session_id = excluded.session_id,"
        " p256dh = excluded.p256dh, auth = excluded.auth, created_at = excluded.created_at",
        (
            sub.endpoint,
            new.user_id,
            new.session_id,
            sub.p256dh,
            sub.auth,
            to_ms(new.created_at),
        ),
    )
    tx.run(
        "DELETE FROM push_subscriptions WHERE user_id = ? AND endpoint NOT IN"
        " (SELECT endpoint FROM push_subscriptions WHERE user_id = ?"
        "  ORDER BY created_at DESC, endpoint LIMIT ?)",
        (new.user_id, new.user_id, MAX_SUBSCRIPTIONS_PER_USER),
    )


def delete_subscription(tx: Tx, user: UserId, endpoint: str) -> None:
    """Forget one of the user's browsers; someone else's endpoint is left alone."""
    tx.run("DELETE FROM push_subscriptions WHERE endpoint = ? AND user_id = ?", (endpoint, user))


def delete_gone_subscription(tx: Tx, subscription: PushSubscription) -> None:
    """The push service says this endpoint is gone (404, 410). Keys are compared so that a
    browser that registered the endpoint afresh meanwhile keeps its new registration."""
    tx.run(
        "DELETE FROM push_subscriptions WHERE endpoint = ? AND p256dh = ? AND auth = ?",
        (subscription.endpoint, subscription.p256dh, subscription.auth),
    )


def update_presence(tx: Tx, seen: dict[UserId, datetime], forget_before: datetime) -> None:
    """Record when these users were last seen with a stream open (never moving a time back),
    and forget records too old to matter."""
    rows = [(user, to_ms(at)) for user, at in seen.items()]
    start = 0
    for size in _chunk_sizes(len(rows)):
        chunk = rows[start : start + size]
        start += size
        tx.run(_upsert_presence(size), [value for row in chunk for value in row])
    tx.run("DELETE FROM presence WHERE seen_at < ?", (to_ms(forget_before),))


def _chunk_sizes(count: int) -> list[int]:
    """`count` as full chunks plus powers of two: few statements per write, and few
    distinct statement texts (each engine caches statements by their text)."""
    full, rest = divmod(count, PRESENCE_ROWS_PER_STATEMENT)
    return [PRESENCE_ROWS_PER_STATEMENT] * full + [1 << b for b in range(9) if rest & (1 << b)]


def _upsert_presence(rows: int) -> str:
    values = ", ".join(["(?, ?)"] * rows)
    return (
        f"INSERT INTO presence (user_id, seen_at) VALUES {values}"  # noqa: S608 - only ?s
        " ON CONFLICT (user_id) DO UPDATE SET seen_at = excluded.seen_at"
        " WHERE excluded.seen_at > presence.seen_at"
    )


def select_push_targets_of(
    r: Reader, messages: Sequence[Message], absent_since: datetime, now: datetime
) -> list[PushTargets | None]:
    """`select_push_targets` for each of several new messages, in one read: a burst of sends
    costs one read, and on a server where nobody turned pushes on, one query for them all
    (resolving each message in a read of its own, with no browser subscribed, was a fifth
    of the server's CPU per message sent: docs/benchmarks.md)."""
    if r.value("SELECT 1 FROM push_subscriptions LIMIT 1") is None:
        return [None] * len(messages)
    return [select_push_targets(r, m.id, m.channel, m.sender, absent_since, now) for m in messages]


def select_push_targets(
    r: Reader,
    message_id: MessageId,
    channel_id: ChannelId,
    sender: UserId,
    absent_since: datetime,
    now: datetime,
) -> PushTargets | None:
    """The browsers to push a new message to: those of every active user but the sender who
    may see its channel now, whose level there it matches (all: any message; mentions: one
    that mentions them; none: nothing), who has had no stream open since `absent_since` (in
    any process), through a session that has not expired. None when no browser could be
    pushed to, or the message or its channel is gone already (nothing to tell anyone about).
    The browsers come first: where none could be pushed to, that one query decides.
    """
    rows = r.rows(
        "SELECT ps.user_id, ps.endpoint, ps.p256dh, ps.auth, rd.level,"
        " EXISTS (SELECT 1 FROM mentions mn WHERE mn.message_id = :message"
        "         AND mn.user_id = ps.user_id)"
        " FROM push_subscriptions ps"
        " JOIN users u ON u.id = ps.user_id"
        " JOIN sessions s ON s.id = ps.session_id"
        " LEFT JOIN reads rd ON rd.user_id = ps.user_id AND rd.channel_id = :channel"
        " WHERE ps.user_id != :sender AND u.active = :active AND s.expires_at > :now"
        " AND NOT EXISTS (SELECT 1 FROM presence p WHERE p.user_id = ps.user_id"
        "                 AND p.seen_at >= :absent_since)"
        " AND (EXISTS (SELECT 1 FROM channels c WHERE c.id = :channel AND c.kind = 'public')"
        "      OR EXISTS (SELECT 1 FROM memberships ms WHERE ms.channel_id = :channel"
        "      AND ms.user_id = ps.user_id AND ms.left_seq IS NULL))"
        " ORDER BY ps.user_id, ps.created_at",
        {
            "message": message_id,
            "channel": channel_id,
            "sender": sender,
            "active": True,
            "now": to_ms(now),
            "absent_since": to_ms(absent_since),
        },
    )
    if not rows:
        return None
    if r.value("SELECT 1 FROM messages WHERE id = ?", (message_id,)) is None:
        return None
    channel = select_channel(r, channel_id)
    if channel is None:
        return None
    sender_name = r.value("SELECT name FROM users WHERE id = ?", (sender,))
    fallback = default_level(channel)
    recipients = [
        (UserId(user), PushSubscription(str(endpoint), str(p256dh), str(auth)))
        for user, endpoint, p256dh, auth, level, mentioned in rows
        if _wants(level or fallback, bool(mentioned))
    ]
    return PushTargets(channel, str(sender_name or ""), recipients)


def _wants(level: NotifyLevel, mentioned: bool) -> bool:
    return level == "all" or (level == "mentions" and mentioned)
