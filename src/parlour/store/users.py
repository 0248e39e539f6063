"""Users and their sessions: the transaction functions, for every engine."""

from __future__ import annotations

from datetime import datetime

from parlour.errors import InviteNotFound, SetupAlreadyDone, UserNameTaken, UserNotFound
from parlour.model import InviteId, Session, SessionId, User, UserCreated, UserId
from parlour.store.engine import Reader, Tx
from parlour.store.records import Credentials, NewSession
from parlour.store.times import from_ms, to_ms


def select_is_set_up(r: Reader) -> bool:
    return bool(r.value("SELECT EXISTS (SELECT 1 FROM users)"))


def insert_user(tx: Tx, user: User, name_key: str, password_hash: str, at: datetime) -> UserCreated:
    """Raises UserNameTaken. Writers take turns (see database.py), so looking first is
    enough; the unique index stays as the last line of defence."""
    if tx.value("SELECT 1 FROM users WHERE name_key = ?", (name_key,)) is not None:
        raise UserNameTaken(user.name)
    seq = tx.next_seq()
    tx.run(
        "INSERT INTO users (id, name, name_key, password_hash, created_at, seq)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (user.id, user.name, name_key, password_hash, to_ms(at), seq),
    )
    event = UserCreated(seq=seq, at=at, user=user)
    tx.emit(event)
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


def select_credentials(r: Reader, name_key: str) -> Credentials | None:
    row = r.row("SELECT id, name, password_hash FROM users WHERE name_key = ?", (name_key,))
    if row is None:
        return None
    return Credentials(User(UserId(row[0]), row[1]), row[2])


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
    tx.run("UPDATE users SET password_hash = ? WHERE id = ?", (password_hash, user_id))
    revoked = [
        SessionId(r[0])
        for r in tx.rows(
            "DELETE FROM sessions WHERE user_id = ? AND id != ? RETURNING id", (user_id, keep)
        )
    ]
    tx.revoke(revoked)
    return revoked


def insert_session(tx: Tx, session: NewSession) -> None:
    tx.run(
        "INSERT INTO sessions (id, user_id, expires_at) VALUES (?, ?, ?)",
        (session.id, session.user_id, to_ms(session.expires_at)),
    )


def select_session(r: Reader, session_id: SessionId, now: datetime) -> Session | None:
    """The session if it exists and has not expired at `now`."""
    row = r.row(
        "SELECT u.id, u.name, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id"
        " WHERE s.id = ? AND s.expires_at > ?",
        (session_id, to_ms(now)),
    )
    if row is None:
        return None
    return Session(session_id, User(UserId(row[0]), row[1]), from_ms(row[2]))


def update_session_expiry(tx: Tx, session_id: SessionId, expires_at: datetime) -> None:
    tx.run("UPDATE sessions SET expires_at = ? WHERE id = ?", (to_ms(expires_at), session_id))


def delete_session(tx: Tx, session_id: SessionId) -> None:
    """Revoke one session (logout): its streams end in every process."""
    tx.run("DELETE FROM sessions WHERE id = ?", (session_id,))
    tx.revoke([session_id])
