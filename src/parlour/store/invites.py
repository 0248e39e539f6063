"""Invitations and password-reset links: the transaction functions, for every engine."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from parlour.errors import (
    InviteNotFound,
    NotTheIssuer,
    ResetLinkNotFound,
    UserDeactivated,
    UserNotFound,
)
from parlour.model import Invite, InviteId, ResetLink, ResetLinkId, User, UserId
from parlour.store.engine import Reader, Tx
from parlour.store.records import NewResetLink, NewSession
from parlour.store.times import from_ms, to_ms
from parlour.store.users import (
    insert_session,
    require_active,
    require_admin,
    revoke_sessions,
    select_user,
    user_of,
)


def insert_invite(tx: Tx, invite: Invite, admins_only: bool) -> None:
    """Raises SessionEnded (issuer deactivated meanwhile), AdminsOnly (`--who-can-invite
    admins` and the issuer is a member)."""
    if admins_only:
        require_admin(tx, invite.issuer.id, "invite people to this server")
    else:
        require_active(tx, invite.issuer.id)
    tx.run(
        "INSERT INTO invites (id, issuer, issued_at, expires_at) VALUES (?, ?, ?, ?)",
        (invite.id, invite.issuer.id, to_ms(invite.issued_at), to_ms(invite.expires_at)),
    )


INVITES = """
SELECT u.id, u.name, u.role, u.active, i.id, i.issued_at, i.expires_at
FROM invites i JOIN users u ON u.id = i.issuer
WHERE i.expires_at > :now
"""


def _invite(row: tuple[Any, ...]) -> Invite:
    return Invite(InviteId(row[4]), user_of(row), from_ms(row[5]), from_ms(row[6]))


def select_invite(r: Reader, invite_id: InviteId, now: datetime) -> Invite | None:
    """The invite if it is usable at `now` (not used, not expired)."""
    row = r.row(INVITES + " AND i.id = :id", {"now": to_ms(now), "id": invite_id})
    return None if row is None else _invite(row)


def select_invites(r: Reader, viewer: UserId, now: datetime) -> list[Invite]:
    """The usable invites, oldest first: every one for an admin, one's own for a member."""
    actor = require_active(r, viewer)
    if actor.role == "admin":
        rows = r.rows(INVITES + " ORDER BY i.issued_at, i.id", {"now": to_ms(now)})
    else:
        rows = r.rows(
            INVITES + " AND i.issuer = :viewer ORDER BY i.issued_at, i.id",
            {"now": to_ms(now), "viewer": viewer},
        )
    return [_invite(row) for row in rows]


def delete_invite(tx: Tx, by: UserId, invite_id: InviteId, now: datetime) -> None:
    """Revoke a usable invite. Raises InviteNotFound, NotTheIssuer (neither its issuer nor
    an admin)."""
    actor = require_active(tx, by)
    issuer = tx.value(
        "SELECT issuer FROM invites WHERE id = ? AND expires_at > ?", (invite_id, to_ms(now))
    )
    if issuer is None:
        raise InviteNotFound()
    if issuer != by and actor.role != "admin":
        raise NotTheIssuer()
    tx.run("DELETE FROM invites WHERE id = ?", (invite_id,))


def insert_reset_link(tx: Tx, by: UserId | None, link: NewResetLink) -> User:
    """Store a reset link for `link.user_id`, revoking older ones; returns that user.

    `by` is the admin asking, or None for the operator (`parlour reset-link`). Raises
    SessionEnded, UserNotFound, AdminsOnly, UserDeactivated.
    """
    if by is not None:
        require_active(tx, by)
    user = select_user(tx, link.user_id)
    if user is None:
        raise UserNotFound()
    if by is not None:
        require_admin(tx, by, "create a password-reset link")
    if not user.active:
        raise UserDeactivated()
    tx.run("DELETE FROM reset_links WHERE user_id = ?", (link.user_id,))
    tx.run(
        "INSERT INTO reset_links (id, user_id, issued_at, expires_at) VALUES (?, ?, ?, ?)",
        (link.token_hash, link.user_id, to_ms(link.issued_at), to_ms(link.expires_at)),
    )
    return user


def select_reset_link(
    r: Reader, link_id: ResetLinkId, token_hash: str, now: datetime
) -> ResetLink | None:
    """The link if usable at `now`: not used, not replaced, not expired, its user active."""
    row = r.row(
        "SELECT u.id, u.name, u.role, u.active, l.issued_at, l.expires_at FROM reset_links l"
        " JOIN users u ON u.id = l.user_id"
        " WHERE l.id = ? AND l.expires_at > ? AND u.active = ?",
        (token_hash, to_ms(now), True),
    )
    if row is None:
        return None
    return ResetLink(link_id, user_of(row), from_ms(row[4]), from_ms(row[5]))


def use_reset_link(
    tx: Tx, token_hash: str, password_hash: str, session: NewSession, at: datetime
) -> User:
    """Use the link up: set the password, revoke every session of its user, and start
    `session` (whose user_id is filled in here). Raises ResetLinkNotFound; of concurrent
    uses, exactly one succeeds."""
    user_id = tx.value(
        "DELETE FROM reset_links WHERE id = ? AND expires_at > ? RETURNING user_id",
        (token_hash, to_ms(at)),
    )
    user = None if user_id is None else select_user(tx, UserId(user_id))
    if user is None or not user.active:
        raise ResetLinkNotFound()
    tx.run("UPDATE users SET password_hash = ? WHERE id = ?", (password_hash, user.id))
    revoke_sessions(tx, user.id)
    insert_session(tx, NewSession(session.id, user.id, session.expires_at))
    return user
