"""Members and administration: roles, renaming, deactivation, password-reset links
(docs/api/members.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from parlour.domain.names import name_key, normalize_name, validate_password
from parlour.domain.passwords import Passwords
from parlour.domain.sessions import Login, new_token, start_session, token_hash
from parlour.errors import ResetLinkNotFound, UserNotFound
from parlour.model import (
    ResetLink,
    ResetLinkId,
    Role,
    Session,
    User,
    UserId,
    is_well_formed_id,
    now,
)
from parlour.store import NewResetLink, Store, UserChanges

# A reset link's token is its id: `R` and 43 URL-safe characters (256 bits), as strong as a
# session token, since whoever holds it can set the password.
RESET_ID_PREFIX = "R"


async def list_users(store: Store) -> list[User]:
    return await store.select_users()


async def change_user(
    store: Store,
    session: Session,
    user_id: str,
    name: str | None,
    role: Role | None,
    active: bool | None,
) -> User:
    """Apply what the caller may change (docs/api/members.md); always an event.

    Raises InvalidInput (name), UserNotFound, AdminsOnly, UserNameTaken, LastActiveAdmin.
    """
    shown, key = normalize_name(name, "user") if name is not None else (None, None)
    if not is_well_formed_id(user_id, "U"):
        raise UserNotFound()
    changes = UserChanges(name=shown, name_key=key, role=role, active=active)
    event = await store.update_user(session.user.id, UserId(user_id), changes, now())
    return event.user


@dataclass(frozen=True, slots=True)
class IssuedResetLink:
    link: ResetLink

    @property
    def path(self) -> str:
        """Where the user sets a new password in the web client."""
        return f"/reset/{self.link.id}"


async def create_reset_link(
    store: Store, by: Session | None, user_id: str, expiry: timedelta
) -> IssuedResetLink:
    """A new password-reset link for the user, revoking older ones.

    `by` is the admin asking, or None for the operator (`parlour reset-link`). Raises
    UserNotFound, AdminsOnly, UserDeactivated.
    """
    if not is_well_formed_id(user_id, "U"):
        raise UserNotFound()
    token = RESET_ID_PREFIX + new_token()
    at = now()
    link = NewResetLink(ResetLinkId(token), token_hash(token), UserId(user_id), at, at + expiry)
    user = await store.insert_reset_link(None if by is None else by.user.id, link)
    return IssuedResetLink(ResetLink(link.id, user, link.issued_at, link.expires_at))


async def create_reset_link_for_name(store: Store, name: str, expiry: timedelta) -> IssuedResetLink:
    """The operator's way back in (`parlour reset-link NAME`). Raises UserNotFound,
    UserDeactivated."""
    credentials = await store.select_credentials(name_key(name))
    if credentials is None:
        raise UserNotFound()
    return await create_reset_link(store, None, credentials.user.id, expiry)


def _is_reset_token(link_id: str) -> bool:
    return is_well_formed_id(link_id, RESET_ID_PREFIX)


async def get_reset_link(store: Store, link_id: str) -> ResetLink:
    """Raises ResetLinkNotFound (unknown, used, replaced, expired, or its user deactivated)."""
    link = None
    if _is_reset_token(link_id):
        link = await store.select_reset_link(ResetLinkId(link_id), token_hash(link_id), now())
    if link is None:
        raise ResetLinkNotFound()
    return link


async def use_reset_link(
    store: Store, passwords: Passwords, link_id: str, password: str, session_expiry: timedelta
) -> Login:
    """Set the password through the link and log in; every other session of the user ends.

    Raises InvalidInput (password: the link stays usable), ResetLinkNotFound, ServerBusy. Of
    concurrent uses exactly one succeeds (the link is deleted in the transaction that sets
    the password).
    """
    validate_password(password)
    # A cheap check first, so a dead link does not cost an argon2 hash.
    await get_reset_link(store, link_id)
    password_hash = await passwords.hash(password)
    at = now()
    token, session = start_session(UserId(""), session_expiry, at)
    user = await store.use_reset_link(token_hash(link_id), password_hash, session, at)
    return Login(user, token, session.expires_at)
