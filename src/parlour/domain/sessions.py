"""Sessions: logging in and out, the login throttle, authentication, password changes."""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from parlour.domain.names import name_key, validate_password
from parlour.domain.passwords import hash_password, verify_password
from parlour.errors import NotAllowed, NotAuthenticated, RateLimited, StorageError
from parlour.model import Session, SessionId, User, UserId, now
from parlour.store import NewSession, Store

log = logging.getLogger("parlour.sessions")

# 256 bits from the OS CSPRNG: the token is the whole secret, so it is as strong as a key.
TOKEN_BYTES = 32
BAD_CREDENTIALS = "Wrong name or password."


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def session_id(token: str) -> SessionId:
    """Tokens are stored only as their SHA-256: a stolen database holds no usable token.

    A fast hash suffices (unlike passwords) because the token has 256 bits of entropy.
    """
    return SessionId(hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest())


@dataclass(frozen=True, slots=True)
class Login:
    """A fresh session: the token goes in the cookie and nowhere else."""

    user: User
    token: str
    expires_at: datetime


def start_session(user_id: UserId, expiry: timedelta, at: datetime) -> tuple[str, NewSession]:
    token = new_token()
    return token, NewSession(session_id(token), user_id, at + expiry)


class LoginThrottle:
    """Counts failed logins per name (SPEC "Sessions"); in memory, per process.

    After `limit` failures within `window`, logins for that name are refused until `window`
    after the most recent failure.
    """

    def __init__(self, limit: int, window: timedelta) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[str, deque[datetime]] = {}

    def check(self, key: str, at: datetime) -> None:
        failures = self._recent(key, at)
        if failures is not None and len(failures) >= self.limit:
            wait = failures[-1] + self.window - at
            raise RateLimited(
                "Too many failed logins for this name; try again later.",
                retry_after_seconds=max(1, int(-(-wait.total_seconds() // 1))),
            )

    def record_failure(self, key: str, at: datetime) -> None:
        failures = self._recent(key, at)
        if failures is None:
            if len(self._failures) > 10_000:
                self._forget_old(at)
            failures = self._failures[key] = deque(maxlen=self.limit)
        failures.append(at)

    def clear(self, key: str) -> None:
        self._failures.pop(key, None)

    def _recent(self, key: str, at: datetime) -> deque[datetime] | None:
        failures = self._failures.get(key)
        if failures is None:
            return None
        while failures and failures[0] <= at - self.window:
            failures.popleft()
        if not failures:
            del self._failures[key]
            return None
        return failures

    def _forget_old(self, at: datetime) -> None:
        for key in list(self._failures):
            self._recent(key, at)


async def log_in(
    store: Store, throttle: LoginThrottle, name: str, password: str, expiry: timedelta
) -> Login:
    """Raises RateLimited (before any password check) or NotAuthenticated."""
    at = now()
    key = name_key(name)
    throttle.check(key, at)
    credentials = await store.select_credentials(key)
    ok = await verify_password(credentials.password_hash if credentials else None, password)
    if not ok or credentials is None:
        throttle.record_failure(key, now())
        raise NotAuthenticated(BAD_CREDENTIALS)
    throttle.clear(key)
    token, session = start_session(credentials.user.id, expiry, at)
    await store.insert_session(session)
    return Login(credentials.user, token, session.expires_at)


async def log_out(store: Store, token: str | None) -> None:
    """Revoke the token's session; the store ends its streams (in every process)."""
    if not token:
        return
    await store.delete_session(session_id(token))


@dataclass(frozen=True, slots=True)
class Authenticated:
    session: Session
    renewed: bool
    """The expiry was pushed back by this use: the client's cookie should be renewed too."""


async def authenticate(store: Store, token: str | None, expiry: timedelta) -> Authenticated:
    """The live session for this token, its expiry pushed back if it is due.

    Raises NotAuthenticated for a missing, unknown, expired or revoked token.
    """
    if not token:
        raise NotAuthenticated("Log in first (POST /api/auth/login).")
    at = now()
    session = await store.select_session(session_id(token), at)
    if session is None:
        raise NotAuthenticated("Your session has ended (logged out or expired); log in again.")
    # Extending on every request would make every read a write; extending once the session
    # has aged by a small part of its lifetime keeps "each use extends it" to within that part.
    step = min(timedelta(minutes=1), expiry / 20)
    if session.expires_at - at < expiry - step:
        expires_at = at + expiry
        try:
            await store.update_session_expiry(session.id, expires_at)
        except StorageError as e:
            # Extending is a write riding on what may be a read: when the disk is full, the
            # read must still be served (issue 6). The session keeps the expiry it has, and a
            # later use extends it.
            log.warning("could not extend a session (%s); it keeps its expiry for now", e)
            return Authenticated(session, renewed=False)
        return Authenticated(Session(session.id, session.user, expires_at), renewed=True)
    return Authenticated(session, renewed=False)


async def change_password(store: Store, session: Session, current: str, new: str) -> None:
    """Raises InvalidInput (new password), NotAllowed (wrong current password).

    Every other session of the user is revoked; the store ends their streams."""
    validate_password(new)
    password_hash = await store.select_password_hash(session.user.id)
    if not await verify_password(password_hash, current):
        raise NotAllowed("The current password is wrong.")
    new_hash = await hash_password(new)
    await store.update_password(session.user.id, new_hash, keep=session.id)
