"""Move a community from SQLite to PostgreSQL: every row, with its ids and sequences.

Ids, sequence numbers and the forgotten point are kept, so clients' resume points stay
valid: a browser that was following the old server resumes on the new one without a gap.
"""

from __future__ import annotations

from pathlib import Path

import psycopg

from parlour.errors import StartupRefused
from parlour.store.postgres import migrate as pg_migrate
from parlour.store.postgres.search_sql import fill_index
from parlour.store.records import Copied
from parlour.store.sqlite import driver
from parlour.store.sqlite import migrate as sqlite_migrate

# Every table a community lives in, in an order that satisfies the foreign keys. The columns
# copied are those both schemas have (read from each), so a table gaining a column in a later
# migration is copied whole without this list changing. Not copied: `counter` (set below),
# `presence` (who is connected now: nobody, on a new server), and SQLite's search index
# (PostgreSQL's is built from the messages, below).
TABLES = (
    "users",
    "sessions",
    "invites",
    "reset_links",
    "login_attempts",
    "channels",
    "memberships",
    "messages",
    "mentions",
    "reactions",
    "reads",
    "events",
    "settings",
    "push_subscriptions",
)


def _columns(src: driver.Connection, dst: psycopg.Connection, table: str) -> list[str]:
    """The columns of `table` in both databases, in the SQLite table's order."""
    ours = [row[1] for row in src.execute(f"PRAGMA table_info({table})")]
    theirs = {
        row[0]
        for row in dst.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s",
            (table,),
        )
    }
    return [column for column in ours if column in theirs]


def copy_sqlite_to_postgres(source: Path, url: str) -> Copied:
    """Copy everything in one PostgreSQL transaction: all of it lands, or none.

    Raises StartupRefused when the source cannot be used or the target is not empty.
    """
    if not source.is_file():
        raise StartupRefused(f"there is no SQLite database at {source}")
    sqlite_migrate.prepare(source)
    pg_migrate.prepare(url)
    src = driver.connect(source)
    try:
        src.execute("BEGIN")  # one consistent snapshot of the source
        with psycopg.connect(url) as dst, dst.transaction():
            dst.execute("SELECT 1 FROM counter WHERE id = 1 FOR UPDATE")
            row = dst.execute("SELECT EXISTS (SELECT 1 FROM users)").fetchone()
            if row is not None and row[0]:
                raise StartupRefused(
                    "the PostgreSQL database already holds a community; parlour copies only "
                    "into an empty one (create a new database and try again)"
                )
            counts: dict[str, int] = {}
            for table in TABLES:
                names = ", ".join(_columns(src, dst, table))
                counts[table] = 0
                with dst.cursor().copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for values in src.execute(f"SELECT {names} FROM {table}"):  # noqa: S608
                        copy.write_row(values)
                        counts[table] += 1
            # PostgreSQL's search index holds the words as parlour splits them: built here.
            fill_index(dst)
            seq, forgotten = src.execute(
                "SELECT seq, forgotten_seq FROM counter WHERE id = 1"
            ).fetchone()
            dst.execute(
                "UPDATE counter SET seq = %s, forgotten_seq = %s WHERE id = 1", (seq, forgotten)
            )
        src.execute("COMMIT")
    except (driver.Error, psycopg.Error) as e:
        raise StartupRefused(f"copying to PostgreSQL failed, nothing was copied: {e}") from e
    finally:
        src.close()
    return Copied(counts, int(seq))
