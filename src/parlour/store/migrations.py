"""Numbered SQL migrations as files (`migrations/NNNN_name.sql`), for either engine."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

MIGRATION_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def load_migrations(package: str) -> list[Migration]:
    """The migrations in `package`'s `migrations` folder, in version order (1, 2, …)."""
    found: list[Migration] = []
    for entry in (resources.files(package) / "migrations").iterdir():
        if m := MIGRATION_FILE.match(entry.name):
            found.append(Migration(int(m.group(1)), m.group(2), entry.read_text("utf-8")))
    found.sort(key=lambda mig: mig.version)
    if [mig.version for mig in found] != list(range(1, len(found) + 1)):
        raise RuntimeError(f"the migrations of {package} are not numbered 1, 2, … without gaps")
    return found
