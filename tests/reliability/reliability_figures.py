"""What the reliability tests tried and saw, counted for docs/reliability.md (issue 6).

Every test in tests/reliability/ adds its figures (faults injected, requests made, bad inputs
tried, writes acknowledged, writes lost, 5xx answers seen…) under a section of its own.
With PARLOUR_RELIABILITY_REPORT=path set, they are merged into that JSON file: numbers are
added up, anything else is replaced. Several pytest-xdist workers may write at once, so each
update holds an exclusive lock on the file. Start from a file that does not exist yet.

`Tally` counts the answers an httpx client receives (through an event hook), so that every
5xx a test provokes is counted whether or not the test looked at that answer.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

REPORT_ENV = "PARLOUR_RELIABILITY_REPORT"
SOAK = os.environ.get("PARLOUR_SOAK", "") not in ("", "0")
"""PARLOUR_SOAK=1: run the long versions (by hand), not the bounded ones CI runs."""

Figure = int | float | str | list[Any] | dict[str, Any]


def record(section: str, **figures: Figure) -> None:
    """Merge these figures into section `section` of the report (if one is being written)."""
    path = os.environ.get(REPORT_ENV)
    if not path:
        return
    with Path(path).open("a+", encoding="utf-8") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        f.seek(0)
        text = f.read()
        report: dict[str, dict[str, Figure]] = json.loads(text) if text.strip() else {}
        part = report.setdefault(section, {})
        for key, value in figures.items():
            old = part.get(key)
            if isinstance(value, int | float) and isinstance(old, int | float):
                part[key] = old + value
            else:
                part[key] = value
        f.seek(0)
        f.truncate()
        json.dump(report, f, indent=2, sort_keys=True)
        f.write("\n")


class Tally:
    """Counts answers by status; `hooks` plugs it into an httpx client."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.statuses: Counter[int] = Counter()
        self.server_errors: list[str] = []

    def count(self, response: httpx.Response) -> None:
        with self._lock:
            self.statuses[response.status_code] += 1
            if response.status_code >= 500:
                request = response.request
                self.server_errors.append(f"{request.method} {request.url.path}")

    @property
    def hooks(self) -> dict[str, list[Any]]:
        return {"response": [self.count]}

    @property
    def requests(self) -> int:
        with self._lock:
            return sum(self.statuses.values())

    def count_5xx(self, *, except_status: int | None = None) -> int:
        with self._lock:
            return sum(n for s, n in self.statuses.items() if s >= 500 and s != except_status)
