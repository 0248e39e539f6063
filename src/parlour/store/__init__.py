"""The only code that speaks SQL: one Store over either engine (SQLite, PostgreSQL).

See docs/architecture.md. `open_store` picks the engine from `--database`; the domain sees
only `Store` (facade.py) and the records it trades in (records.py).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from parlour.store.facade import Store
from parlour.store.records import (
    Copied,
    Credentials,
    EventBatch,
    Expired,
    ExpiryCutoffs,
    Hooks,
    LoginAttempt,
    LoginLimits,
    NewResetLink,
    NewSession,
    UserChanges,
)

__all__ = [
    "Copied",
    "Credentials",
    "EventBatch",
    "Expired",
    "ExpiryCutoffs",
    "Hooks",
    "LoginAttempt",
    "LoginLimits",
    "NewResetLink",
    "NewSession",
    "Store",
    "UserChanges",
    "backup_database",
    "copy_to_postgres",
    "is_postgres_url",
    "open_store",
]


async def open_store(
    database: str,
    loop: asyncio.AbstractEventLoop,
    hooks: Hooks,
) -> Store:
    """Open (migrating if needed) the store named by `--database`, reporting to `hooks`.

    Raises StartupRefused when the database cannot be used as it is.
    """
    if is_postgres_url(database):
        from parlour.store.postgres.engine import open_postgres

        return await open_postgres(database, loop, hooks)
    from parlour.store.sqlite.engine import open_sqlite

    return open_sqlite(Path(database), loop, hooks)


def is_postgres_url(database: str) -> bool:
    return database.startswith(("postgresql://", "postgres://"))


def backup_database(database: str, dest: Path) -> None:
    """Write a consistent online backup of `database` to `dest`, replacing it atomically.

    Raises StorageError.
    """
    from parlour.store.sqlite.backup import online_backup

    online_backup(Path(database), dest)


def copy_to_postgres(sqlite_path: str, url: str) -> Copied:
    """Copy a SQLite community into an empty PostgreSQL database. Raises StartupRefused."""
    from parlour.store.postgres.copy_sqlite import copy_sqlite_to_postgres

    return copy_sqlite_to_postgres(Path(sqlite_path), url)
