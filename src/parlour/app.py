"""create_app(config): the one place where parlour's parts are built and wired together."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from starlette.applications import Starlette
from starlette.middleware import Middleware

from parlour.broker import Broker
from parlour.config import Config
from parlour.domain.expiry import run_expiry
from parlour.domain.members import IssuedResetLink, create_reset_link_for_name
from parlour.domain.passwords import Passwords
from parlour.domain.push import WebPush
from parlour.domain.setup import SetupState
from parlour.http.compression import Compression
from parlour.http.errors import EXCEPTION_HANDLERS, UnexpectedErrors
from parlour.http.headers import ResponseHeaders
from parlour.http.routes import build_routes
from parlour.http.state import Parlour
from parlour.model import Delivery, UserId
from parlour.store import Hooks, LoginLimits, open_store


@dataclass(slots=True)
class Running:
    """A built app plus what must be started and stopped around it."""

    asgi: ResponseHeaders
    parlour: Parlour
    fatal: str | None = None
    """Why the process must exit non-zero (the store can no longer write), once it must."""
    on_fatal: Callable[[], None] | None = None
    """Set by whoever runs the server: ask it to stop (see `fail`)."""
    _expiry: asyncio.Task[None] | None = None
    _stop_expiry: asyncio.Event | None = None

    def start_background(self) -> None:
        p = self.parlour
        self._stop_expiry = asyncio.Event()
        self._expiry = asyncio.create_task(
            run_expiry(p.store, p.config, self._stop_expiry), name="parlour-expiry"
        )
        if p.push is not None:
            p.push.start()

    def fail(self, reason: str) -> None:
        """The store cannot go on: stop serving, so that the process exits non-zero and its
        supervisor starts it afresh (docs/operations.md)."""
        self.fatal = reason
        self.begin_shutdown()
        if self.on_fatal is not None:
            self.on_fatal()

    def begin_shutdown(self) -> None:
        """Stop taking part: end every stream (uvicorn then waits for requests in flight)."""
        self.parlour.shutting_down.set()
        self.parlour.broker.end_all("server shutting down")

    async def close(self) -> None:
        """After the last request: stop the sweep, finish queued writes, close the store."""
        if self._stop_expiry is not None and self._expiry is not None:
            self._stop_expiry.set()
            with contextlib.suppress(asyncio.CancelledError):
                await self._expiry
        if self.parlour.push is not None:
            await self.parlour.push.close()
        await self.parlour.store.close()


async def create_app(config: Config) -> Running:
    """Open the store (migrating it if needed) and build the ASGI app.

    Must run on the event loop that will serve. Raises StartupRefused when the database
    cannot be used as it is.
    """
    loop = asyncio.get_running_loop()
    running: Running | None = None
    # Web Push needs the store, and the store and broker report to it: it is made last.
    push: WebPush | None = None

    def on_fatal(reason: str) -> None:
        if running is not None:
            running.fail(reason)

    def on_presence(user: UserId, present: bool) -> None:
        if push is not None:
            push.presence.changed(user, present)

    def on_local_commit(deliveries: list[Delivery]) -> None:
        if push is not None:
            push.pusher.offer(deliveries)

    broker = Broker(on_presence if config.push else None)
    store = await open_store(
        config.database,
        loop,
        Hooks(
            on_commit=broker.publish,
            on_revoked=lambda sessions, _: broker.end_sessions(sessions, "session revoked"),
            on_fatal=on_fatal,
            on_local_commit=on_local_commit if config.push else None,
        ),
    )
    if config.push:
        try:
            push = await WebPush.start_up(store, config.push_contact)
        except BaseException:
            await store.close()
            raise
    parlour = Parlour(
        config=config,
        store=store,
        broker=broker,
        setup=SetupState(store),
        throttle=LoginLimits(
            config.login_failures, config.login_address_failures, config.login_window
        ),
        passwords=Passwords.for_this_machine(cheap=config.cheap_password_hashes),
        shutting_down=asyncio.Event(),
        push=push,
    )
    app = Starlette(
        routes=build_routes(),
        exception_handlers=dict(EXCEPTION_HANDLERS),
        middleware=[Middleware(Compression), Middleware(UnexpectedErrors)],
    )
    app.state.parlour = parlour
    running = Running(ResponseHeaders(app), parlour)
    return running


def make_reset_link(database: str, name: str, expiry: timedelta) -> IssuedResetLink:
    """`parlour reset-link NAME`: a password-reset link made beside (or without) a running
    server. It makes no event, so no stream needs to hear of it.

    Raises StartupRefused, UserNotFound, UserDeactivated, StorageError.
    """

    async def make() -> IssuedResetLink:
        hooks = Hooks(on_commit=_ignore, on_revoked=lambda *_: None, on_fatal=_ignore)
        store = await open_store(database, asyncio.get_running_loop(), hooks)
        try:
            return await create_reset_link_for_name(store, name, expiry)
        finally:
            await store.close()

    return asyncio.run(make())


def _ignore(_: object) -> None:
    pass
