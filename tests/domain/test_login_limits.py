"""The bounded queue of password checks (issue 10), on its own.

The same behaviour through a real server is in tests/api/test_sessions.py. The login
throttle's rules, with explicit times, are in tests/store/test_login_attempts.py (its counts
live in the store since issue 11).
"""

from __future__ import annotations

import asyncio

import pytest

from parlour.domain.passwords import Passwords
from parlour.errors import ServerBusy


def test_password_checks_beyond_running_and_waiting_are_refused_at_once() -> None:
    async def run() -> None:
        passwords = Passwords(running=1, waiting=1)
        digest = await passwords.hash("correct horse")
        admitted = [asyncio.ensure_future(passwords.verify(digest, "wrong")) for _ in range(2)]
        await asyncio.sleep(0)
        with pytest.raises(ServerBusy):
            await passwords.verify(digest, "correct horse")
        assert await asyncio.gather(*admitted) == [False, False]
        assert await passwords.verify(digest, "correct horse")
        assert not await passwords.verify(None, "correct horse")

    asyncio.run(run())


def test_a_cancelled_check_keeps_its_turn_until_its_thread_is_done() -> None:
    async def run() -> None:
        passwords = Passwords(running=1, waiting=0)
        running = asyncio.ensure_future(passwords.hash("correct horse"))
        await asyncio.sleep(0)
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running
        # The argon2 thread is still hashing: a second check must not run beside it.
        with pytest.raises(ServerBusy):
            await passwords.hash("another one")
        for _ in range(200):
            await asyncio.sleep(0.05)
            try:
                await passwords.hash("another one")
            except ServerBusy:
                continue
            return
        pytest.fail("the turn was never given back")

    asyncio.run(run())
