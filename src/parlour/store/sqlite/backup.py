"""`parlour backup`: a consistent copy of a live SQLite database, marked as a restored copy."""

from __future__ import annotations

import os
from pathlib import Path

from parlour.errors import StorageError
from parlour.store.sqlite import driver

# Far beyond the events a live server makes between a backup and its restore, and small
# enough that sequences stay exact in JavaScript (2**53) for millions of restores.
RESTORE_SEQ_JUMP = 1_000_000_000


def mark_as_restored_copy(conn: driver.Connection) -> None:
    """Make every resume point a client holds invalid on this copy.

    A restored backup rewinds the server: sequences the clients already saw are handed out
    again for other events, and a client resuming from one would silently keep events the
    restore undid (breaking "boot + stream = truth"). The copy's sequence jumps ahead and
    everything before the jump counts as forgotten, so any resume point from before the
    restore gets 410 (or 400 if it is even further ahead) and the client boots again.
    """
    conn.execute(
        "UPDATE counter SET seq = seq + ?1, forgotten_seq = seq + ?1 WHERE id = 1",
        (RESTORE_SEQ_JUMP,),
    )
    conn.commit()


def online_backup(source: Path, dest: Path) -> None:
    """Copy a live database with SQLite's backup API: consistent even while it is written.

    Written beside `dest` first and renamed over it, so `dest` is never a half backup.
    Raises StorageError.
    """
    partial = dest.with_name(dest.name + ".partial")
    try:
        src = driver.connect(source)
        try:
            out = driver.connect(partial)
            try:
                src.backup(out)
                # A backup that cannot live without a -wal file beside it is no backup.
                out.execute("PRAGMA journal_mode=DELETE")
                mark_as_restored_copy(out)
            finally:
                out.close()
        finally:
            src.close()
        with partial.open("rb+") as f:
            os.fsync(f.fileno())
        partial.replace(dest)
    except (driver.Error, OSError) as e:
        partial.unlink(missing_ok=True)
        raise StorageError(f"backup of {source} to {dest} failed: {e}") from e
