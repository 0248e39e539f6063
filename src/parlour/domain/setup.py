"""Setup: the first user of a new server (docs/api/setup.md)."""

from __future__ import annotations

from datetime import timedelta

from parlour.domain.names import normalize_name, validate_password
from parlour.domain.passwords import Passwords
from parlour.domain.sessions import Login, start_session
from parlour.errors import SetupAlreadyDone, SetupRequired
from parlour.model import User, UserId, new_id, now
from parlour.store import Store


class SetupState:
    """Whether setup is done, cached once true: it can never become false again."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._done = False

    async def require_done(self) -> None:
        """Raises SetupRequired until the first user exists."""
        if not self._done:
            self._done = await self._store.select_is_set_up()
            if not self._done:
                raise SetupRequired()

    def mark_done(self) -> None:
        self._done = True

    async def require_not_done(self) -> None:
        if self._done or await self._store.select_is_set_up():
            self._done = True
            raise SetupAlreadyDone()


async def set_up(
    store: Store,
    state: SetupState,
    passwords: Passwords,
    name: str,
    password: str,
    session_expiry: timedelta,
) -> Login:
    """Create the first user and log them in. Raises SetupAlreadyDone, InvalidInput,
    ServerBusy.

    Of concurrent setups exactly one succeeds: the store checks "no user yet" inside the
    same write transaction that inserts the user.
    """
    await state.require_not_done()
    shown, key = normalize_name(name, "user")
    validate_password(password)
    password_hash = await passwords.hash(password)
    at = now()
    user = User(UserId(new_id("U")), shown, "admin", active=True)
    token, session = start_session(user.id, session_expiry, at)
    await store.insert_first_user(user, key, password_hash, session, at)
    state.mark_done()
    return Login(user, token, session.expires_at)
