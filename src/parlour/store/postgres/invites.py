"""SQL for invitations (PostgreSQL)."""

from __future__ import annotations

from datetime import datetime

from parlour.model import Invite, InviteId, User, UserId
from parlour.store.postgres.database import Conn
from parlour.store.times import from_ms, to_ms


async def insert_invite(conn: Conn, invite: Invite, expires_at: datetime) -> None:
    await conn.execute(
        "INSERT INTO invites (id, issuer, issued_at, expires_at) VALUES (%s, %s, %s, %s)",
        (invite.id, invite.issuer.id, to_ms(invite.issued_at), to_ms(expires_at)),
    )


async def select_invite(conn: Conn, invite_id: InviteId, now: datetime) -> Invite | None:
    cur = await conn.execute(
        "SELECT u.id, u.name, i.issued_at FROM invites i JOIN users u ON u.id = i.issuer"
        " WHERE i.id = %s AND i.expires_at > %s",
        (invite_id, to_ms(now)),
    )
    row = await cur.fetchone()
    if row is None:
        return None
    return Invite(invite_id, User(UserId(row[0]), row[1]), from_ms(row[2]))
