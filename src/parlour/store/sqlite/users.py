"""SQL for users and their sessions."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from parlour.errors import NameTaken, NotFound, SetupAlreadyDone
from parlour.model import InviteId, Session, SessionId, User, UserCreated, UserId
from parlour.store import Credentials, NewSession
from parlour.store.sqlite.database import Tx
from parlour.store.times import from_ms, to_ms


def select_is_set_up(conn: sqlite3.Connection) -> bool:
    return bool(conn.execute("SELECT EXISTS (SELECT 1 FROM users)").fetchone()[0])


def insert_user(tx: Tx, user: User, name_key: str, password_hash: str, at: datetime) -> UserCreated:
    seq = tx.next_seq()
    try:
        tx.conn.execute(
            "INSERT INTO users (id, name, name_key, password_hash, created_at, seq)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (user.id, user.name, name_key, password_hash, to_ms(at), seq),
        )
    except sqlite3.IntegrityError as e:
        if "users.name_key" in str(e):
            raise NameTaken(f"The name {user.name!r} is taken; choose another.") from e
        raise
    event = UserCreated(seq=seq, at=at, user=user)
    tx.emit(event)
    return event


def insert_first_user(
    tx: Tx, user: User, name_key: str, password_hash: str, session: NewSession, at: datetime
) -> UserCreated:
    if select_is_set_up(tx.conn):
        raise SetupAlreadyDone()
    event = insert_user(tx, user, name_key, password_hash, at)
    insert_session(tx.conn, session)
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
    used = tx.conn.execute(
        "DELETE FROM invites WHERE id = ? AND expires_at > ? RETURNING id", (invite_id, to_ms(at))
    ).fetchone()
    if used is None:
        raise NotFound("No such invitation: it may have been used already, or expired.")
    event = insert_user(tx, user, name_key, password_hash, at)
    insert_session(tx.conn, session)
    return event


def select_credentials(conn: sqlite3.Connection, name_key: str) -> Credentials | None:
    row = conn.execute(
        "SELECT id, name, password_hash FROM users WHERE name_key = ?", (name_key,)
    ).fetchone()
    if row is None:
        return None
    return Credentials(User(UserId(row[0]), row[1]), row[2])


def select_password_hash(conn: sqlite3.Connection, user_id: UserId) -> str:
    row = conn.execute("SELECT password_hash FROM users WHERE id = ?", (user_id,)).fetchone()
    if row is None:
        raise NotFound("No such user.")
    return str(row[0])


def update_password(
    tx: Tx, user_id: UserId, password_hash: str, keep: SessionId
) -> list[SessionId]:
    tx.conn.execute("UPDATE users SET password_hash = ? WHERE id = ?", (password_hash, user_id))
    rows = tx.conn.execute(
        "DELETE FROM sessions WHERE user_id = ? AND id != ? RETURNING id", (user_id, keep)
    ).fetchall()
    return [SessionId(r[0]) for r in rows]


def insert_session(conn: sqlite3.Connection, session: NewSession) -> None:
    conn.execute(
        "INSERT INTO sessions (id, user_id, expires_at) VALUES (?, ?, ?)",
        (session.id, session.user_id, to_ms(session.expires_at)),
    )


def select_session(
    conn: sqlite3.Connection, session_id: SessionId, now: datetime
) -> Session | None:
    row = conn.execute(
        "SELECT u.id, u.name, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id"
        " WHERE s.id = ? AND s.expires_at > ?",
        (session_id, to_ms(now)),
    ).fetchone()
    if row is None:
        return None
    return Session(session_id, User(UserId(row[0]), row[1]), from_ms(row[2]))


def update_session_expiry(
    conn: sqlite3.Connection, session_id: SessionId, expires_at: datetime
) -> None:
    conn.execute("UPDATE sessions SET expires_at = ? WHERE id = ?", (to_ms(expires_at), session_id))


def delete_session(conn: sqlite3.Connection, session_id: SessionId) -> None:
    conn.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
