"""The values the store hands to the domain and takes from it, beyond model.py's entities."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from parlour.model import Delivery, Event, ResetLinkId, Role, Seq, SessionId, User, UserId


@dataclass(frozen=True, slots=True)
class Hooks:
    """Whom the store tells what, on the event loop, once it is committed."""

    on_commit: Callable[[list[Delivery]], None]
    """Committed events and who may receive them, in sequence order (from every process, on
    PostgreSQL)."""
    on_revoked: Callable[[list[SessionId], Seq], None]
    """Revoked sessions (logout, password change, deactivation, expiry), from every process,
    with the newest sequence committed with them: their streams end once every event up to
    it has been published (so a deactivated user's stream still shows the deactivation)."""
    on_fatal: Callable[[str], None]
    """The store can no longer write: the process must exit (non-zero) and be restarted."""
    on_local_commit: Callable[[list[Delivery]], None] | None = None
    """Committed events, from this process's writes only (on either engine): for work that
    must happen once per event, not once per process (Web Push, docs/api/push.md)."""


@dataclass(frozen=True, slots=True)
class NewSession:
    id: SessionId
    user_id: UserId
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class UserChanges:
    """What `POST /api/users/{id}` asks to change; None leaves a field as it is."""

    name: str | None = None
    name_key: str | None = None
    role: Role | None = None
    active: bool | None = None


@dataclass(frozen=True, slots=True)
class NewResetLink:
    """A reset link about to be stored: its token goes to the admin, only its hash is kept."""

    id: ResetLinkId
    token_hash: str
    user_id: UserId
    issued_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Credentials:
    user: User
    password_hash: str


@dataclass(frozen=True, slots=True)
class EventBatch:
    """Events after a resume point, read in one transaction with the positions they sit in."""

    events: list[Event]
    newest: Seq
    forgotten: Seq
    """Resume points below this were purged (their tombstones are gone): 410 Gone."""


@dataclass(frozen=True, slots=True)
class ExpiryCutoffs:
    now: datetime
    messages_sent_before: datetime
    channels_idle_since: datetime
    tombstones_before: datetime
    login_attempts_before: datetime


@dataclass(frozen=True, slots=True)
class Expired:
    events: list[Delivery]
    sessions: list[SessionId]


@dataclass(frozen=True, slots=True)
class Copied:
    """What `copy_to_postgres` moved: rows per table, and the sequence it ends at."""

    rows: dict[str, int]
    seq: int


@dataclass(frozen=True, slots=True)
class LoginLimits:
    """The login throttle (docs/api/sessions.md): at most `per_name` attempts for one name
    from one address, and `per_address` from one address over all names, in flight or
    failed within `window`."""

    per_name: int
    per_address: int
    window: timedelta


@dataclass(frozen=True, slots=True)
class LoginAttempt:
    """One login attempt, counted from `at`. `name_key` is a digest of the folded name, and
    `address` the client's address as the throttle counts it (domain/sessions.py)."""

    id: str
    name_key: str
    address: str
    at: datetime
