"""History: a channel's older (or newer) messages, a page at a time (docs/api/history.md)."""

from __future__ import annotations

from parlour.errors import ChannelNotFound, InvalidInput
from parlour.model import ChannelId, Page, Seq, Session, is_well_formed_id
from parlour.store import Store

DEFAULT_PAGE = 50
MAX_PAGE = 200


async def read_page(
    store: Store,
    session: Session,
    channel_id: str,
    before: int | None,
    after: int | None,
    limit: int | None,
) -> Page:
    """Raises InvalidInput (both `before` and `after`, a limit out of 1 to 200),
    ChannelNotFound (none the user may see)."""
    if before is not None and after is not None:
        raise InvalidInput("Ask for messages before a sequence or after one, not both.")
    size = DEFAULT_PAGE if limit is None else limit
    if not 1 <= size <= MAX_PAGE:
        raise InvalidInput(f"The limit parameter must be 1 to {MAX_PAGE}.")
    if not is_well_formed_id(channel_id, "C"):
        raise ChannelNotFound()
    return await store.select_page(
        session.user.id,
        ChannelId(channel_id),
        None if before is None else Seq(before),
        None if after is None else Seq(after),
        size,
    )
