"""The Database engine room, driven directly on real databases (a SQLite file, and a real
PostgreSQL when the test cluster is there): group commit, a failing job undone alone, and a
writer that never wedges whatever fails around the jobs (issue 10)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conftest import POSTGRES_ADMIN_URL, fresh_postgres_database
from parlour.errors import InvalidInput, StorageError
from parlour.model import Delivery, Seq, SessionId
from parlour.store.database import Database, WriterStopped
from parlour.store.engine import Engine, Reader, Tx
from parlour.store.records import Hooks


def sqlite_engine(tmp_path: Path) -> Engine:
    from parlour.store.sqlite.engine import SqliteEngine
    from parlour.store.sqlite.migrate import prepare

    path = tmp_path / "parlour.db"
    prepare(path)
    return SqliteEngine(path)


def postgres_engine(tmp_path: Path) -> Engine:
    from parlour.store.postgres.engine import PgEngine
    from parlour.store.postgres.migrate import prepare

    url = fresh_postgres_database()
    prepare(url)
    return PgEngine(url)


ENGINES = [
    pytest.param(sqlite_engine, id="sqlite"),
    pytest.param(
        postgres_engine,
        id="postgres",
        marks=pytest.mark.skipif(not POSTGRES_ADMIN_URL, reason="no PostgreSQL test cluster"),
    ),
]


class Harness:
    """A Database and what it reported: published events, revocations, a fatal stop."""

    def __init__(self, engine: Engine, loop: asyncio.AbstractEventLoop) -> None:
        self.published: list[Delivery] = []
        self.revoked: list[SessionId] = []
        self.fatal: list[str] = []
        hooks = Hooks(self.published.extend, lambda s, _: self.revoked.extend(s), self.fatal.append)
        self.db = Database(engine, loop, hooks)


@pytest.fixture(params=ENGINES)
def make_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], Engine]:
    factory: Callable[[Path], Engine] = request.param
    return lambda: factory(tmp_path)


def run(coro_fn: Callable[[Harness], Any], engine: Engine) -> Any:
    async def main() -> Any:
        h = Harness(engine, asyncio.get_running_loop())
        try:
            return await coro_fn(h)
        finally:
            await h.db.close()

    return asyncio.run(main())


def insert_channel(name: str) -> Callable[[Tx], int]:
    """A job that makes one channel (and takes one sequence); returns that sequence."""

    def job(tx: Tx) -> int:
        seq = tx.next_seq()
        tx.run(
            "INSERT INTO channels (id, name, name_key, created_at, active_at, seq)"
            " VALUES (?, ?, ?, 0, 0, ?)",
            ("C" + name.ljust(20, "x"), name, name, seq),
        )
        return seq

    return job


def channel_names(r: Reader) -> list[str]:
    return [row[0] for row in r.rows("SELECT name FROM channels ORDER BY seq")]


def newest_seq(r: Reader) -> int:
    return int(r.value("SELECT seq FROM counter WHERE id = 1"))


def test_concurrent_writes_share_commits_and_take_consecutive_sequences(
    make_engine: Callable[[], Engine],
) -> None:
    starts: list[int] = []

    def recording(name: str) -> Callable[[Tx], int]:
        inner = insert_channel(name)

        def job(tx: Tx) -> int:
            starts.append(tx.counter.start)
            return inner(tx)

        return job

    async def scenario(h: Harness) -> tuple[list[int], list[str], int]:
        seqs = await asyncio.gather(*(h.db.write(recording(f"c{i}")) for i in range(200)))
        return list(seqs), await h.db.read(channel_names), await h.db.read(newest_seq)

    seqs, names, newest = run(scenario, make_engine())
    assert sorted(seqs) == list(range(1, 201))
    assert len(names) == 200
    assert newest == 200
    # Group commit: 200 writers queued at once did not need 200 transactions.
    assert len(set(starts)) < 200


def test_a_failing_job_is_undone_alone_and_its_sequence_reused(
    make_engine: Callable[[], Engine],
) -> None:
    def failing(tx: Tx) -> None:
        insert_channel("doomed")(tx)
        raise InvalidInput("no")

    async def scenario(h: Harness) -> tuple[list[Any], list[str], int]:
        results = await asyncio.gather(
            h.db.write(insert_channel("a")),
            h.db.write(failing),
            h.db.write(insert_channel("b")),
            return_exceptions=True,
        )
        return list(results), await h.db.read(channel_names), await h.db.read(newest_seq)

    results, names, newest = run(scenario, make_engine())
    assert isinstance(results[1], InvalidInput)
    assert names == ["a", "b"]
    assert newest == 2
    assert sorted(r for r in results if isinstance(r, int)) == [1, 2]


def test_events_are_published_after_commit_in_sequence_order(
    make_engine: Callable[[], Engine],
) -> None:
    from parlour.model import Channel, ChannelCreated, ChannelId, now

    def creating(name: str) -> Callable[[Tx], None]:
        inner = insert_channel(name)

        def job(tx: Tx) -> None:
            seq = inner(tx)
            channel = Channel(ChannelId(name), name, now())
            tx.emit(ChannelCreated(seq=Seq(seq), at=now(), channel=channel), None)

        return job

    async def scenario(h: Harness) -> list[int]:
        await asyncio.gather(*(h.db.write(creating(f"e{i}")) for i in range(50)))
        await asyncio.sleep(0)
        return [d.event.seq for d in h.published]

    engine = make_engine()
    published = run(scenario, engine)
    # On PostgreSQL the tail (not tested here) publishes; the Database hands events to
    # on_commit on both engines.
    assert published == list(range(1, 51))


def test_revoked_sessions_are_reported_once_committed(make_engine: Callable[[], Engine]) -> None:
    def revoking(tx: Tx) -> None:
        tx.revoke([SessionId("s1"), SessionId("s2")])

    def revoking_then_failing(tx: Tx) -> None:
        tx.revoke([SessionId("lost")])
        raise InvalidInput("no")

    async def scenario(h: Harness) -> list[SessionId]:
        await h.db.write(revoking)
        with pytest.raises(InvalidInput):
            await h.db.write(revoking_then_failing)
        await asyncio.sleep(0)
        return h.revoked

    assert run(scenario, make_engine()) == ["s1", "s2"]


# -- faults around the jobs: the writer must never wedge -------------------------------------


def ends_the_transaction(tx: Tx) -> None:
    """A fault: the transaction the writer opened is gone when the job returns."""
    tx.run("ROLLBACK")


def drops_the_savepoint(tx: Tx) -> None:
    """A fault: the savepoint the writer made for this job is gone when it returns."""
    tx.run("RELEASE job")


@pytest.mark.parametrize("fault", [ends_the_transaction, drops_the_savepoint])
def test_a_fault_around_the_jobs_fails_their_batch_and_the_writer_goes_on(
    make_engine: Callable[[], Engine], fault: Callable[[Tx], None]
) -> None:
    async def scenario(h: Harness) -> tuple[list[Any], list[str]]:
        # Several jobs at once, so that the faulty one shares a batch with savepoints.
        results = await asyncio.gather(
            h.db.write(insert_channel("before")),
            h.db.write(fault),
            h.db.write(insert_channel("beside")),
            return_exceptions=True,
        )
        after = await asyncio.wait_for(h.db.write(insert_channel("after")), 10)
        assert isinstance(after, int)
        return list(results), await h.db.read(channel_names)

    results, names = run(scenario, make_engine())
    assert any(isinstance(r, StorageError) for r in results), results
    assert "after" in names


def test_a_lone_faulty_job_fails_alone_and_the_writer_goes_on(
    make_engine: Callable[[], Engine],
) -> None:
    async def scenario(h: Harness) -> list[str]:
        with pytest.raises(StorageError):
            await h.db.write(ends_the_transaction)
        await asyncio.wait_for(h.db.write(insert_channel("after")), 10)
        return await h.db.read(channel_names)

    assert run(scenario, make_engine()) == ["after"]


class Escape(BaseException):
    """Not an Exception: what a bug or an interpreter signal might raise on the thread."""


def test_a_job_raising_a_base_exception_fails_alone(make_engine: Callable[[], Engine]) -> None:
    def escaping(tx: Tx) -> None:
        raise Escape

    async def scenario(h: Harness) -> list[str]:
        results = await asyncio.gather(
            h.db.write(escaping), h.db.write(insert_channel("fine")), return_exceptions=True
        )
        assert isinstance(results[0], RuntimeError)
        await asyncio.wait_for(h.db.write(insert_channel("later")), 10)
        return await h.db.read(channel_names)

    assert run(scenario, make_engine()) == ["fine", "later"]


def test_if_the_writer_thread_dies_every_write_fails_at_once_and_the_process_is_told(
    make_engine: Callable[[], Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fault injection: committing a batch fails by surprise (as a bug in it would)."""
    real = Database._commit
    armed = threading.Event()

    def failing_commit(self: Database, batch: list[Any]) -> None:
        if armed.is_set():
            raise Escape
        real(self, batch)

    monkeypatch.setattr(Database, "_commit", failing_commit)

    async def scenario(h: Harness) -> list[str]:
        await h.db.write(insert_channel("first"))
        armed.set()
        with pytest.raises(StorageError):
            await asyncio.wait_for(h.db.write(insert_channel("lost")), 10)
        with pytest.raises(WriterStopped):
            await asyncio.wait_for(h.db.write(insert_channel("refused")), 10)
        await asyncio.sleep(0.01)
        assert await h.db.read(channel_names) == ["first"]  # reads go on
        return h.fatal

    fatal = run(scenario, make_engine())
    assert len(fatal) == 1
    assert "writer stopped" in fatal[0]


# -- reads -------------------------------------------------------------------------------


def test_a_failing_read_reports_its_own_error_not_the_cleanup_s(
    make_engine: Callable[[], Engine],
) -> None:
    """Issue 10: the read's COMMIT, failing after the read ended its own transaction, used
    to replace the original error with a raw driver error."""

    def read(r: Reader) -> None:
        r.run("COMMIT")
        raise LookupError("the original error")

    async def scenario(h: Harness) -> list[str]:
        with pytest.raises(LookupError, match="the original error"):
            await h.db.read(read)
        return await h.db.read(channel_names)  # the reader thread still serves

    assert run(scenario, make_engine()) == []


def test_a_driver_error_in_a_read_becomes_a_storage_error(
    make_engine: Callable[[], Engine],
) -> None:
    async def scenario(h: Harness) -> None:
        with pytest.raises(StorageError):
            await h.db.read(lambda r: r.rows("SELECT * FROM no_such_table"))
        assert await h.db.read(channel_names) == []

    run(scenario, make_engine())
