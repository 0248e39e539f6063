"""Expiry: old messages, idle channels, used-up invites, links and sessions, old events."""

from __future__ import annotations

from parlour.model import Channel, ChannelId, MessageId, SessionId
from parlour.store.channels import delete_empty_channel
from parlour.store.engine import Tx
from parlour.store.log import purge
from parlour.store.messages import delete_one_message
from parlour.store.records import Expired, ExpiryCutoffs
from parlour.store.times import to_ms
from parlour.store.visibility import audience_of, select_channel


def delete_expired(tx: Tx, cutoffs: ExpiryCutoffs) -> Expired:
    """Expire, in one transaction: messages, then the channels they left empty and idle,
    invites, reset links, login attempts, sessions; then forget events older than the
    message expiry period.

    With several processes each sweeps, but writers take turns (database.py): a second
    sweep right after the first finds nothing left to do.
    """
    now = cutoffs.now
    channels: dict[str, Channel | None] = {}
    for message_id, channel_id in tx.rows(
        "SELECT id, channel_id FROM messages WHERE sent_at < ? ORDER BY seq",
        (to_ms(cutoffs.messages_sent_before),),
    ):
        if channel_id not in channels:
            channels[channel_id] = select_channel(tx, ChannelId(channel_id))
        channel = channels[channel_id]
        audience = None if channel is None else audience_of(channel)
        delete_one_message(tx, MessageId(message_id), ChannelId(channel_id), now, audience)
    for (channel_id,) in tx.rows(
        "SELECT id FROM channels c WHERE active_at < ?"
        " AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.channel_id = c.id) ORDER BY seq",
        (to_ms(cutoffs.channels_idle_since),),
    ):
        idle = select_channel(tx, ChannelId(channel_id))
        if idle is not None:
            delete_empty_channel(tx, idle, now)
    now_ms = to_ms(now)
    tx.run("DELETE FROM invites WHERE expires_at <= ?", (now_ms,))
    tx.run("DELETE FROM reset_links WHERE expires_at <= ?", (now_ms,))
    tx.run("DELETE FROM login_attempts WHERE at <= ?", (to_ms(cutoffs.login_attempts_before),))
    sessions = [
        SessionId(row[0])
        for row in tx.rows("DELETE FROM sessions WHERE expires_at <= ? RETURNING id", (now_ms,))
    ]
    tx.revoke(sessions)
    purge(tx, to_ms(cutoffs.tombstones_before))
    return Expired(list(tx.events), sessions)
