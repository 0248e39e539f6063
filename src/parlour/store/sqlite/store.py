"""SqliteStore: the Store protocol on one SQLite file, through the single-writer Database."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from parlour.errors import StorageError
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
from parlour.store import Credentials, EventBatch, Expired, ExpiryCutoffs, NewSession
from parlour.store.sqlite import channels, events, invites, messages, users
from parlour.store.sqlite.database import Database, Tx
from parlour.store.sqlite.migrate import prepare


class SqliteStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    @classmethod
    def open(
        cls, path: Path, loop: asyncio.AbstractEventLoop, on_commit: Callable[[list[Event]], None]
    ) -> SqliteStore:
        prepare(path)
        return cls(Database(path, loop, on_commit))

    async def close(self) -> None:
        await self._db.close()

    async def select_is_set_up(self) -> bool:
        return await self._db.read(users.select_is_set_up)

    async def insert_first_user(
        self, user: User, name_key: str, password_hash: str, session: NewSession, at: datetime
    ) -> UserCreated:
        return await self._db.write(
            lambda tx: users.insert_first_user(tx, user, name_key, password_hash, session, at)
        )

    async def insert_invited_user(
        self,
        invite_id: InviteId,
        user: User,
        name_key: str,
        password_hash: str,
        session: NewSession,
        at: datetime,
    ) -> UserCreated:
        return await self._db.write(
            lambda tx: users.insert_invited_user(
                tx, invite_id, user, name_key, password_hash, session, at
            )
        )

    async def select_credentials(self, name_key: str) -> Credentials | None:
        return await self._db.read(lambda conn: users.select_credentials(conn, name_key))

    async def select_password_hash(self, user_id: UserId) -> str:
        return await self._db.read(lambda conn: users.select_password_hash(conn, user_id))

    async def insert_session(self, session: NewSession) -> None:
        await self._db.write(lambda tx: users.insert_session(tx.conn, session))

    async def select_session(self, session_id: SessionId, now: datetime) -> Session | None:
        return await self._db.read(lambda conn: users.select_session(conn, session_id, now))

    async def update_session_expiry(self, session_id: SessionId, expires_at: datetime) -> None:
        await self._db.write(
            lambda tx: users.update_session_expiry(tx.conn, session_id, expires_at)
        )

    async def delete_session(self, session_id: SessionId) -> None:
        await self._db.write(lambda tx: users.delete_session(tx.conn, session_id))

    async def update_password(
        self, user_id: UserId, password_hash: str, keep: SessionId
    ) -> list[SessionId]:
        return await self._db.write(
            lambda tx: users.update_password(tx, user_id, password_hash, keep)
        )

    async def insert_invite(self, invite: Invite, expires_at: datetime) -> None:
        await self._db.write(lambda tx: invites.insert_invite(tx.conn, invite, expires_at))

    async def select_invite(self, invite_id: InviteId, now: datetime) -> Invite | None:
        return await self._db.read(lambda conn: invites.select_invite(conn, invite_id, now))

    async def insert_channel(self, channel: Channel, name_key: str) -> ChannelCreated:
        return await self._db.write(lambda tx: channels.insert_channel(tx, channel, name_key))

    async def delete_channel(self, channel_id: ChannelId, at: datetime) -> ChannelDeleted:
        return await self._db.write(lambda tx: channels.delete_channel(tx, channel_id, at))

    async def insert_message(self, message: Message) -> MessageSent:
        return await self._db.write(lambda tx: messages.insert_message(tx, message))

    async def delete_message(
        self, message_id: MessageId, by: UserId, at: datetime
    ) -> MessageDeleted:
        return await self._db.write(lambda tx: messages.delete_message(tx, message_id, by, at))

    async def select_snapshot(self) -> Snapshot:
        return await self._db.read(events.select_snapshot)

    async def select_events(self, after: Seq, limit: int) -> EventBatch:
        return await self._db.read(lambda conn: events.select_events(conn, after, limit))

    async def delete_expired(self, cutoffs: ExpiryCutoffs) -> Expired:
        return await self._db.write(lambda tx: events.delete_expired(tx, cutoffs))

    async def checkpoint(self) -> None:
        await self._db.checkpoint()


# Far beyond the events a live server makes between a backup and its restore, and small
# enough that sequences stay exact in JavaScript (2**53) for millions of restores.
RESTORE_SEQ_JUMP = 1_000_000_000


def mark_as_restored_copy(conn: sqlite3.Connection) -> None:
    """Make every resume point a client holds invalid on this copy.

    A restored backup rewinds the server: sequences the clients already saw are handed out
    again for other events, and a client resuming from one would silently keep events the
    restore undid (breaking "boot + stream = truth"). The copy's sequence jumps ahead and
    everything before the jump counts as forgotten, so any resume point from before the
    restore gets 410 (or 400 if it is even further ahead) and the client boots again.
    """
    conn.execute(
        "UPDATE counter SET seq = seq + ?1, forgotten_seq = seq + ?1 WHERE id = 1",
        (RESTORE_SEQ_JUMP,),
    )
    conn.commit()


def online_backup(source: Path, dest: Path) -> None:
    """Copy a live database with SQLite's backup API: consistent even while it is written.

    Written beside `dest` first and renamed over it, so `dest` is never a half backup.
    """
    partial = dest.with_name(dest.name + ".partial")
    try:
        src = sqlite3.connect(source)
        try:
            out = sqlite3.connect(partial)
            try:
                src.backup(out)
                # A backup that cannot live without a -wal file beside it is no backup.
                out.execute("PRAGMA journal_mode=DELETE")
                mark_as_restored_copy(out)
            finally:
                out.close()
        finally:
            src.close()
        with partial.open("rb+") as f:
            os.fsync(f.fileno())
        partial.replace(dest)
    except (sqlite3.Error, OSError) as e:
        partial.unlink(missing_ok=True)
        raise StorageError(f"backup of {source} to {dest} failed: {e}") from e


__all__ = ["SqliteStore", "Tx", "online_backup"]
