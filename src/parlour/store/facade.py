"""Store: what the domain asks of a database, one coroutine per transaction, any engine.

Each method runs one transaction function (users, channels, messages, invites, events,
expiry) on the Database. Methods that change what clients see stamp their events with
sequence numbers inside that transaction and, once committed, hand them (in sequence order)
to the `on_commit` callback given to `open_store`; they return the same events to the caller.
Revoked sessions (logout, password change, expiry) reach `on_revoked` the same way, in every
process. Driver errors become StorageError at this boundary.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from parlour.model import (
    Channel,
    ChannelCreated,
    ChannelDeleted,
    ChannelId,
    ChannelUpdated,
    Invite,
    InviteId,
    Message,
    MessageDeleted,
    MessageEdited,
    MessageId,
    MessageSent,
    NotifyLevel,
    Page,
    ReadState,
    ResetLink,
    ResetLinkId,
    SearchResults,
    Seq,
    Session,
    SessionId,
    Snapshot,
    User,
    UserCreated,
    UserId,
    UserUpdated,
)
from parlour.store import (
    channels,
    expiry,
    history,
    invites,
    log,
    logins,
    messages,
    push,
    reads,
    search,
    snapshot,
    users,
    visibility,
)
from parlour.store.database import Database
from parlour.store.engine import Tx
from parlour.store.push import NewPushSubscription, PushSubscription, PushTargets
from parlour.store.records import (
    Credentials,
    EventBatch,
    Expired,
    ExpiryCutoffs,
    LoginAttempt,
    LoginLimits,
    NewResetLink,
    NewSession,
    UserChanges,
)
from parlour.store.words import SearchQuery

logger = logging.getLogger("parlour.store")

# Deleted and edited-away text is zeroed in the database file at once, but the WAL keeps
# copies of the pages that held it until a checkpoint: one follows this long after an edit or
# deletion (docs/operations.md). A burst of them costs one checkpoint.
ERASE_DELAY_SECONDS = 2.0


class Store:
    def __init__(self, db: Database, on_close: Callable[[], Awaitable[None]] | None = None) -> None:
        self._db = db
        self._on_close = on_close
        self._erased = False
        self._eraser: asyncio.Task[None] | None = None

    async def close(self) -> None:
        """Finish queued writes and close every connection (and the engine's extras)."""
        if self._eraser is not None:
            # Closing the last connection checkpoints the WAL and removes it anyway.
            self._eraser.cancel()
        if self._on_close is not None:
            await self._on_close()
        await self._db.close()

    def _erase_soon(self) -> None:
        """Text was deleted or edited away: have it leave the WAL (and, on PostgreSQL, the
        dead rows) within ERASE_DELAY_SECONDS."""
        self._erased = True
        if self._eraser is None or self._eraser.done():
            self._eraser = asyncio.get_running_loop().create_task(self._erase())

    async def _erase(self) -> None:
        # An erasure while a checkpoint runs sets the flag again: another checkpoint follows.
        while self._erased:
            await asyncio.sleep(ERASE_DELAY_SECONDS)
            self._erased = False
            try:
                await self._db.housekeep()
            except Exception:
                logger.exception(
                    "checkpoint after an edit or deletion failed; the next one retries"
                )

    async def select_is_set_up(self) -> bool:
        return await self._db.read(users.select_is_set_up)

    async def insert_first_user(
        self, user: User, name_key: str, password_hash: str, session: NewSession, at: datetime
    ) -> UserCreated:
        """Raises SetupAlreadyDone if any user exists."""
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
        """Uses up the invite. Raises InviteNotFound, UserNameTaken."""
        return await self._db.write(
            lambda tx: users.insert_invited_user(
                tx, invite_id, user, name_key, password_hash, session, at
            )
        )

    async def select_users(self) -> list[User]:
        return await self._db.read(users.select_users)

    async def update_user(
        self, by: UserId, user_id: UserId, changes: UserChanges, at: datetime
    ) -> UserUpdated:
        """Raises SessionEnded, UserNotFound, AdminsOnly, UserNameTaken, LastActiveAdmin."""
        return await self._db.write(lambda tx: users.update_user(tx, by, user_id, changes, at))

    async def select_credentials(self, name_key: str) -> Credentials | None:
        return await self._db.read(lambda r: users.select_credentials(r, name_key))

    async def select_password_hash(self, user_id: UserId) -> str:
        return await self._db.read(lambda r: users.select_password_hash(r, user_id))

    async def insert_session(self, session: NewSession) -> None:
        await self._db.write(lambda tx: users.insert_session(tx, session))

    async def select_session(self, session_id: SessionId, now: datetime) -> Session | None:
        """The session if it exists and has not expired at `now`."""
        return await self._db.read(lambda r: users.select_session(r, session_id, now))

    async def update_session_expiry(self, session_id: SessionId, expires_at: datetime) -> None:
        await self._db.write(lambda tx: users.update_session_expiry(tx, session_id, expires_at))

    async def delete_session(self, session_id: SessionId) -> None:
        """Revoke the session; its streams end (in every process)."""
        await self._db.write(lambda tx: users.delete_session(tx, session_id))

    async def update_password(
        self, user_id: UserId, password_hash: str, keep: SessionId
    ) -> list[SessionId]:
        """Store the new hash and revoke every other session; returns the revoked ones."""
        return await self._db.write(
            lambda tx: users.update_password(tx, user_id, password_hash, keep)
        )

    async def insert_login_attempt(self, attempt: LoginAttempt, limits: LoginLimits) -> None:
        """Count the attempt from now (in every process), within the limits, in one
        transaction. Raises TooManyFailedLogins, counting nothing."""
        await self._db.write(lambda tx: logins.insert_login_attempt(tx, attempt, limits))

    async def update_failed_login(self, attempt: LoginAttempt, at: datetime) -> None:
        """The attempt failed at `at`: it stays counted for the window from then."""
        await self._db.write(lambda tx: logins.update_failed_login(tx, attempt, at))

    async def insert_login_session(self, attempt: LoginAttempt, session: NewSession) -> None:
        """The attempt succeeded: start `session`, and forget the attempt and its name's
        failures from its address, in one transaction."""
        await self._db.write(lambda tx: logins.insert_login_session(tx, attempt, session))

    async def delete_login_attempt(self, attempt_id: str) -> None:
        """The attempt ended otherwise (the server busy, a storage error): uncount it."""
        await self._db.write(lambda tx: logins.delete_login_attempt(tx, attempt_id))

    async def insert_invite(self, invite: Invite, admins_only: bool) -> None:
        """Raises SessionEnded, AdminsOnly."""
        await self._db.write(lambda tx: invites.insert_invite(tx, invite, admins_only))

    async def select_invite(self, invite_id: InviteId, now: datetime) -> Invite | None:
        return await self._db.read(lambda r: invites.select_invite(r, invite_id, now))

    async def select_invites(self, viewer: UserId, now: datetime) -> list[Invite]:
        """Raises SessionEnded."""
        return await self._db.read(lambda r: invites.select_invites(r, viewer, now))

    async def delete_invite(self, by: UserId, invite_id: InviteId, now: datetime) -> None:
        """Raises SessionEnded, InviteNotFound, NotTheIssuer."""
        await self._db.write(lambda tx: invites.delete_invite(tx, by, invite_id, now))

    async def insert_reset_link(self, by: UserId | None, link: NewResetLink) -> User:
        """Raises SessionEnded, UserNotFound, AdminsOnly, UserDeactivated."""
        return await self._db.write(lambda tx: invites.insert_reset_link(tx, by, link))

    async def select_reset_link(
        self, link_id: ResetLinkId, token_hash: str, now: datetime
    ) -> ResetLink | None:
        return await self._db.read(lambda r: invites.select_reset_link(r, link_id, token_hash, now))

    async def use_reset_link(
        self, token_hash: str, password_hash: str, session: NewSession, at: datetime
    ) -> User:
        """Raises ResetLinkNotFound."""
        return await self._db.write(
            lambda tx: invites.use_reset_link(tx, token_hash, password_hash, session, at)
        )

    async def insert_channel(self, by: UserId, channel: Channel, name_key: str) -> ChannelCreated:
        """Raises SessionEnded, ChannelNameTaken."""
        return await self._db.write(lambda tx: channels.insert_channel(tx, by, channel, name_key))

    async def delete_channel(
        self, by: UserId, channel_id: ChannelId, at: datetime
    ) -> ChannelDeleted:
        """Raises SessionEnded, ChannelNotFound, DirectChannelKept, ChannelNotEmpty."""
        deleted = await self._db.write(lambda tx: channels.delete_channel(tx, by, channel_id, at))
        self._erase_soon()
        return deleted

    async def insert_direct(self, channel: Channel) -> tuple[Channel, bool]:
        """The direct channel of `channel.members` (the caller first), made if new (True).
        Raises SessionEnded, UnknownMember."""
        return await self._db.write(lambda tx: channels.insert_direct(tx, channel))

    async def insert_member(
        self, by: UserId, channel_id: ChannelId, user_id: UserId, at: datetime
    ) -> ChannelUpdated:
        """Raises SessionEnded, UnknownMember, ChannelNotFound, MembersOnlyInPrivate,
        AlreadyMember."""
        return await self._db.write(
            lambda tx: channels.insert_member(tx, by, channel_id, user_id, at)
        )

    async def delete_member(
        self, by: UserId, channel_id: ChannelId, user_id: UserId, at: datetime
    ) -> ChannelUpdated:
        """Raises SessionEnded, ChannelNotFound, MembersOnlyInPrivate, NotAMember,
        AdminsOnly."""
        updated = await self._db.write(
            lambda tx: channels.delete_member(tx, by, channel_id, user_id, at)
        )
        self._erase_soon()  # the last member out takes the channel's messages with them
        return updated

    async def insert_message(self, message: Message) -> tuple[Message, MessageSent | None]:
        """The message as stored, and its event; or, for a retry of a message whose
        `client_id` this sender used in this channel, that message and no event. Raises
        SessionEnded, ChannelNotFound, BadMention."""
        return await self._db.write(lambda tx: messages.insert_message(tx, message))

    async def update_message(
        self,
        by: UserId,
        message_id: MessageId,
        body: str,
        mentions: tuple[UserId, ...],
        at: datetime,
    ) -> MessageEdited:
        """Raises SessionEnded, MessageNotFound, NotTheAuthor, BadMention."""
        edited = await self._db.write(
            lambda tx: messages.update_message(tx, by, message_id, body, mentions, at)
        )
        self._erase_soon()
        return edited

    async def insert_reaction(
        self, by: UserId, message_id: MessageId, emoji: str, at: datetime
    ) -> Message:
        """The message with the reaction. Raises SessionEnded, MessageNotFound,
        ReactionExists, TooManyReactions."""
        _, message = await self._db.write(
            lambda tx: messages.insert_reaction(tx, by, message_id, emoji, at)
        )
        return message

    async def delete_reaction(
        self, by: UserId, message_id: MessageId, emoji: str, at: datetime
    ) -> Message:
        """The message without the reaction. Raises SessionEnded, MessageNotFound,
        ReactionNotFound."""
        _, message = await self._db.write(
            lambda tx: messages.delete_reaction(tx, by, message_id, emoji, at)
        )
        return message

    async def update_read(
        self, user: UserId, channel_id: ChannelId, position: Seq, at: datetime
    ) -> ReadState:
        """The read state after moving the position forward. Raises ChannelNotFound,
        InvalidInput (beyond the newest sequence)."""

        def update(tx: Tx) -> ReadState:
            channel = visibility.require_visible(tx, channel_id, user)
            reads.update_read(tx, user, channel, position, at)
            return reads.select_read_state(tx, user, channel)

        return await self._db.write(update)

    async def update_level(
        self, user: UserId, channel_id: ChannelId, level: NotifyLevel, at: datetime
    ) -> ReadState:
        """The read state with the new level. Raises ChannelNotFound."""

        def update(tx: Tx) -> ReadState:
            channel = visibility.require_visible(tx, channel_id, user)
            reads.update_level(tx, user, channel, level, at)
            return reads.select_read_state(tx, user, channel)

        return await self._db.write(update)

    async def delete_message(
        self, by: UserId, message_id: MessageId, at: datetime
    ) -> MessageDeleted:
        """Raises SessionEnded, MessageNotFound, NotTheSender."""
        deleted = await self._db.write(lambda tx: messages.delete_message(tx, by, message_id, at))
        self._erase_soon()
        return deleted

    async def select_snapshot(self, user: UserId, messages_per_channel: int) -> Snapshot:
        """What `user` may see, with each visible channel's newest messages."""
        return await self._db.read(
            lambda r: snapshot.select_snapshot(r, user, messages_per_channel)
        )

    async def select_page(
        self,
        user: UserId,
        channel_id: ChannelId,
        before: Seq | None,
        after: Seq | None,
        limit: int,
    ) -> Page:
        """Raises ChannelNotFound (none that `user` may see)."""
        return await self._db.read(
            lambda r: history.select_page(r, user, channel_id, before, after, limit)
        )

    async def select_search(
        self,
        user: UserId,
        query: SearchQuery,
        channel_id: ChannelId | None,
        before: Seq | None,
        limit: int,
    ) -> SearchResults:
        """The newest matches below `before` that `user` may see (docs/api/search.md).
        Raises ChannelNotFound (a `channel_id` that `user` may not see)."""
        return await self._db.read(
            lambda r: search.select_results(r, user, query, channel_id, before, limit)
        )

    async def select_events(self, after: Seq, limit: int, user: UserId) -> EventBatch:
        """The retained events with seq > after that `user` could see, in order, at most
        `limit` of them."""
        return await self._db.read(lambda r: log.select_events(r, after, limit, user))

    async def delete_expired(self, cutoffs: ExpiryCutoffs) -> Expired:
        return await self._db.write(lambda tx: expiry.delete_expired(tx, cutoffs))

    async def checkpoint(self) -> None:
        """Make deleted content leave every file of the database (e.g. the WAL)."""
        await self._db.housekeep()

    async def select_setting(self, name: str) -> str | None:
        return await self._db.read(lambda r: push.select_setting(r, name))

    async def insert_setting(self, name: str, value: str) -> str:
        """Store `value` unless `name` has one already (first writer wins, in every
        process); returns the value kept."""
        return await self._db.write(lambda tx: push.insert_setting(tx, name, value))

    async def insert_push_subscription(self, new: NewPushSubscription) -> None:
        """Register a browser (moving its endpoint from whoever had it)."""
        await self._db.write(lambda tx: push.insert_subscription(tx, new))

    async def delete_push_subscription(self, user: UserId, endpoint: str) -> None:
        await self._db.write(lambda tx: push.delete_subscription(tx, user, endpoint))

    async def delete_gone_push_subscription(self, subscription: PushSubscription) -> None:
        await self._db.write(lambda tx: push.delete_gone_subscription(tx, subscription))

    async def update_presence(self, seen: dict[UserId, datetime], forget_before: datetime) -> None:
        """Record when users were last seen with a stream open; one write for all of them."""
        await self._db.write(lambda tx: push.update_presence(tx, seen, forget_before))

    async def select_push_targets(
        self, messages: Sequence[Message], absent_since: datetime, now: datetime
    ) -> list[PushTargets | None]:
        """Whom each new message is pushed to (see push.select_push_targets_of)."""
        return await self._db.read(
            lambda r: push.select_push_targets_of(r, messages, absent_since, now)
        )
