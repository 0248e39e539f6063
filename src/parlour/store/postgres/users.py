"""SQL for users and their sessions (PostgreSQL)."""

from __future__ import annotations

from datetime import datetime

import psycopg

from parlour.errors import NameTaken, NotFound, SetupAlreadyDone
from parlour.model import InviteId, Session, SessionId, User, UserCreated, UserId
from parlour.store import Credentials, NewSession
from parlour.store.postgres.database import Conn, PgTx
from parlour.store.times import from_ms, to_ms


async def select_is_set_up(conn: Conn) -> bool:
    cur = await conn.execute("SELECT EXISTS (SELECT 1 FROM users)")
    row = await cur.fetchone()
    return bool(row and row[0])


async def insert_user(
    tx: PgTx, user: User, name_key: str, password_hash: str, at: datetime
) -> UserCreated:
    seq = await tx.next_seq()
    try:
        async with tx.conn.transaction():  # a savepoint: the violation must not end the tx
            await tx.conn.execute(
                "INSERT INTO users (id, name, name_key, password_hash, created_at, seq)"
                " VALUES (%s, %s, %s, %s, %s, %s)",
                (user.id, user.name, name_key, password_hash, to_ms(at), seq),
            )
    except psycopg.errors.UniqueViolation as e:
        if e.diag.constraint_name == "users_name_key":
            raise NameTaken(f"The name {user.name!r} is taken; choose another.") from e
        raise
    event = UserCreated(seq=seq, at=at, user=user)
    tx.emit(event)
    return event


async def insert_first_user(
    tx: PgTx, user: User, name_key: str, password_hash: str, session: NewSession, at: datetime
) -> UserCreated:
    await tx.lock_counter()  # concurrent setups take turns here
    if await select_is_set_up(tx.conn):
        raise SetupAlreadyDone()
    event = await insert_user(tx, user, name_key, password_hash, at)
    await insert_session(tx.conn, session)
    return event


async def insert_invited_user(
    tx: PgTx,
    invite_id: InviteId,
    user: User,
    name_key: str,
    password_hash: str,
    session: NewSession,
    at: datetime,
) -> UserCreated:
    await tx.lock_counter()  # concurrent accepts take turns here
    cur = await tx.conn.execute(
        "DELETE FROM invites WHERE id = %s AND expires_at > %s RETURNING id",
        (invite_id, to_ms(at)),
    )
    if await cur.fetchone() is None:
        raise NotFound("No such invitation: it may have been used already, or expired.")
    event = await insert_user(tx, user, name_key, password_hash, at)
    await insert_session(tx.conn, session)
    return event


async def select_credentials(conn: Conn, name_key: str) -> Credentials | None:
    cur = await conn.execute(
        "SELECT id, name, password_hash FROM users WHERE name_key = %s", (name_key,)
    )
    row = await cur.fetchone()
    if row is None:
        return None
    return Credentials(User(UserId(row[0]), row[1]), row[2])


async def select_password_hash(conn: Conn, user_id: UserId) -> str:
    cur = await conn.execute("SELECT password_hash FROM users WHERE id = %s", (user_id,))
    row = await cur.fetchone()
    if row is None:
        raise NotFound("No such user.")
    return str(row[0])


async def update_password(
    tx: PgTx, user_id: UserId, password_hash: str, keep: SessionId
) -> list[SessionId]:
    await tx.conn.execute(
        "UPDATE users SET password_hash = %s WHERE id = %s", (password_hash, user_id)
    )
    cur = await tx.conn.execute(
        "DELETE FROM sessions WHERE user_id = %s AND id != %s RETURNING id", (user_id, keep)
    )
    revoked = [SessionId(r[0]) for r in await cur.fetchall()]
    tx.revoked.extend(revoked)
    return revoked


async def insert_session(conn: Conn, session: NewSession) -> None:
    await conn.execute(
        "INSERT INTO sessions (id, user_id, expires_at) VALUES (%s, %s, %s)",
        (session.id, session.user_id, to_ms(session.expires_at)),
    )


async def select_session(conn: Conn, session_id: SessionId, now: datetime) -> Session | None:
    cur = await conn.execute(
        "SELECT u.id, u.name, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id"
        " WHERE s.id = %s AND s.expires_at > %s",
        (session_id, to_ms(now)),
    )
    row = await cur.fetchone()
    if row is None:
        return None
    return Session(session_id, User(UserId(row[0]), row[1]), from_ms(row[2]))


async def update_session_expiry(conn: Conn, session_id: SessionId, expires_at: datetime) -> None:
    await conn.execute(
        "UPDATE sessions SET expires_at = %s WHERE id = %s", (to_ms(expires_at), session_id)
    )


async def delete_session(tx: PgTx, session_id: SessionId) -> None:
    await tx.conn.execute("DELETE FROM sessions WHERE id = %s", (session_id,))
    tx.revoked.append(session_id)
