"""The collaborators a request handler works with, built once by app.py."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import cast

from starlette.requests import HTTPConnection

from parlour.broker import Broker
from parlour.config import Config
from parlour.domain.passwords import Passwords
from parlour.domain.push import WebPush
from parlour.domain.setup import SetupState
from parlour.store import LoginLimits, Store


@dataclass(slots=True)
class Parlour:
    config: Config
    store: Store
    broker: Broker
    setup: SetupState
    throttle: LoginLimits
    passwords: Passwords
    shutting_down: asyncio.Event
    push: WebPush | None = None
    """None when Web Push is off (--push off)."""


def parlour_of(conn: HTTPConnection) -> Parlour:
    return cast(Parlour, conn.app.state.parlour)
