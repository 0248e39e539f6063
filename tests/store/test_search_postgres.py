"""Search on PostgreSQL: the ways it walks its index, and the housekeeping after erasures.

On PostgreSQL an edited or deleted body lives on in dead rows until they are vacuumed; the
store vacuums the tables that hold bodies and words after every edit, deletion and expiry
sweep (docs/operations.md, "Search").
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import psycopg
import pytest

from conftest import POSTGRES_ADMIN_URL, ServerProcess, fresh_postgres_database, invite_user
from parlour.domain.search import parse_query
from parlour.model import Seq, UserId
from parlour.store.engine import Connection, Reader
from parlour.store.postgres.engine import PgEngine
from parlour.store.postgres.migrate import prepare
from parlour.store.postgres.search_sql import SEARCH
from parlour.store.search import select_results

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


def test_every_way_to_walk_the_index_finds_the_same_pages(tmp_path: Path) -> None:
    """PostgreSQL tests the newest index entries first, then asks the GIN index for those
    below (search_sql.py): whatever the sizes of those first steps, the same pages."""
    url = fresh_postgres_database()
    server = ServerProcess(tmp_path / "unused.db", database_url=url)
    try:
        server.start()
        owner = server.client()
        owner.set_up()
        bob = invite_user(server, owner, "Bob")
        general = owner.create_channel("general")["id"]
        hidden = bob.post(
            "/api/channels", json={"name": "hidden", "kind": "private", "members": []}
        ).json()["id"]
        for n in range(30):
            body = f"{WORDS[n % 3]} {WORDS[n % 5]} number{n}"
            (bob if n % 4 == 0 else owner).send_message(hidden if n % 4 == 0 else general, body)
        user = UserId(owner.get("/api/boot").json()["user"]["id"])
    finally:
        server.close()
    engine = PgEngine(url)
    conn = engine.connect(writer=False)
    try:
        for query in ["alpha", "beta gamma", '"alpha delta"', "numb*", "number7", "zzz"]:
            pages = set()
            for recent in [(), (1,), (2, 4), (3, 50), (1000,), SEARCH.recent]:
                engine.search = replace(SEARCH, recent=recent)
                pages.add(tuple(read_all(conn, engine, user, query)))
            assert len(pages) == 1, query
    finally:
        conn.close()


WORDS = ["alpha", "beta", "gamma", "delta", "epsilon"]


def read_all(conn: Connection, engine: PgEngine, user: UserId, q: str) -> list[str]:
    """Every result, three at a time."""
    got: list[str] = []
    before: Seq | None = None
    while True:
        engine.begin_read(conn)
        page = select_results(Reader(conn, engine), user, parse_query(q), None, before, 3)
        conn.execute("COMMIT")
        got += [r.message.body for r in page.results]
        if not page.older:
            return got
        before = page.results[-1].message.seq
