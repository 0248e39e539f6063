"""Invitations: how every user after the first joins (docs/api/invitations.md)."""

from __future__ import annotations

from datetime import timedelta

from parlour.domain.names import normalize_name, validate_password
from parlour.domain.passwords import Passwords
from parlour.domain.sessions import Login, start_session
from parlour.errors import InviteNotFound
from parlour.model import Invite, InviteId, Session, User, UserId, is_well_formed_id, new_id, now
from parlour.store import Store


async def issue_invite(
    store: Store, session: Session, expiry: timedelta, admins_only: bool
) -> Invite:
    """Raises SessionEnded, AdminsOnly (`--who-can-invite admins` and a member asks)."""
    at = now()
    invite = Invite(InviteId(new_id("I")), session.user, at, at + expiry)
    await store.insert_invite(invite, admins_only)
    return invite


async def list_invites(store: Store, session: Session) -> list[Invite]:
    """The usable invites, oldest first: all of them for an admin, one's own for a member."""
    return await store.select_invites(session.user.id, now())


async def revoke_invite(store: Store, session: Session, invite_id: str) -> None:
    """Raises InviteNotFound (unknown, used, expired), NotTheIssuer."""
    if not is_well_formed_id(invite_id, "I"):
        raise InviteNotFound()
    await store.delete_invite(session.user.id, InviteId(invite_id), now())


async def get_invite(store: Store, invite_id: str) -> Invite:
    """Raises InviteNotFound for an unknown, used, expired or malformed invite id."""
    invite = None
    if is_well_formed_id(invite_id, "I"):
        invite = await store.select_invite(InviteId(invite_id), now())
    if invite is None:
        raise InviteNotFound()
    return invite


async def accept_invite(
    store: Store,
    passwords: Passwords,
    invite_id: str,
    name: str,
    password: str,
    session_expiry: timedelta,
) -> Login:
    """Create a user from an invite and log them in.

    Raises InvalidInput (name, password), InviteNotFound, UserNameTaken, ServerBusy. Only
    success uses up the invite; of concurrent accepts exactly one succeeds (the invite row is
    deleted in the transaction that creates the user).
    """
    shown, key = normalize_name(name, "user")
    validate_password(password)
    if not is_well_formed_id(invite_id, "I"):
        raise InviteNotFound()
    # A cheap check first, so a dead invite does not cost an argon2 hash.
    await get_invite(store, invite_id)
    password_hash = await passwords.hash(password)
    at = now()
    user = User(UserId(new_id("U")), shown, "member", active=True)
    token, session = start_session(user.id, session_expiry, at)
    await store.insert_invited_user(InviteId(invite_id), user, key, password_hash, session, at)
    return Login(user, token, session.expires_at)
