"""Boot: the consistent snapshot a client starts from (docs/api/boot.md)."""

from __future__ import annotations

from parlour.model import Snapshot
from parlour.store import Store


async def boot(store: Store) -> Snapshot:
    """Everything up to and including `resume_point`, read in one read transaction."""
    return await store.select_snapshot()
