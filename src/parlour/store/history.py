"""A channel's messages, a page at a time: boot's newest and the history endpoint's pages.

Every read walks the index on (channel_id, seq) from one end, so a page costs the same at any
depth of history (docs/api/history.md).
"""

from __future__ import annotations

from parlour.model import ChannelId, Message, Page, Seq, UserId
from parlour.store.details import MESSAGES, message_row, with_details
from parlour.store.engine import Reader
from parlour.store.log import select_positions
from parlour.store.visibility import require_visible

MESSAGES_OF = MESSAGES + " WHERE channel_id = ?"


def select_newest(r: Reader, channel_id: ChannelId, limit: int) -> tuple[list[Message], bool]:
    """The channel's newest `limit` messages in sequence order (without their details: see
    with_details), and whether older ones exist."""
    rows = r.rows(MESSAGES_OF + " ORDER BY seq DESC LIMIT ?", (channel_id, limit + 1))
    return [message_row(row) for row in reversed(rows[:limit])], len(rows) > limit


# "Is there one more?" as the first row of an ordered walk of the (channel_id, seq) index: an
# EXISTS without an order may be planned as a scan of the whole table, which reads every
# message when the answer is no (the newest page's `newer`, the oldest page's `older`).
OLDER_THAN = "SELECT 1 FROM messages WHERE channel_id = ? AND seq < ? ORDER BY seq DESC LIMIT 1"
NEWER_THAN = "SELECT 1 FROM messages WHERE channel_id = ? AND seq > ? ORDER BY seq LIMIT 1"


def _exists(r: Reader, query: str, channel_id: ChannelId, seq: int) -> bool:
    return r.value(query, (channel_id, seq)) is not None


def select_page(
    r: Reader,
    user: UserId,
    channel_id: ChannelId,
    before: Seq | None,
    after: Seq | None,
    limit: int,
) -> Page:
    """One page of a channel's history, read in one transaction (docs/api/history.md).

    Without `before` or `after`: the newest `limit`. Raises ChannelNotFound (none that
    `user` may see).
    """
    position, _ = select_positions(r)
    require_visible(r, channel_id, user)
    if after is not None:
        rows = r.rows(
            MESSAGES_OF + " AND seq > ? ORDER BY seq LIMIT ?", (channel_id, after, limit + 1)
        )
        messages = [message_row(row) for row in rows[:limit]]
        newer = len(rows) > limit
        older = _exists(r, OLDER_THAN, channel_id, messages[0].seq if messages else after)
    else:
        if before is None:
            rows = r.rows(MESSAGES_OF + " ORDER BY seq DESC LIMIT ?", (channel_id, limit + 1))
        else:
            rows = r.rows(
                MESSAGES_OF + " AND seq < ? ORDER BY seq DESC LIMIT ?",
                (channel_id, before, limit + 1),
            )
        messages = [message_row(row) for row in reversed(rows[:limit])]
        older = len(rows) > limit
        if messages:
            newer = _exists(r, NEWER_THAN, channel_id, messages[-1].seq)
        else:
            newer = before is not None and _exists(r, NEWER_THAN, channel_id, before)
    return Page(with_details(r, messages), older, newer, position)
