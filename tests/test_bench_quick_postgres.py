"""The benchmark suite still runs on PostgreSQL, with two processes (issue 7).

Like test_bench_quick.py, it measures nothing and asserts no time; it needs the cluster of
PARLOUR_TEST_POSTGRES (tools/test starts one) and is skipped without it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
RUN = REPO / "tools" / "bench" / "run"
ADMIN_URL = os.environ.get("PARLOUR_TEST_POSTGRES", "")


@pytest.mark.skipif(not ADMIN_URL, reason="no PostgreSQL cluster (PARLOUR_TEST_POSTGRES)")
@pytest.mark.timeout(170)
def test_the_quick_benchmark_runs_on_postgres_with_two_processes() -> None:
    env = {**os.environ, "PARLOUR_VENV": sys.prefix}
    result = subprocess.run(
        [str(RUN), "--quick", "--postgres", ADMIN_URL, "--processes", "1,2",
         "--only", "send", "--only", "fanout"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=150, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-4000:]
    records = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert all("error" not in record for record in records), result.stderr[-4000:]
    parlour = [r for r in records if r.get("target") == "parlour"]
    seen = {(r["scenario"], r["params"]["store"], r["params"]["processes"]) for r in parlour}
    assert seen == {(s, "postgresql", n) for s in ("send", "fanout") for n in (1, 2)}
    assert all(r["figures"]["complete"] for r in parlour if r["scenario"] == "fanout")
