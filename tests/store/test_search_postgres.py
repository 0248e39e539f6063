"""PostgreSQL's side of erasing: the housekeeping that follows edits, deletions and expiry.

On PostgreSQL an edited or deleted body lives on in dead rows until they are vacuumed; the
store vacuums the tables that hold bodies and words after every edit, deletion and expiry
sweep (docs/operations.md, "Search").
"""

from __future__ import annotations

import psycopg
import pytest

from conftest import POSTGRES_ADMIN_URL, fresh_postgres_database
from parlour.store.postgres.engine import PgEngine
from parlour.store.postgres.migrate import prepare

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_ADMIN_URL, reason="no PostgreSQL test cluster"),
]


def test_housekeeping_vacuums_the_tables_that_hold_bodies_and_words() -> None:
    """It named `tombstones`, which schema 2 dropped: every sweep's VACUUM failed."""
    url = fresh_postgres_database()
    prepare(url)
    PgEngine(url).housekeep()
    with psycopg.connect(url) as conn:
        vacuumed = {
            name
            for (name,) in conn.execute(
                "SELECT relname FROM pg_stat_user_tables WHERE last_vacuum IS NOT NULL"
            ).fetchall()
        }
    assert {"messages", "message_search", "events"} <= vacuumed
