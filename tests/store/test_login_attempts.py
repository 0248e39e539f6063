"""The login throttle's counts in the store (issue 11), with explicit times, on a real SQLite
file and a real PostgreSQL: each rule of docs/api/sessions.md ("The model") pinned down
without the noise of HTTP and slow password checks. The same rules through real servers, on
one process and across two, are in tests/api/test_login_throttle.py."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from conftest import POSTGRES_ADMIN_URL, fresh_postgres_database
from parlour.errors import TooManyFailedLogins
from parlour.model import SessionId, User, UserId
from parlour.store import (
    ExpiryCutoffs,
    Hooks,
    LoginAttempt,
    LoginLimits,
    NewSession,
    Store,
    open_store,
)

T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=5)
LIMITS = LoginLimits(per_name=3, per_address=5, window=WINDOW)
ALICE = UserId("U" + "a" * 20)
ids = itertools.count()


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def attempt(name: str, address: str, when: datetime) -> LoginAttempt:
    return LoginAttempt(f"attempt-{next(ids)}", name, address, when)


async def admit(
    store: Store, name: str, address: str, when: datetime, limits: LoginLimits = LIMITS
) -> LoginAttempt:
    a = attempt(name, address, when)
    await store.insert_login_attempt(a, limits)
    return a


async def fail(store: Store, name: str, address: str, when: datetime) -> None:
    await store.update_failed_login(await admit(store, name, address, when), when)


async def refused(
    store: Store, name: str, address: str, when: datetime, limits: LoginLimits = LIMITS
) -> TooManyFailedLogins:
    with pytest.raises(TooManyFailedLogins) as e:
        await admit(store, name, address, when, limits)
    return e.value


async def succeed(store: Store, a: LoginAttempt) -> None:
    session = NewSession(SessionId(f"session-{a.id}"), ALICE, a.at + timedelta(days=7))
    await store.insert_login_session(a, session)


async def rows(store: Store) -> int:
    count: int = await store._db.read(lambda r: r.value("SELECT count(*) FROM login_attempts"))
    return count


def sqlite_database(tmp_path: Path) -> str:
    return str(tmp_path / "parlour.db")


def postgres_database(tmp_path: Path) -> str:
    return fresh_postgres_database()


@pytest.fixture(
    params=[
        pytest.param(sqlite_database, id="sqlite"),
        pytest.param(
            postgres_database,
            id="postgres",
            marks=pytest.mark.skipif(not POSTGRES_ADMIN_URL, reason="no PostgreSQL test cluster"),
        ),
    ]
)
def on_store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Callable[[Callable[[Store], Awaitable[None]]], None]:
    """Runs a test body on a fresh store with its first user (Alice) set up."""
    database = request.param(tmp_path)

    def run(body: Callable[[Store], Awaitable[None]]) -> None:
        async def main() -> None:
            hooks = Hooks(lambda events: None, lambda sessions, through: None, lambda reason: None)
            store = await open_store(database, asyncio.get_running_loop(), hooks)
            try:
                session = NewSession(SessionId("s" * 64), ALICE, T0 + timedelta(days=7))
                user = User(ALICE, "Alice", "admin", active=True)
                await store.insert_first_user(user, "alice", "-", session, T0)
                await body(store)
            finally:
                await store.close()

        asyncio.run(main())

    return run


Run = Callable[[Callable[[Store], Awaitable[None]]], None]


def test_attempts_in_flight_count_against_the_limit(on_store: Run) -> None:
    async def body(store: Store) -> None:
        for _ in range(3):
            await admit(store, "alice", "192.0.2.1", T0)
        e = await refused(store, "alice", "192.0.2.1", at(1))
        # In flight, they will most likely fail about now: the wait counts from now.
        assert e.retry_after_seconds == 300
        assert not e.whole_address
        await admit(store, "bob", "192.0.2.1", at(1))  # another name from that address
        await admit(store, "alice", "198.51.100.7", at(1))  # that name from another address

    on_store(body)


def test_a_429_is_not_counted(on_store: Run) -> None:
    async def body(store: Store) -> None:
        for i in range(3):
            await fail(store, "alice", "192.0.2.1", at(i))
        before = await rows(store)
        for _ in range(10):
            await refused(store, "alice", "192.0.2.1", at(10))
        assert await rows(store) == before

    on_store(body)


def test_retry_after_runs_until_a_window_after_the_most_recent_failure(on_store: Run) -> None:
    async def body(store: Store) -> None:
        for i in range(3):
            await fail(store, "alice", "192.0.2.1", at(i))
        e = await refused(store, "alice", "192.0.2.1", at(10))
        assert e.retry_after_seconds == 292  # 5 minutes after the failure at 2 s
        assert "name" in e.detail

    on_store(body)


def test_the_window_slides(on_store: Run) -> None:
    async def body(store: Store) -> None:
        for i in range(3):
            await fail(store, "alice", "192.0.2.1", at(i))
        await refused(store, "alice", "192.0.2.1", at(299))
        # Once the first failure is a window old, one more guess is let in, and no more.
        await fail(store, "alice", "192.0.2.1", at(300))
        await refused(store, "alice", "192.0.2.1", at(300.5))

    on_store(body)


def test_a_success_forgets_its_names_failures_from_its_address_only(on_store: Run) -> None:
    async def body(store: Store) -> None:
        for i in range(2):
            await fail(store, "alice", "192.0.2.1", at(i))  # Alice mistyped, twice
            await fail(store, "alice", "198.51.100.7", at(i))  # a stranger, elsewhere
            await fail(store, "bob", "192.0.2.1", at(i))  # and Bob's name from Alice's address
        await succeed(store, await admit(store, "alice", "192.0.2.1", at(5)))
        for i in range(3):  # Alice's count from her address starts afresh
            await fail(store, "alice", "192.0.2.1", at(10 + i))
        await refused(store, "alice", "192.0.2.1", at(20))
        # The stranger's failures and the other name's are still counted.
        await fail(store, "alice", "198.51.100.7", at(20))
        await refused(store, "alice", "198.51.100.7", at(21))
        e = await refused(store, "carol", "192.0.2.1", at(21))  # 2 Bob + 3 Alice = 5
        assert e.whole_address

    on_store(body)


def test_a_success_leaves_other_attempts_in_flight_counted(on_store: Run) -> None:
    async def body(store: Store) -> None:
        first = await admit(store, "alice", "192.0.2.1", T0)
        await admit(store, "alice", "192.0.2.1", T0)
        await admit(store, "alice", "192.0.2.1", T0)
        await succeed(store, first)
        await admit(store, "alice", "192.0.2.1", at(1))  # the success's own place is free
        await refused(store, "alice", "192.0.2.1", at(1))  # but only that one

    on_store(body)


def test_an_attempt_that_ends_otherwise_stops_counting(on_store: Run) -> None:
    async def body(store: Store) -> None:
        for _ in range(10):
            a = await admit(store, "alice", "192.0.2.1", T0)
            await store.delete_login_attempt(a.id)
        assert await rows(store) == 0

    on_store(body)


def test_the_address_limit_counts_every_name_and_answers_for_all(on_store: Run) -> None:
    async def body(store: Store) -> None:
        for i in range(5):
            await fail(store, f"name {i}", "192.0.2.1", at(i))
        e = await refused(store, "someone new", "192.0.2.1", at(10))
        assert e.whole_address
        assert "address" in e.detail
        assert e.retry_after_seconds == 294  # 5 minutes after the failure at 4 s
        await admit(store, "someone new", "198.51.100.7", at(10))

    on_store(body)


def test_retry_after_with_both_limits_reached_is_the_longer_wait(on_store: Run) -> None:
    async def body(store: Store) -> None:
        limits = LoginLimits(per_name=2, per_address=3, window=WINDOW)
        await fail(store, "alice", "192.0.2.1", at(0))
        await fail(store, "alice", "192.0.2.1", at(10))
        await fail(store, "bob", "192.0.2.1", at(50))
        # Alice's name from this address would be free at 310 s, the address only at 350 s.
        e = await refused(store, "alice", "192.0.2.1", at(60), limits)
        assert e.whole_address
        assert e.retry_after_seconds == 290

    on_store(body)


def test_expiry_purges_attempts_a_window_old(on_store: Run) -> None:
    async def body(store: Store) -> None:
        await fail(store, "alice", "192.0.2.1", at(0))
        await fail(store, "alice", "192.0.2.1", at(10))
        await admit(store, "bob", "192.0.2.1", at(20))
        sweep = at(305)
        await store.delete_expired(
            ExpiryCutoffs(
                now=sweep,
                messages_sent_before=sweep - timedelta(days=90),
                channels_idle_since=sweep - timedelta(days=90),
                tombstones_before=sweep - timedelta(days=90),
                login_attempts_before=sweep - WINDOW,
            )
        )
        assert await rows(store) == 2

    on_store(body)


def test_a_failure_purged_while_in_flight_still_counts(on_store: Run) -> None:
    async def body(store: Store) -> None:
        limits = LoginLimits(per_name=1, per_address=5, window=WINDOW)
        slow = await admit(store, "alice", "192.0.2.1", T0, limits)
        await store.delete_login_attempt(slow.id)  # as a sweep a window later would
        await store.update_failed_login(slow, at(400))
        await refused(store, "alice", "192.0.2.1", at(401), limits)

    on_store(body)
