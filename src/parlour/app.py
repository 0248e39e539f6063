"""create_app(config): the one place where parlour's parts are built and wired together."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.middleware import Middleware

from parlour.broker import Broker
from parlour.config import Config
from parlour.domain.expiry import run_expiry
from parlour.domain.sessions import LoginThrottle
from parlour.domain.setup import SetupState
from parlour.http.errors import EXCEPTION_HANDLERS, UnexpectedErrors
from parlour.http.headers import ResponseHeaders
from parlour.http.routes import build_routes
from parlour.http.state import Parlour
from parlour.store import open_store


@dataclass(slots=True)
class Running:
    """A built app plus what must be started and stopped around it."""

    asgi: ResponseHeaders
    parlour: Parlour
    _expiry: asyncio.Task[None] | None = None
    _stop_expiry: asyncio.Event | None = None

    def start_background(self) -> None:
        p = self.parlour
        self._stop_expiry = asyncio.Event()
        self._expiry = asyncio.create_task(
            run_expiry(p.store, p.broker, p.config, self._stop_expiry), name="parlour-expiry"
        )

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
        await self.parlour.store.close()


async def create_app(config: Config) -> Running:
    """Open the store (migrating it if needed) and build the ASGI app.

    Must run on the event loop that will serve. Raises StartupRefused when the database
    cannot be used as it is.
    """
    loop = asyncio.get_running_loop()
    broker = Broker()
    store = await open_store(
        config.database,
        loop,
        on_commit=broker.publish,
        on_revoked=lambda sessions: broker.end_sessions(sessions, "session ended elsewhere"),
    )
    parlour = Parlour(
        config=config,
        store=store,
        broker=broker,
        setup=SetupState(store),
        throttle=LoginThrottle(config.login_failures, config.login_window),
        shutting_down=asyncio.Event(),
    )
    app = Starlette(
        routes=build_routes(),
        exception_handlers=dict(EXCEPTION_HANDLERS),
        middleware=[Middleware(UnexpectedErrors)],
    )
    app.state.parlour = parlour
    return Running(ResponseHeaders(app), parlour)
