"""The login throttle and the bounded queue of password checks (issue 10), on their own.

The same behaviour through a real server is in tests/api/test_sessions.py; here each rule is
pinned down with explicit times and without the noise of HTTP.
"""

from __future__ import annotations

import asyncio
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta

import pytest

from parlour.domain.passwords import Passwords
from parlour.domain.sessions import LoginThrottle
from parlour.errors import ServerBusy, TooManyFailedLogins

T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=5)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def fail(throttle: LoginThrottle, key: str, when: datetime) -> None:
    with throttle.attempt(key, when) as attempt:
        attempt.failed(when)


def test_attempts_in_flight_count_against_the_limit() -> None:
    throttle = LoginThrottle(3, WINDOW)
    with ExitStack() as in_flight:
        for _ in range(3):
            in_flight.enter_context(throttle.attempt("alice", T0))
        with pytest.raises(TooManyFailedLogins) as refused, throttle.attempt("alice", T0):
            pass
        assert refused.value.retry_after_seconds == 300
        with throttle.attempt("bob", T0):  # other names are not affected
            pass


def test_a_completed_failure_stays_counted_and_a_success_clears() -> None:
    throttle = LoginThrottle(3, WINDOW)
    fail(throttle, "alice", at(0))
    fail(throttle, "alice", at(1))
    with throttle.attempt("alice", at(2)) as attempt:
        attempt.succeeded()
    for i in range(3):
        fail(throttle, "alice", at(3 + i))
    with pytest.raises(TooManyFailedLogins) as refused, throttle.attempt("alice", at(10)):
        pass
    # Until the window has passed since the most recent failure (at 5 s).
    assert refused.value.retry_after_seconds == 295


def test_an_attempt_that_ends_otherwise_is_not_counted() -> None:
    throttle = LoginThrottle(1, WINDOW)
    for _ in range(5):
        with pytest.raises(ServerBusy), throttle.attempt("alice", T0):
            raise ServerBusy()
    with throttle.attempt("alice", T0) as attempt:
        attempt.succeeded()


def test_failures_older_than_the_window_are_forgotten() -> None:
    throttle = LoginThrottle(2, WINDOW)
    fail(throttle, "alice", at(0))
    fail(throttle, "alice", at(1))
    with pytest.raises(TooManyFailedLogins), throttle.attempt("alice", at(299)):
        pass
    # The window slides: once the first failure is 5 minutes old, one more guess is allowed.
    fail(throttle, "alice", at(300))
    with pytest.raises(TooManyFailedLogins), throttle.attempt("alice", at(300)):
        pass


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
