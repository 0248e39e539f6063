"""argon2id password hashing, off the event loop, a bounded number at once (docs/api/sessions.md).

A hash takes tens of milliseconds of CPU and 64 MiB of memory (hundreds of milliseconds on a
busy machine), so it runs on a thread. Unbounded, a flood of logins queued thousands of them
on the default executor, and another user's login waited behind all of them (38.7 s in
issue 10's probe). `Passwords` lets `running` hashes run at once and `waiting` more wait for
a turn; beyond that a caller is refused at once with `ServerBusy` (429 with Retry-After), so
a legitimate login waits behind at most `running + waiting` others, never behind a flood.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import TypeVar

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

from parlour.errors import ServerBusy

T = TypeVar("T")

# Verified against when a login names no user, so that an unknown name costs the same time
# as a wrong password (no user enumeration by timing); hashed with the same parameters.
_DUMMY_PASSWORD = "parlour: no such user"  # noqa: S105 - a known text, hashed to waste time

# More hashes at once than cores only makes each slower; and each holds 64 MiB, so even a
# large machine runs at most 8 (512 MiB), whatever its core count.
MAX_RUNNING = 8
# Enough waiting turns for a burst of people logging in at the same moment (a meeting
# starting) to get through; few enough that a queued login waits at most 32 / running hash
# times (under a second on two idle cores).
WAITING = 32


def usable_cpus() -> int:
    """The cores this process may run on (its affinity mask, where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


class Passwords:
    """Hashes and checks passwords: at most `running` at once, at most `waiting` queued.

    Counting is done on the event loop (no lock needed); a turn is given back when the
    thread's work ends, not when its caller stops waiting, so a cancelled request cannot
    let more hashes run than `running`.
    """

    def __init__(self, running: int, waiting: int, *, cheap: bool = False) -> None:
        """cheap: argon2-cffi's cheapest argon2id parameters, for parlour's own test suite
        (Config.cheap_password_hashes), where hashing was half of the API tests' time;
        otherwise argon2-cffi's defaults, RFC 9106's "second recommended" parameters."""
        self.capacity = running + waiting
        self._running = asyncio.Semaphore(running)
        self._admitted = 0
        self._hasher = (
            PasswordHasher.from_parameters(profiles.CHEAPEST) if cheap else PasswordHasher()
        )
        self._dummy_hash = self._hasher.hash(_DUMMY_PASSWORD)

    @classmethod
    def for_this_machine(cls, *, cheap: bool = False) -> Passwords:
        return cls(min(usable_cpus(), MAX_RUNNING), WAITING, cheap=cheap)

    async def hash(self, password: str) -> str:
        """The argon2id hash of `password`. Raises ServerBusy when the queue is full."""
        return await self._run(lambda: self._hasher.hash(password))

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """True if `password` matches; with no hash, does the same work and returns False.

        Raises ServerBusy when the queue is full (before any work, for either case, so an
        unknown name and a wrong password still look alike).
        """

        def verify() -> bool:
            try:
                return self._hasher.verify(password_hash or self._dummy_hash, password) and (
                    password_hash is not None
                )
            except (VerificationError, InvalidHashError):
                return False

        return await self._run(verify)

    async def _run(self, work: Callable[[], T]) -> T:
        if self._admitted >= self.capacity:
            raise ServerBusy()
        self._admitted += 1
        try:
            await self._running.acquire()
        except BaseException:
            self._admitted -= 1
            raise
        done = asyncio.get_running_loop().run_in_executor(None, work)
        done.add_done_callback(self._finished)
        # Shielded: if the caller is cancelled, the thread runs on and still holds its turn.
        return await asyncio.shield(done)

    def _finished(self, _: object) -> None:
        self._running.release()
        self._admitted -= 1
