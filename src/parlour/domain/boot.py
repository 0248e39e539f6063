"""Boot: the consistent snapshot a client starts from (docs/api/boot.md)."""

from __future__ import annotations

from parlour.errors import InvalidInput
from parlour.model import Session, Snapshot
from parlour.store import Store

# How many of each channel's newest messages boot carries unless asked (docs/api/boot.md):
# a screenful and some, so that a client shows its first channel without another request.
DEFAULT_BOOT_MESSAGES = 50
MAX_BOOT_MESSAGES = 200


async def boot(store: Store, session: Session, messages: int | None) -> Snapshot:
    """What the user may see, up to and including `resume_point`, read in one read
    transaction, with each visible channel's newest `messages` (default 50). Raises
    InvalidInput for more than 200."""
    count = DEFAULT_BOOT_MESSAGES if messages is None else messages
    if not 0 <= count <= MAX_BOOT_MESSAGES:
        raise InvalidInput(
            f"The messages parameter must be 0 to {MAX_BOOT_MESSAGES} (messages per channel)."
        )
    return await store.select_snapshot(session.user.id, count)
