"""The Store protocol: everything the domain asks of a database, engine-neutral.

Each method is one transaction. Methods that change what clients see stamp their events with
sequence numbers inside that transaction and, once committed, hand them (in sequence order)
to the `on_commit` callback given to `open_store`; they return the same events to the caller.
Engines turn driver errors into domain errors at this boundary.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from parlour.model import (
    Channel,
    ChannelCreated,
    ChannelDeleted,
    ChannelId,
    Event,
    Invite,
    InviteId,
    Message,
    MessageDeleted,
    MessageId,
    MessageSent,
    Seq,
    Session,
    SessionId,
    Snapshot,
    User,
    UserCreated,
    UserId,
)


@dataclass(frozen=True, slots=True)
class NewSession:
    id: SessionId
    user_id: UserId
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Credentials:
    user: User
    password_hash: str


@dataclass(frozen=True, slots=True)
class EventBatch:
    """Events after a resume point, read in one transaction with the positions they sit in."""

    events: list[Event]
    newest: Seq
    forgotten: Seq
    """Resume points below this were purged (their tombstones are gone): 410 Gone."""


@dataclass(frozen=True, slots=True)
class ExpiryCutoffs:
    now: datetime
    messages_sent_before: datetime
    channels_idle_since: datetime
    tombstones_before: datetime


@dataclass(frozen=True, slots=True)
class Expired:
    events: list[Event]
    sessions: list[SessionId]


@dataclass(frozen=True, slots=True)
class Copied:
    """What `copy_to_postgres` moved: rows per table, and the sequence it ends at."""

    rows: dict[str, int]
    seq: int


class Store(Protocol):
    async def close(self) -> None: ...

    async def select_is_set_up(self) -> bool: ...

    async def insert_first_user(
        self, user: User, name_key: str, password_hash: str, session: NewSession, at: datetime
    ) -> UserCreated:
        """Raises SetupAlreadyDone if any user exists."""
        ...

    async def insert_invited_user(
        self,
        invite_id: InviteId,
        user: User,
        name_key: str,
        password_hash: str,
        session: NewSession,
        at: datetime,
    ) -> UserCreated:
        """Uses up the invite. Raises NotFound (unknown/used/expired invite), NameTaken."""
        ...

    async def select_credentials(self, name_key: str) -> Credentials | None: ...

    async def select_password_hash(self, user_id: UserId) -> str: ...

    async def insert_session(self, session: NewSession) -> None: ...

    async def select_session(self, session_id: SessionId, now: datetime) -> Session | None:
        """The session if it exists and has not expired at `now`."""
        ...

    async def update_session_expiry(self, session_id: SessionId, expires_at: datetime) -> None: ...

    async def delete_session(self, session_id: SessionId) -> None: ...

    async def update_password(
        self, user_id: UserId, password_hash: str, keep: SessionId
    ) -> list[SessionId]:
        """Store the new hash and revoke every other session; returns the revoked ones."""
        ...

    async def insert_invite(self, invite: Invite, expires_at: datetime) -> None: ...

    async def select_invite(self, invite_id: InviteId, now: datetime) -> Invite | None: ...

    async def insert_channel(self, channel: Channel, name_key: str) -> ChannelCreated:
        """Raises NameTaken if a channel has the same name key."""
        ...

    async def delete_channel(self, channel_id: ChannelId, at: datetime) -> ChannelDeleted:
        """Raises NotFound, ChannelNotEmpty."""
        ...

    async def insert_message(self, message: Message) -> MessageSent:
        """Raises NotFound if the channel does not exist."""
        ...

    async def delete_message(
        self, message_id: MessageId, by: UserId, at: datetime
    ) -> MessageDeleted:
        """Raises NotFound, or NotAllowed when `by` did not send it."""
        ...

    async def select_snapshot(self) -> Snapshot: ...

    async def select_events(self, after: Seq, limit: int) -> EventBatch:
        """Retained events with seq > after, in order, at most `limit` of them."""
        ...

    async def delete_expired(self, cutoffs: ExpiryCutoffs) -> Expired: ...

    async def checkpoint(self) -> None:
        """Make deleted content leave every file of the database (e.g. the WAL)."""
        ...


async def open_store(
    database: str,
    loop: asyncio.AbstractEventLoop,
    on_commit: Callable[[list[Event]], None],
    on_revoked: Callable[[list[SessionId]], None],
) -> Store:
    """Open (migrating if needed) the store named by `--database`.

    `on_commit` receives committed events in sequence order; `on_revoked` hears of sessions
    ended by another process (PostgreSQL only: on SQLite there is no other process).
    Raises StartupRefused when the database cannot be used as it is.
    """
    if is_postgres_url(database):
        from parlour.store.postgres.store import PgStore

        return await PgStore.open(database, on_commit, on_revoked)
    from parlour.store.sqlite.store import SqliteStore

    return SqliteStore.open(Path(database), loop, on_commit)


def is_postgres_url(database: str) -> bool:
    return database.startswith(("postgresql://", "postgres://"))


def backup_database(database: str, dest: Path) -> None:
    """Write a consistent online backup of `database` to `dest`, replacing it atomically.

    Raises StorageError.
    """
    from parlour.store.sqlite.store import online_backup

    online_backup(Path(database), dest)


def copy_to_postgres(sqlite_path: str, url: str) -> Copied:
    """Copy a SQLite community into an empty PostgreSQL database. Raises StartupRefused."""
    from parlour.store.postgres.copy_sqlite import copy_sqlite_to_postgres

    return copy_sqlite_to_postgres(Path(sqlite_path), url)
