"""Sessions: logging in and out, the login throttle, authentication, password changes."""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from parlour.domain.names import name_key, validate_password
from parlour.domain.passwords import Passwords
from parlour.errors import NotAllowed, NotAuthenticated, SessionEnded, StorageError
from parlour.model import Session, SessionId, User, UserId, now
from parlour.store import LoginAttempt, LoginLimits, NewSession, Store

log = logging.getLogger("parlour.sessions")

# 256 bits from the OS CSPRNG: the token is the whole secret, so it is as strong as a key.
TOKEN_BYTES = 32
BAD_CREDENTIALS = "Wrong name or password."
# The smallest IPv6 prefix a network is given (RFC 6177: an end site gets a /48 to a /64;
# a phone or a hosted machine often exactly a /64), from which it picks addresses at will:
# the login throttle counts one such prefix as one address. A shorter prefix would lump
# unrelated customers of one provider together.
IPV6_PREFIX = 64
# Longer than any IP address written out (45 characters); bounds what an odd proxy's
# X-Forwarded-For value can make the throttle store.
ADDRESS_CHARS = 64


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


def throttled_name(name: str) -> str:
    """The name as the login throttle counts it: a digest of its folded form (so `alice`
    and `Alice` are one name). The database keeps no name a guesser typed, which may well
    be a password typed into the wrong field, and no more than 64 characters whatever
    was typed."""
    return hashlib.sha256(name_key(name).encode("utf-8", "surrogatepass")).hexdigest()


def throttled_address(host: str | None) -> str:
    """The client address as the login throttle counts it (docs/api/sessions.md).

    IPv4: the address. IPv6: its /64, because a network (a home, a phone, a hosted machine)
    gets at least a /64 and picks any address in it at will: counted per address, one
    guesser would have 2^64 fresh counts. An IPv4-mapped IPv6 address is its IPv4 address.
    `host` is the peer, or what a trusted proxy reported (server.py); anything that is not
    an IP address (a proxy that sent something else) is kept as it came, shortened.
    """
    if not host:
        return "unknown"
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host[:ADDRESS_CHARS]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, IPV6_PREFIX), strict=False))
    return str(ip)


async def log_in(
    store: Store,
    limits: LoginLimits,
    passwords: Passwords,
    name: str,
    password: str,
    address: str | None,
    expiry: timedelta,
) -> Login:
    """Log in from the client at `address`. Raises TooManyFailedLogins (before any password
    check), ServerBusy, NotAuthenticated.

    An unknown name costs the same password check as a wrong password, and gets the same
    answer; so does a deactivated user's right password. The attempt counts against the
    throttle (in every process) from the moment it is admitted, not from when its slow
    password check fails: guesses sent at the same moment count as they arrive. A failure
    stays counted for the window; a success forgets its name's failures from its address;
    an attempt that ends otherwise (the server busy, a storage error) stops counting.
    """
    at = now()
    key = name_key(name)
    attempt = LoginAttempt(
        secrets.token_urlsafe(16), throttled_name(name), throttled_address(address), at
    )
    await store.insert_login_attempt(attempt, limits)
    try:
        credentials = await store.select_credentials(key)
        ok = await passwords.verify(credentials.password_hash if credentials else None, password)
    except BaseException:
        await _abandon(store, attempt)
        raise
    # A deactivated user gets the answer of a wrong password, after the same work.
    if not ok or credentials is None or not credentials.user.active:
        try:
            await store.update_failed_login(attempt, now())
        except StorageError as e:
            # Still in flight in the table, the attempt counts until a window after it
            # began: the guesser learns no more than from a recorded failure.
            log.warning("could not record a failed login (%s); it counts as in flight", e)
        raise NotAuthenticated(BAD_CREDENTIALS)
    # The session's lifetime runs from now, not from the request's arrival: a slow password
    # check must not eat into a short --session-expiry.
    token, session = start_session(credentials.user.id, expiry, now())
    try:
        await store.insert_login_session(attempt, session)
    except BaseException:
        await _abandon(store, attempt)
        raise
    return Login(credentials.user, token, session.expires_at)


async def _abandon(store: Store, attempt: LoginAttempt) -> None:
    """The attempt ended neither failed nor succeeded: it stops counting. If even that
    cannot be written, it counts until a window after it began (erring towards the limit)."""
    try:
        await store.delete_login_attempt(attempt.id)
    except StorageError as e:
        log.warning("could not uncount an abandoned login attempt (%s)", e)


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
