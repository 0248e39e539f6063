"""PgStore: the Store protocol on PostgreSQL, for several parlour processes on one database."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

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
from parlour.store.postgres import channels, events, invites, messages, users
from parlour.store.postgres.database import PgDatabase
from parlour.store.postgres.migrate import prepare


class PgStore:
    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    @classmethod
    async def open(
        cls,
        url: str,
        on_commit: Callable[[list[Event]], None],
        on_revoked: Callable[[list[SessionId]], None],
    ) -> PgStore:
        prepare(url)
        db = PgDatabase(url, on_commit, on_revoked)
        await db.open()
        return cls(db)

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
        await self._db.write(lambda tx: users.delete_session(tx, session_id))

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
        """Let PostgreSQL reclaim the rows of expired messages now rather than eventually."""
        await self._db.run("VACUUM messages, tombstones")
