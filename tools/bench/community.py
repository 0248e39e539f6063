"""Databases for the scenarios: a community made once through the API, copied per server.

Making a member costs an argon2id hash (about 0.2 s of CPU), so 1,000 subscribers take
minutes. A run therefore makes each community once: a parlour server on a template database
gets an admin, a channel and its members through the API, then stops cleanly; every scenario
then starts a fresh server on its own copy of that file (a fresh database in a fresh folder,
default settings). Templates are always SQLite files; with PostgreSQL (--postgres) each
server gets a fresh PostgreSQL database made from the file instead (postgres.py).
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import api, procs
from bench.http1 import Connection
from bench.postgres import Postgres

DB_NAME = "parlour.db"
# Measured on the 2-core machine of issue 3, idle: argon2id (64 MiB, t=3, p=4) keeps both
# cores busy whatever the concurrency.
ACCEPTS_PER_SECOND = 6


@dataclass(frozen=True)
class Community:
    admin: api.Member
    channel: str
    senders: list[api.Member]
    readers: list[api.Member]

    def to_json(self) -> dict[str, Any]:
        return {
            "admin": self.admin.to_json(),
            "channel": self.channel,
            "senders": [m.to_json() for m in self.senders],
            "readers": [m.to_json() for m in self.readers],
        }


@dataclass(frozen=True)
class Template:
    """A stopped server's SQLite file and who is in it."""

    database: str
    community: Community
    setup_seconds: float


class Workspace:
    """The run's temporary folder: templates, one folder per server, their logs; and the
    PostgreSQL cluster when the servers run on PostgreSQL."""

    def __init__(self, root: Path, postgres: Postgres | None, note: Callable[[str], None]) -> None:
        self.root = root
        self.note = note
        self.postgres = postgres
        self._templates: dict[tuple[int, int], Template] = {}
        # SQLite template file → the PostgreSQL template database made from it.
        self._pg_templates: dict[str, str] = {}
        self._count = 0

    @property
    def store(self) -> str:
        return "sqlite" if self.postgres is None else "postgresql"

    def folder(self, name: str) -> Path:
        self._count += 1
        path = self.root / f"{self._count:02d}-{name}"
        path.mkdir(parents=True)
        return path

    def sqlite_copy(self, template: Template, folder: Path) -> str:
        """A copy of the template's SQLite file (and its WAL) in `folder`; its path."""
        source = Path(template.database)
        shutil.copyfile(source, folder / DB_NAME)
        wal = source.with_name(source.name + "-wal")
        if wal.exists():
            shutil.copyfile(wal, folder / (DB_NAME + "-wal"))
        return str(folder / DB_NAME)

    async def fresh_database(self, template: Template, name: str) -> tuple[str, Path]:
        """A fresh copy of the template's database: (the --database argument, a new folder)."""
        folder = self.folder(name)
        if self.postgres is None:
            return self.sqlite_copy(template, folder), folder
        pg = self.postgres
        source = template.database
        if source not in self._pg_templates:
            label = f"t{len(self._pg_templates) + 1}_{Path(source).parent.name}"
            started = time.monotonic()
            await pg.migrate_from_sqlite(Path(source), pg.name(label))
            self._pg_templates[source] = pg.name(label)
            self.note(f"copied {Path(source).parent.name} to PostgreSQL"
                      f" in {time.monotonic() - started:.1f} s")  # fmt: skip
        url = await pg.create(pg.name(folder.name), template=self._pg_templates[source])
        (folder / "database-url").write_text(url + "\n")
        return url, folder

    async def start_parlour(
        self, template: Template, name: str, *extra: str, processes: int = 1
    ) -> procs.Group:
        """`processes` parlour servers on one fresh copy of the template's database."""
        if processes > 1 and self.postgres is None:
            raise ValueError("several processes share a database only on PostgreSQL")
        database, folder = await self.fresh_database(template, name)
        names = ["parlour"] if processes == 1 else [f"parlour-{i}" for i in range(processes)]
        group = procs.Group("parlour", [], self.store)
        try:
            for process in names:
                command = procs.parlour_command(database, *extra)
                group.servers.append(await procs.start(command, folder, process))
        except BaseException:
            await group.stop()
            raise
        return group

    async def template(self, senders: int, readers: int) -> Template:
        """A community with this many senders and readers (made once per run)."""
        key = (senders, readers)
        if key not in self._templates:
            self._templates[key] = await self._make_template(senders, readers)
        return self._templates[key]

    async def _make_template(self, senders: int, readers: int) -> Template:
        total = senders + readers
        self.note(
            f"making a community of {senders} senders and {readers} readers through the API"
            f" (one argon2id hash each, about {total / ACCEPTS_PER_SECOND:.0f} s)"
        )
        folder = self.folder(f"template-{senders}s-{readers}r")
        database = str(folder / DB_NAME)
        server = await procs.start(procs.parlour_command(database), folder, "parlour")
        started = time.monotonic()
        try:
            suffix = api.run_suffix()
            conn = await Connection.open(server.host, server.port)
            try:
                admin = await api.set_up(conn, "bench-admin")
                channel = await api.create_channel(conn, admin, f"bench-{suffix}")
            finally:
                await conn.close()
            members = await api.invite_members(
                server.host, server.port, admin, f"m{suffix}", total,
                lambda done: self.note(f"{done}/{total} members made"),
            )  # fmt: skip
        finally:
            status = await server.stop()
        if status != 0:
            raise RuntimeError(f"the template server exited with {status}: {server.problems()}")
        community = Community(admin, channel, members[:senders], members[senders:])
        (folder / "community.json").write_text(json.dumps(community.to_json(), indent=1))
        return Template(database, community, time.monotonic() - started)

    def seeded_copy(self, template: Template, name: str) -> Template:
        """A new template: a copy of `template`'s SQLite file (for seeding; see seed.py)."""
        database = self.sqlite_copy(template, self.folder(name))
        return Template(database, template.community, template.setup_seconds)
