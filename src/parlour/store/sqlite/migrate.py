"""Open-time checks and numbered schema migrations for the SQLite database file.

The order of events follows what operators need (docs/operations.md, "Upgrading"): refuse anything
surprising before touching the file, take an online backup before changing an existing
database, and leave no backup behind once the outcome is known. Migrations are plain SQL
files (`migrations/NNNN_name.sql`); they never import parlour code, so they outlive it.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from parlour.errors import StartupRefused
from parlour.store.migrations import Migration, load_migrations
from parlour.store.sqlite import driver

SQLITE_HEADER = b"SQLite format 3\x00"


def bundled_migrations() -> list[Migration]:
    """The migrations shipped with this program, in version order."""
    return load_migrations("parlour.store.sqlite")


def backup_path(path: Path) -> Path:
    return path.with_name(path.name + ".backup")


def split_statements(sql: str) -> list[str]:
    """Split a script into statements, so they can run inside one explicit transaction.

    `executescript` would commit any open transaction first, which is exactly what a
    migration that must be all-or-nothing cannot allow.
    """
    statements: list[str] = []
    pending = ""
    for line in sql.splitlines(keepends=True):
        pending += line
        if driver.complete_statement(pending):
            if pending.strip():
                statements.append(pending)
            pending = ""
    if pending.strip() and not all(
        ln.strip().startswith("--") or not ln.strip() for ln in pending.splitlines()
    ):
        raise ValueError("migration ends with an incomplete statement")
    return statements


def check_is_sqlite(path: Path) -> None:
    """Refuse a file that is not a SQLite database, before SQLite gets a chance to write to it."""
    with path.open("rb") as f:
        header = f.read(len(SQLITE_HEADER))
    if header and header != SQLITE_HEADER:
        raise StartupRefused(
            f"{path} is not a SQLite database (its first bytes are not a SQLite header). "
            "parlour has not touched it. Check --database: it should name parlour's "
            "database file, or a file that does not exist yet."
        )


def prepare(path: Path, migrations: list[Migration] | None = None) -> None:
    """Make the database at `path` ready for this program, or refuse and touch nothing.

    Raises StartupRefused with a message for the operator when: the parent folder is
    missing, the file is not SQLite, a leftover `.backup` shows an interrupted migration,
    the schema is newer than this program, or a migration failed (after restoring).
    """
    migrations = bundled_migrations() if migrations is None else migrations
    if not path.parent.is_dir():
        raise StartupRefused(f"the folder {path.parent} for the database does not exist")
    backup = backup_path(path)
    if backup.exists():
        raise StartupRefused(
            f"{backup} exists: a schema migration of {path} was interrupted (a crash or power "
            "loss). The backup is the database exactly as it was before the migration began. "
            "parlour has touched neither file. If the database seems intact (e.g. "
            f"`sqlite3 {path} 'PRAGMA integrity_check'` prints ok), delete the backup; "
            "otherwise move the backup over the database. Then start parlour again."
        )
    is_new = not path.exists() or path.stat().st_size == 0
    if not is_new:
        check_is_sqlite(path)
    try:
        conn = driver.connect(path, isolation_level=None)
    except driver.Error as e:
        raise StartupRefused(f"cannot open the database {path}: {e}") from e
    try:
        _prepare_open(conn, path, backup, migrations, is_new=is_new)
    except driver.DatabaseError as e:
        raise StartupRefused(
            f"cannot use the database {path}: {e}. parlour has not changed it."
        ) from e
    finally:
        conn.close()


def _prepare_open(
    conn: driver.Connection,
    path: Path,
    backup: Path,
    migrations: list[Migration],
    *,
    is_new: bool,
) -> None:
    version: int = conn.execute("PRAGMA user_version").fetchone()[0]
    latest = len(migrations)
    if version > latest:
        raise StartupRefused(
            f"the database {path} has schema version {version}, newer than this program "
            f"knows (up to {latest}): it was used by a newer parlour. parlour has not changed "
            "it. Run the newer parlour again, or restore a backup made for this version."
        )
    if version < latest:
        if is_new or version == 0:
            _apply(conn, migrations[version:])
        else:
            _migrate_with_backup(conn, path, backup, migrations[version:])
    # WAL lets readers (boot, replay) proceed while the single writer commits. It is set after
    # migrating so that a refused or failed start leaves the file's header as it was.
    conn.execute("PRAGMA journal_mode=WAL")


def _apply(conn: driver.Connection, pending: list[Migration]) -> None:
    """Apply all pending migrations in one transaction: all of them, or none."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        for migration in pending:
            for statement in split_statements(migration.sql):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {int(migration.version)}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _migrate_with_backup(
    conn: driver.Connection, path: Path, backup: Path, pending: list[Migration]
) -> None:
    before = conn.execute("PRAGMA user_version").fetchone()[0]
    _take_backup(conn, backup)
    try:
        _apply(conn, pending)
    except driver.Error as e:
        # The transaction was rolled back, so the file is already as it was. Restore from the
        # backup only if that somehow did not hold: the backup is the promise we made.
        if conn.execute("PRAGMA user_version").fetchone()[0] != before:
            _restore_backup(conn, backup)
        backup.unlink()
        names = ", ".join(f"{m.version:04d}_{m.name}" for m in pending)
        raise StartupRefused(
            f"upgrading the database {path} failed ({e}) while applying {names}. "
            "The database is exactly as it was before; nothing was lost. Keep using the "
            "previous parlour version and report this failure."
        ) from e
    backup.unlink()


def _take_backup(conn: driver.Connection, backup: Path) -> None:
    """Write an online backup (SQLite's backup API) and make sure it is on disk."""
    try:
        dest = driver.connect(backup, isolation_level=None)
        try:
            conn.backup(dest)
        finally:
            dest.close()
        with backup.open("rb+") as f:
            os.fsync(f.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            backup.unlink()
        raise


def _restore_backup(conn: driver.Connection, backup: Path) -> None:
    source = driver.connect(backup, isolation_level=None)
    try:
        source.backup(conn)
    finally:
        source.close()
