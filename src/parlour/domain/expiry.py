"""Expiry: the background sweep of old messages, idle channels, invites and sessions."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from parlour.config import Config
from parlour.model import now
from parlour.store import ExpiryCutoffs, Store

log = logging.getLogger("parlour.expiry")


async def expire_once(store: Store, config: Config) -> int:
    """One sweep; returns the number of events it made.

    The store commits before it publishes the deletion events (its on_commit), so no client
    hears of a deletion that a crash could undo; it ends the streams of expired sessions.
    """
    at = now()
    expired = await store.delete_expired(
        ExpiryCutoffs(
            now=at,
            messages_sent_before=at - config.message_expiry,
            channels_idle_since=at - config.channel_expiry,
            tombstones_before=at - config.message_expiry,
            login_attempts_before=at - config.login_window,
        )
    )
    if expired.events:
        # Deleted bodies were zeroed in place (secure_delete); the WAL still holds copies of
        # their pages until it is checkpointed and truncated.
        await store.checkpoint()
    return len(expired.events)


async def run_expiry(store: Store, config: Config, stop: asyncio.Event) -> None:
    """Sweep every `expiry_interval` until `stop` is set; a failed sweep is logged and retried."""
    interval = config.expiry_interval / timedelta(seconds=1)
    while not stop.is_set():
        try:
            count = await expire_once(store, config)
            if count:
                log.info("expiry removed %d item(s)", count)
        except Exception:
            log.exception("expiry sweep failed; retrying in %.0f s", interval)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)
