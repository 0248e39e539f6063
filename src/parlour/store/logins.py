"""Login attempts: the login throttle's counts, for every engine (docs/api/sessions.md).

The counts live in the database, not in a process's memory, so that every process on one
PostgreSQL database counts the same attempts and the limits hold across all of them. An
attempt is a row from the moment it is admitted (`in_flight`) until it ends: a failure keeps
the row (its `at` moved to the failure), a success deletes it together with the failures of
its name from its address, and an attempt that ends otherwise (the server busy, a storage
error) deletes it. Expiry purges rows older than the window (expiry.py).

Admission is one write job that counts and inserts. Writers take turns on both engines (one
writer thread and `BEGIN IMMEDIATE` on SQLite, the counter row's lock on PostgreSQL; see
docs/architecture.md), so however many attempts arrive at once, in however many processes,
each is counted before the next one is looked at: no more are admitted than the limits allow.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from parlour.errors import TooManyFailedLogins
from parlour.store.engine import Reader, Tx
from parlour.store.records import LoginAttempt, LoginLimits, NewSession
from parlour.store.times import from_ms, to_ms
from parlour.store.users import insert_session

# count(…), the newest `at`, and how many are still in flight, for one limit. A row whose
# `at` is exactly a window old no longer counts, as expiry's `at <= cutoff` purges it.
_SAME_NAME = """
SELECT count(*), max(at), count(CASE WHEN in_flight THEN 1 END) FROM login_attempts
WHERE name_key = ? AND address = ? AND at > ?
"""
_SAME_ADDRESS = """
SELECT count(*), max(at), count(CASE WHEN in_flight THEN 1 END) FROM login_attempts
WHERE address = ? AND at > ?
"""


def insert_login_attempt(tx: Tx, attempt: LoginAttempt, limits: LoginLimits) -> None:
    """Admit `attempt`: from now on it counts against both limits, as if it had failed.

    Raises TooManyFailedLogins, recording nothing, when its name from its address already
    has `limits.per_name` attempts in flight or failed within the window, or its address
    has `limits.per_address` over all names. Its Retry-After is the wait until every limit
    reached would let the attempt in (see `_wait`); `whole_address` says the address limit
    is one of them.
    """
    since = to_ms(attempt.at - limits.window)
    same_name = _wait(
        tx, _SAME_NAME, (attempt.name_key, attempt.address, since), limits.per_name, attempt
    )
    same_address = _wait(tx, _SAME_ADDRESS, (attempt.address, since), limits.per_address, attempt)
    waits = [
        last + limits.window - attempt.at for last in (same_name, same_address) if last is not None
    ]
    if waits:
        seconds = max(waits) / timedelta(seconds=1)
        raise TooManyFailedLogins(
            retry_after_seconds=max(1, math.ceil(seconds)), whole_address=same_address is not None
        )
    _insert(tx, attempt, attempt.at, in_flight=True)


def _wait(
    r: Reader, sql: str, params: tuple[str | int, ...], limit: int, attempt: LoginAttempt
) -> datetime | None:
    """None if this limit lets `attempt` in; else the time its wait counts from.

    That is the most recent failure among those counted: once the window after it has
    passed, none of them counts any more, whatever else happens meanwhile (the window
    slides, so a retry may well get in sooner). An attempt still in flight will most
    likely fail about now, so then the wait counts from now.
    """
    count, newest, in_flight = r.row(sql, params) or (0, None, 0)
    if count < limit:
        return None
    return attempt.at if in_flight or newest is None else from_ms(newest)


def update_failed_login(tx: Tx, attempt: LoginAttempt, at: datetime) -> None:
    """`attempt` failed at `at`: it stays counted, for a window from `at`."""
    changed = tx.run(
        "UPDATE login_attempts SET at = ?, in_flight = ? WHERE id = ?",
        (to_ms(at), False, attempt.id),
    )
    if not changed:
        # Purged while in flight (it began over a window ago, on a very slow check): the
        # failure counts all the same.
        _insert(tx, attempt, at, in_flight=False)


def insert_login_session(tx: Tx, attempt: LoginAttempt, session: NewSession) -> None:
    """`attempt` succeeded: start `session`, and forget the attempt and the failures of its
    name from its address (`delete_login_failures`)."""
    delete_login_failures(tx, attempt)
    insert_session(tx, session)


def delete_login_failures(tx: Tx, attempt: LoginAttempt) -> None:
    """`attempt` succeeded: forget it and the failures of its name from its address.

    Failures of other names from the same address stay (they still count against the
    address), and so do other attempts of this name still in flight (each is counted when
    it ends, as every attempt is).
    """
    tx.run(
        "DELETE FROM login_attempts"
        " WHERE id = ? OR (name_key = ? AND address = ? AND in_flight = ?)",
        (attempt.id, attempt.name_key, attempt.address, False),
    )


def delete_login_attempt(tx: Tx, attempt_id: str) -> None:
    """The attempt ended neither failed nor succeeded (the server busy, a storage error):
    it stops counting."""
    tx.run("DELETE FROM login_attempts WHERE id = ?", (attempt_id,))


def _insert(tx: Tx, attempt: LoginAttempt, at: datetime, *, in_flight: bool) -> None:
    tx.run(
        "INSERT INTO login_attempts (id, name_key, address, at, in_flight) VALUES (?, ?, ?, ?, ?)",
        (attempt.id, attempt.name_key, attempt.address, to_ms(at), in_flight),
    )
