"""Numbered schema migrations for PostgreSQL, applied by whichever process starts first.

PostgreSQL's DDL is transactional, so all pending migrations run in one transaction: they
apply completely or not at all, and no file-level backup is needed (operators back up with
pg_dump). An advisory lock makes processes that start together take turns.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import psycopg

from parlour.errors import StartupRefused
from parlour.store.migrations import Migration, load_migrations
from parlour.store.postgres.search_sql import fill_index

# Any constant shared by all parlour processes; it names the lock, nothing more.
MIGRATION_LOCK = 0x7061726C6F7572  # "parlour"
# What a migration needs done that SQL cannot do, run right after it in its transaction.
# 6: the search index holds words as this program splits them (search_sql.py).
AFTER: dict[tuple[int, str], Callable[[psycopg.Connection[Any]], object]] = {
    (6, "search"): fill_index
}


def bundled_migrations() -> list[Migration]:
    """The migrations shipped with this program, in version order."""
    return load_migrations("parlour.store.postgres")


def prepare(url: str, migrations: list[Migration] | None = None) -> None:
    """Bring the database at `url` to this program's schema, or refuse touching nothing.

    Raises StartupRefused when the server cannot be reached, or the schema is newer than
    this program, or a migration fails (then nothing of it was applied).
    """
    migrations = bundled_migrations() if migrations is None else migrations
    try:
        conn = psycopg.connect(url, autocommit=True)
    except psycopg.Error as e:
        raise StartupRefused(f"cannot connect to PostgreSQL ({_without_password(url)}): {e}") from e
    with conn:
        try:
            _prepare(conn, migrations)
        except psycopg.Error as e:
            raise StartupRefused(
                f"upgrading the PostgreSQL database failed ({e}); nothing was changed."
            ) from e


def _prepare(conn: psycopg.Connection, migrations: list[Migration]) -> None:
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        conn.execute("CREATE TABLE IF NOT EXISTS parlour_schema (version integer NOT NULL)")
        row = conn.execute("SELECT version FROM parlour_schema").fetchone()
        if row is None:
            conn.execute("INSERT INTO parlour_schema (version) VALUES (0)")
            version = 0
        else:
            version = int(row[0])
        latest = len(migrations)
        if version > latest:
            raise StartupRefused(
                f"the PostgreSQL database has schema version {version}, newer than this "
                f"program knows (up to {latest}): it was used by a newer parlour. parlour "
                "has not changed it. Run the newer parlour again."
            )
        for migration in migrations[version:]:
            conn.execute(migration.sql.encode("utf-8"))
            if (after := AFTER.get((migration.version, migration.name))) is not None:
                after(conn)
            conn.execute("UPDATE parlour_schema SET version = %s", (migration.version,))


def _without_password(url: str) -> str:
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)
