"""The SQLite driver: sqlean.py, a drop-in `sqlite3` with its own, newer SQLite (3.49+).

parlour's search index needs FTS5's `secure-delete` option (SQLite 3.44) and contentless-delete
tables (3.43), so that deleted, expired and edited-away text leaves the index at once
(docs/api/search.md); Python's own `sqlite3` links whatever SQLite the system has (3.40 on
Debian 12). sqlean.py ships its SQLite inside its wheels, so every machine runs the same one.

This is the only module that imports the driver. sqlean.py has no type hints: what parlour
uses of it is declared here, once, as protocols, so that the rest of the store is checked.
Its optional SQL extensions (file access, `eval`…) stay off: they are on only when the
environment sets SQLEAN_ENABLE, and parlour never runs SQL it did not write.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol, TypeGuard, cast

import sqlean as _sqlean  # type: ignore[import-untyped]  # no stubs: typed by this module

# FTS5's secure-delete option: the oldest SQLite that can keep parlour's index.
MIN_SQLITE = (3, 44, 0)


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """What parlour uses of a connection (the same as Python's sqlite3.Connection)."""

    @property
    def in_transaction(self) -> bool: ...

    def execute(self, sql: str, parameters: Any = ..., /) -> Cursor: ...

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> Cursor: ...

    def commit(self) -> None: ...

    def close(self) -> None: ...

    def backup(self, target: Connection, /) -> None: ...


Error = cast(type[Exception], _sqlean.Error)
DatabaseError = cast(type[Exception], _sqlean.DatabaseError)
SQLITE_FULL = cast(int, _sqlean.SQLITE_FULL)
SQLITE_VERSION = cast(str, _sqlean.sqlite_version)
_CONNECTION_TYPE = cast(type, _sqlean.Connection)

if cast(tuple[int, ...], _sqlean.sqlite_version_info) < MIN_SQLITE:  # pragma: no cover
    raise ImportError(
        f"parlour needs SQLite {'.'.join(map(str, MIN_SQLITE))} or newer (FTS5 secure-delete); "
        f"the installed sqlean.py has {SQLITE_VERSION}: upgrade it"
    )


def connect(
    path: Path | str, *, isolation_level: str | None = "", check_same_thread: bool = True
) -> Connection:
    """Open a connection (arguments as for sqlite3.connect)."""
    return cast(
        Connection,
        _sqlean.connect(
            str(path), isolation_level=isolation_level, check_same_thread=check_same_thread
        ),
    )


def is_connection(conn: object) -> TypeGuard[Connection]:
    return isinstance(conn, _CONNECTION_TYPE)


def complete_statement(sql: str) -> bool:
    """Whether `sql` ends a complete statement (sqlite3.complete_statement)."""
    return bool(_sqlean.complete_statement(sql))


def error_code(error: Exception) -> int | None:
    """The SQLite result code of a driver error (extended code included), if it has one."""
    code = getattr(error, "sqlite_errorcode", None)
    return code if isinstance(code, int) else None
