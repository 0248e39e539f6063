"""Invitations: the transaction functions, for every engine."""

from __future__ import annotations

from datetime import datetime

from parlour.model import Invite, InviteId, User, UserId
from parlour.store.engine import Reader, Tx
from parlour.store.times import from_ms, to_ms


def insert_invite(tx: Tx, invite: Invite, expires_at: datetime) -> None:
    tx.run(
        "INSERT INTO invites (id, issuer, issued_at, expires_at) VALUES (?, ?, ?, ?)",
        (invite.id, invite.issuer.id, to_ms(invite.issued_at), to_ms(expires_at)),
    )


def select_invite(r: Reader, invite_id: InviteId, now: datetime) -> Invite | None:
    """The invite if it is usable at `now` (not used, not expired)."""
    row = r.row(
        "SELECT u.id, u.name, i.issued_at FROM invites i JOIN users u ON u.id = i.issuer"
        " WHERE i.id = ? AND i.expires_at > ?",
        (invite_id, to_ms(now)),
    )
    if row is None:
        return None
    return Invite(invite_id, User(UserId(row[0]), row[1]), from_ms(row[2]))
