"""Sessions: logging in and out, the login throttle, authentication, password changes."""

from __future__ import annotations

import hashlib
import logging
import math
import secrets
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from parlour.domain.names import name_key, validate_password
from parlour.domain.passwords import Passwords
from parlour.errors import (
    NotAllowed,
    NotAuthenticated,
    SessionEnded,
    StorageError,
    TooManyFailedLogins,
)
from parlour.model import Session, SessionId, User, UserId, now
from parlour.store import NewSession, Store

log = logging.getLogger("parlour.sessions")

# 256 bits from the OS CSPRNG: the token is the whole secret, so it is as strong as a key.
TOKEN_BYTES = 32
BAD_CREDENTIALS = "Wrong name or password."


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    """Tokens (sessions, reset links) are stored only as their SHA-256: a stolen database
    holds no usable token. A fast hash suffices (unlike passwords) because a token carries
    at least 144 random bits."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def session_id(token: str) -> SessionId:
    return SessionId(token_hash(token))


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
    """Counts login attempts per name (docs/api/sessions.md, "The model"); in memory.

    An attempt counts from the moment it starts: guesses sent at the same moment count as
    they arrive, not as their (slow) password checks finish. Once `limit` attempts for a name
    are in flight or failed within `window`, the next is refused until `window` after the
    most recent failure. A completed failure stays counted; a success clears the name's
    failures; an attempt that ends otherwise (the server busy, a storage error) is not
    counted. `_admit` is the one place where the limit is checked and an attempt counted.
    """

    def __init__(self, limit: int, window: timedelta) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[str, deque[datetime]] = {}
        self._in_flight: dict[str, int] = {}

    @contextmanager
    def attempt(self, key: str, at: datetime) -> Iterator[LoginAttempt]:
        """One attempt for `key`, counted from now; raises TooManyFailedLogins instead.

        The caller marks it `failed` or `succeeded`; unmarked, it is forgotten on exit.
        """
        self._admit(key, at)
        attempt = LoginAttempt()
        try:
            yield attempt
        finally:
            self._in_flight[key] -= 1
            if not self._in_flight[key]:
                del self._in_flight[key]
            if attempt.failed_at is not None:
                self._record_failure(key, attempt.failed_at)
            elif attempt.has_succeeded:
                self._failures.pop(key, None)

    def _admit(self, key: str, at: datetime) -> None:
        failures = self._recent(key, at)
        in_flight = self._in_flight.get(key, 0)
        if len(failures or ()) + in_flight >= self.limit:
            # Attempts in flight will most likely fail now, so count the wait from now.
            last = at if in_flight or not failures else failures[-1]
            wait = (last + self.window - at).total_seconds()
            raise TooManyFailedLogins(retry_after_seconds=max(1, math.ceil(wait)))
        self._in_flight[key] = in_flight + 1

    def _record_failure(self, key: str, at: datetime) -> None:
        failures = self._recent(key, at)
        if failures is None:
            if len(self._failures) > 10_000:
                self._forget_old(at)
            failures = self._failures[key] = deque(maxlen=self.limit)
        failures.append(at)

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


@dataclass(slots=True)
class LoginAttempt:
    """How one login attempt ended, as LoginThrottle counts it."""

    failed_at: datetime | None = None
    has_succeeded: bool = False

    def failed(self, at: datetime) -> None:
        self.failed_at = at

    def succeeded(self) -> None:
        self.has_succeeded = True


async def log_in(
    store: Store,
    throttle: LoginThrottle,
    passwords: Passwords,
    name: str,
    password: str,
    expiry: timedelta,
) -> Login:
    """Raises TooManyFailedLogins (before any password check), ServerBusy, NotAuthenticated.

    An unknown name costs the same password check as a wrong password, and gets the same
    answer.
    """
    at = now()
    key = name_key(name)
    with throttle.attempt(key, at) as attempt:
        credentials = await store.select_credentials(key)
        ok = await passwords.verify(credentials.password_hash if credentials else None, password)
        # A deactivated user gets the answer of a wrong password, after the same work.
        if not ok or credentials is None or not credentials.user.active:
            attempt.failed(now())
            raise NotAuthenticated(BAD_CREDENTIALS)
        attempt.succeeded()
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
        raise SessionEnded()
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


async def change_password(
    store: Store, passwords: Passwords, session: Session, current: str, new: str
) -> None:
    """Raises InvalidInput (new password), NotAllowed (wrong current password), ServerBusy.

    Every other session of the user is revoked; the store ends their streams."""
    validate_password(new)
    password_hash = await store.select_password_hash(session.user.id)
    if not await passwords.verify(password_hash, current):
        raise NotAllowed("The current password is wrong.")
    new_hash = await passwords.hash(new)
    await store.update_password(session.user.id, new_hash, keep=session.id)
