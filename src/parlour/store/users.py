"""Users, their sessions, roles and deactivation: the transaction functions, for every engine.

Writers take turns (database.py), so the rules that depend on what is stored now (a free name,
the last active admin, who is an admin) are checked by plain reads inside the transaction
that acts on them: correct under any concurrency, on both engines.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from parlour.errors import (
    AdminsOnly,
    InviteNotFound,
    LastActiveAdmin,
    SessionEnded,
    SetupAlreadyDone,
    UserNameTaken,
    UserNotFound,
)
from parlour.model import InviteId, Role, Session, SessionId, User, UserCreated, UserId, UserUpdated
from parlour.store.engine import Reader, Tx
from parlour.store.log import record
from parlour.store.records import Credentials, NewSession, UserChanges
from parlour.store.times import from_ms, to_ms


def user_of(row: tuple[Any, ...]) -> User:
    """The user whose `u.id, u.name, u.role, u.active` begin `row`."""
    role: Role = "admin" if row[2] == "admin" else "member"
    return User(UserId(row[0]), row[1], role, bool(row[3]))


def select_user(r: Reader, user_id: UserId) -> User | None:
    row = r.row("SELECT u.id, u.name, u.role, u.active FROM users u WHERE u.id = ?", (user_id,))
    return None if row is None else user_of(row)


def select_users(r: Reader) -> list[User]:
    """Every user, active or not, in the order they joined."""
    return [
        user_of(row)
        for row in r.rows("SELECT u.id, u.name, u.role, u.active FROM users u ORDER BY seq")
    ]


def require_active(r: Reader, user_id: UserId) -> User:
    """The acting user, who must still be active: a change by a user deactivated meanwhile is
    refused (SessionEnded), so nothing of theirs is acknowledged after the deactivation."""
    user = select_user(r, user_id)
    if user is None or not user.active:
        raise SessionEnded()
    return user


def require_admin(r: Reader, user_id: UserId, what: str) -> User:
    actor = require_active(r, user_id)
    if actor.role != "admin":
        raise AdminsOnly(what)
    return actor


def select_is_set_up(r: Reader) -> bool:
    return bool(r.value("SELECT EXISTS (SELECT 1 FROM users)"))


def _name_taken(r: Reader, name_key: str, other_than: UserId | None = None) -> bool:
    owner = r.value("SELECT id FROM users WHERE name_key = ?", (name_key,))
    return owner is not None and owner != other_than


def insert_user(tx: Tx, user: User, name_key: str, password_hash: str, at: datetime) -> UserCreated:
    """Raises UserNameTaken (deactivated users keep their names)."""
    if _name_taken(tx, name_key):
        raise UserNameTaken(user.name)
    seq = tx.next_seq()
    tx.run(
        "INSERT INTO users (id, name, name_key, password_hash, created_at, seq, role, active)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (user.id, user.name, name_key, password_hash, to_ms(at), seq, user.role, user.active),
    )
    event = UserCreated(seq=seq, at=at, user=user)
    record(tx, event)
    return event


def insert_first_user(
    tx: Tx, user: User, name_key: str, password_hash: str, session: NewSession, at: datetime
) -> UserCreated:
    """Raises SetupAlreadyDone if any user exists: of concurrent setups, exactly one wins."""
    if select_is_set_up(tx):
        raise SetupAlreadyDone()
    event = insert_user(tx, user, name_key, password_hash, at)
    insert_session(tx, session)
    return event


def insert_invited_user(
    tx: Tx,
    invite_id: InviteId,
    user: User,
    name_key: str,
    password_hash: str,
    session: NewSession,
    at: datetime,
) -> UserCreated:
    """Uses up the invite. Raises InviteNotFound (unknown, used or expired), UserNameTaken
    (which leaves the invite usable: the job's changes are all undone)."""
    used = tx.value(
        "DELETE FROM invites WHERE id = ? AND expires_at > ? RETURNING id", (invite_id, to_ms(at))
    )
    if used is None:
        raise InviteNotFound()
    event = insert_user(tx, user, name_key, password_hash, at)
    insert_session(tx, session)
    return event


def update_user(
    tx: Tx, by: UserId, user_id: UserId, changes: UserChanges, at: datetime
) -> UserUpdated:
    """Apply `changes` to a user as `by` may (docs/api/members.md); always an event.

    Raises SessionEnded (`by` deactivated meanwhile), UserNotFound, AdminsOnly (a role, the
    active flag or another user's name), UserNameTaken, LastActiveAdmin.
    """
    actor = require_active(tx, by)
    user = select_user(tx, user_id)
    if user is None:
        raise UserNotFound()
    if actor.role != "admin":
        if changes.role is not None or changes.active is not None:
            raise AdminsOnly("change a role or deactivate someone")
        if changes.name is not None and user_id != by:
            raise AdminsOnly("rename someone else")
    if changes.name_key is not None and _name_taken(tx, changes.name_key, other_than=user_id):
        raise UserNameTaken(str(changes.name))
    updated = User(
        user.id,
        user.name if changes.name is None else changes.name,
        user.role if changes.role is None else changes.role,
        user.active if changes.active is None else changes.active,
    )
    was_admin = user.role == "admin" and user.active
    if was_admin and not (updated.role == "admin" and updated.active):
        others = tx.value(
            "SELECT count(*) FROM users WHERE role = 'admin' AND active = ? AND id != ?",
            (True, user_id),
        )
        if not others:
            raise LastActiveAdmin()
    tx.run(
        "UPDATE users SET name = ?, name_key = coalesce(?, name_key), role = ?, active = ?"
        " WHERE id = ?",
        (updated.name, changes.name_key, updated.role, updated.active, user_id),
    )
    if user.active and not updated.active:
        _cut_off(tx, user_id)
    event = UserUpdated(seq=tx.next_seq(), at=at, user=updated)
    record(tx, event)
    return event


def _cut_off(tx: Tx, user_id: UserId) -> None:
    """A deactivated user loses every way in, for good: sessions (and so their streams),
    the invites they issued and their password-reset links. Reactivation revives none."""
    revoke_sessions(tx, user_id)
    tx.run("DELETE FROM invites WHERE issuer = ?", (user_id,))
    tx.run("DELETE FROM reset_links WHERE user_id = ?", (user_id,))


def revoke_sessions(tx: Tx, user_id: UserId, keep: SessionId | None = None) -> list[SessionId]:
    """Delete the user's sessions (but `keep`); their streams end, in every process."""
    revoked = [
        SessionId(row[0])
        for row in tx.rows(
            "DELETE FROM sessions WHERE user_id = ? AND id != ? RETURNING id",
            (user_id, keep or ""),
        )
    ]
    tx.revoke(revoked)
    return revoked


def select_credentials(r: Reader, name_key: str) -> Credentials | None:
    row = r.row(
        "SELECT u.id, u.name, u.role, u.active, u.password_hash FROM users u WHERE u.name_key = ?",
        (name_key,),
    )
    if row is None:
        return None
    return Credentials(user_of(row), row[4])


def select_password_hash(r: Reader, user_id: UserId) -> str:
    """Raises UserNotFound."""
    password_hash = r.value("SELECT password_hash FROM users WHERE id = ?", (user_id,))
    if password_hash is None:
        raise UserNotFound()
    return str(password_hash)


def update_password(
    tx: Tx, user_id: UserId, password_hash: str, keep: SessionId
) -> list[SessionId]:
    """Store the new hash and revoke every other session of the user."""
    require_active(tx, user_id)
    tx.run("UPDATE users SET password_hash = ? WHERE id = ?", (password_hash, user_id))
    return revoke_sessions(tx, user_id, keep=keep)


def insert_session(tx: Tx, session: NewSession) -> None:
    tx.run(
        "INSERT INTO sessions (id, user_id, expires_at) VALUES (?, ?, ?)",
        (session.id, session.user_id, to_ms(session.expires_at)),
    )


def select_session(r: Reader, session_id: SessionId, now: datetime) -> Session | None:
    """The session if it exists, has not expired at `now`, and its user is active."""
    row = r.row(
        "SELECT u.id, u.name, u.role, u.active, s.expires_at"
        " FROM sessions s JOIN users u ON u.id = s.user_id"
        " WHERE s.id = ? AND s.expires_at > ? AND u.active = ?",
        (session_id, to_ms(now), True),
    )
    if row is None:
        return None
    return Session(session_id, user_of(row), from_ms(row[4]))


def update_session_expiry(tx: Tx, session_id: SessionId, expires_at: datetime) -> None:
    tx.run("UPDATE sessions SET expires_at = ? WHERE id = ?", (to_ms(expires_at), session_id))


def delete_session(tx: Tx, session_id: SessionId) -> None:
    """Revoke one session (logout): its streams end in every process."""
    tx.run("DELETE FROM sessions WHERE id = ?", (session_id,))
    tx.revoke([session_id])
