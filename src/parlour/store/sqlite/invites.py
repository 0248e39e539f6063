"""SQL for invitations."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from parlour.model import Invite, InviteId, User, UserId
from parlour.store.times import from_ms, to_ms


def insert_invite(conn: sqlite3.Connection, invite: Invite, expires_at: datetime) -> None:
    conn.execute(
        "INSERT INTO invites (id, issuer, issued_at, expires_at) VALUES (?, ?, ?, ?)",
        (invite.id, invite.issuer.id, to_ms(invite.issued_at), to_ms(expires_at)),
    )


def select_invite(conn: sqlite3.Connection, invite_id: InviteId, now: datetime) -> Invite | None:
    row = conn.execute(
        "SELECT u.id, u.name, i.issued_at FROM invites i JOIN users u ON u.id = i.issuer"
        " WHERE i.id = ? AND i.expires_at > ?",
        (invite_id, to_ms(now)),
    ).fetchone()
    if row is None:
        return None
    return Invite(invite_id, User(UserId(row[0]), row[1]), from_ms(row[2]))
