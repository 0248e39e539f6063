"""Output: one JSON line per measurement on stdout, and a readable table on stderr.

Stdout carries only JSON lines, so `tools/bench/run | jq` works; people read the table.
The table shows issue 3's targets beside the figures, for reading only: the suite measures,
it never fails because a figure is slow (a benchmark measures; it never asserts a time).
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Callable, Iterable
from typing import Any, TextIO

Record = dict[str, Any]


def measurement(
    scenario: str,
    target: str,
    params: dict[str, Any],
    figures: dict[str, Any],
    baseline: dict[str, Any] | None = None,
    ratio_of: Iterable[str] = (),
) -> Record:
    """A measurement; with a baseline's figures, each named figure also as parlour/baseline."""
    record: Record = {"scenario": scenario, "target": target, "params": params}
    record["figures"] = figures
    # Other work on the machine skews every figure; this shows when it did.
    record["load_avg_1m"] = round(os.getloadavg()[0], 2)
    if baseline is not None:
        record["baseline"] = {key: baseline.get(key) for key in ratio_of}
        record["ratios"] = {key: ratio(figures.get(key), baseline.get(key)) for key in ratio_of}
    return record


def ratio(value: Any, reference: Any) -> float | None:
    if not isinstance(value, int | float) or not isinstance(reference, int | float):
        return None
    if reference == 0 or math.isnan(value) or math.isnan(reference):
        return None
    return round(value / reference, 3)


def _clean(value: Any) -> Any:
    """JSON has no NaN: report an undefined figure as null."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


class Reporter:
    def __init__(self, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> None:
        self.out = out
        self.err = err
        self.records: list[Record] = []

    def emit(self, record: Record) -> None:
        record = _clean(record)
        self.records.append(record)
        print(json.dumps(record, separators=(",", ":")), file=self.out, flush=True)

    def note(self, text: str) -> None:
        print(f"bench: {text}", file=self.err, flush=True)

    def table(self) -> str:
        rows = [("scenario", "target", "parameters", "figures", "vs baseline", "issue 3 target",
                 "load")]  # fmt: skip
        for record in self.records:
            if record["scenario"] == "run":
                continue
            rows.append(_row(record))
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        lines = []
        for n, row in enumerate(rows):
            lines.append(
                "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            )
            if n == 0:
                lines.append("  ".join("-" * width for width in widths))
        return "\n".join(line.rstrip() for line in lines)


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
    elif isinstance(value, int):
        text = f"{value:,}"
    else:
        text = str(value)
    return text + unit


def _row(record: Record) -> tuple[str, str, str, str, str, str, str]:
    params = " ".join(f"{k}={_fmt(v)}" for k, v in record.get("params", {}).items())
    if "error" in record:
        return (record["scenario"], record.get("target", "-"), params,
                "ERROR: " + str(record["error"])[:100], "", "", "")  # fmt: skip
    figures = record.get("figures", {})
    kind = record["scenario"]
    if kind == "baseline":
        kind = record.get("params", {}).get("for", kind)
    shown = FIGURES[kind](figures) if kind in FIGURES else ""
    problems = figures.get("server_problems")
    if problems:
        shown += f" [{problems} server log problems]"
    ratios = record.get("ratios") or {}
    vs = ", ".join(f"{SHORT.get(k, k)} x{_fmt(v)}" for k, v in ratios.items() if v is not None)
    goal_text, met = goal(record)
    if goal_text:
        goal_text += " → " + ("met" if met else "NOT met")
    load = _fmt(record.get("load_avg_1m"))
    return record["scenario"], record.get("target", "-"), params, shown, vs, goal_text, load


SHORT = {"messages_per_s": "rate", "deliveries_per_s": "rate", "p50_ms": "p50", "p99_ms": "p99"}
SHORT["kib_per_stream"] = "KiB/stream"
SHORT["server_cpu_ms_per_message"] = "CPU/msg"
SHORT["server_cpu_ms_per_message_net"] = "CPU/msg net"


def _yes(value: Any) -> str:
    """A check that should hold: a failure stands out."""
    return "-" if value is None else ("yes" if value else "NO")


FIGURES: dict[str, Callable[[dict[str, Any]], str]] = {
    "search": lambda f: (
        f"p50 {_fmt(f.get('p50_ms'))} ms p99 {_fmt(f.get('p99_ms'))} ms"
        f" (cold {_fmt(f.get('first_ms'))} ms) results "
        + ",".join(str(q.get("results")) for q in f.get("queries", []))
    ),
    "search-send": lambda f: (
        f"{_fmt(f.get('messages_per_s'))} msg/s p99 {_fmt(f.get('p99_ms'))} ms (index on;"
        f" baseline: index off) cpu off/on x{_fmt(f.get('cpu_ratio'))}"
    ),
    "search-index": lambda f: (
        f"index {_fmt(f.get('index_bytes', 0) / 1e6)} MB, messages"
        f" {_fmt(f.get('messages_bytes', 0) / 1e6)} MB, seeded in {_fmt(f.get('seed_seconds'))} s"
    ),
    "send": lambda f: (
        f"{_fmt(f.get('messages_per_s'))} msg/s p50 {_fmt(f.get('p50_ms'))} ms"
        f" p99 {_fmt(f.get('p99_ms'))} ms errors {_fmt(f.get('errors_total'))}"
    ),
    "fanout": lambda f: (
        f"{_fmt(f.get('deliveries_per_s'))} deliv/s p50 {_fmt(f.get('p50_ms'))}"
        f" p99 {_fmt(f.get('p99_ms'))} max {_fmt(f.get('max_ms'))} ms"
        f" all once in order: {_yes(f.get('complete'))}"
    ),
    "boot": lambda f: (
        f"{_fmt(f.get('seconds'))} s (first {_fmt(f.get('first_seconds'))} s)"
        f" {_fmt(f.get('bytes', 0) / 1e6)} MB"
    ),
    "resume": lambda f: (
        f"{_fmt(f.get('seconds'))} s for {_fmt(f.get('events'))} events"
        f" ({_fmt(f.get('events_per_s'))}/s) all once in order: {_yes(f.get('complete'))}"
    ),
    "private": lambda f: (
        f"{_fmt(f.get('deliveries_per_s'))} deliv/s p50 {_fmt(f.get('p50_ms'))}"
        f" p99 {_fmt(f.get('p99_ms'))} max {_fmt(f.get('max_ms'))} ms"
        f" CPU {_fmt(f.get('server_cpu_ms_per_message'))} ms/msg"
        f" exactly the members, once: {_yes(f.get('exact'))} leaked {_fmt(f.get('leaked'))}"
    ),
    "idle": lambda f: (
        f"RSS {_fmt(f.get('rss_kib', 0) / 1024)} MiB"
        + (f" {_fmt(f.get('kib_per_stream'))} KiB/stream" if f.get("streams") else "")
        + (
            f" heartbeats {_fmt(f.get('streams_with_heartbeat'))}/{_fmt(f.get('streams_open'))}"
            if f.get("streams")
            else ""
        )
    ),
}


def _history_boot(f: dict[str, Any]) -> str:
    return (
        f"p50 {_fmt(f.get('p50_ms'))} p99 {_fmt(f.get('p99_ms'))} ms"
        f" (p50 x{_fmt(f.get('p50_vs_smallest'))} the smallest) server CPU"
        f" {_fmt(f.get('server_cpu_ms'))} ms {_fmt(f.get('bytes', 0) / 1024)}"
        f" KiB ({_fmt(f.get('gzip_bytes', 0) / 1024)} gzipped) {_fmt(f.get('messages_in_boot'))}"
        f" messages"
    )


def _history_browser(f: dict[str, Any]) -> str:
    if f.get("skipped"):
        return f"skipped: {f['skipped']}"
    return f"median {_fmt(f.get('median_ms'))} ms max {_fmt(f.get('max_ms'))} ms"


FIGURES["history_boot"] = _history_boot
FIGURES["history_page"] = lambda f: (
    f"p50 {_fmt(f.get('p50_ms'))} p99 {_fmt(f.get('p99_ms'))} max {_fmt(f.get('max_ms'))} ms"
    f" (p99 x{_fmt(f.get('p99_vs_newest'))} the newest) {_fmt(f.get('bytes'))} bytes"
)
FIGURES["history_browser"] = _history_browser
FIGURES["client_switch"] = lambda f: (
    f"skipped: {f['skipped']}"
    if f.get("skipped")
    else f"median {_fmt(f.get('median_ms'))} ms max {_fmt(f.get('max_ms'))} ms"
    f" ({_fmt(f.get('max_elements'))} elements at most)"
)


def goal(record: Record) -> tuple[str, bool | None]:
    """The issue's target for this measurement (3's, or 12's for the history scenarios), if
    it has one, and whether it was met."""
    if record.get("target") != "parlour":
        return "", None
    scenario, p = record["scenario"], record.get("params", {})
    f, r = record.get("figures", {}), record.get("ratios") or {}
    if scenario == "send" and p.get("senders") == 32 and p.get("messages") == 10_000:
        ok = (r.get("messages_per_s") or 0) >= 0.6 and (f.get("p99_ms") or math.inf) <= 50
        return "≥0.6x baseline, p99 ≤50 ms", ok
    if scenario == "fanout" and p.get("paced"):
        limit = {500: 50, 1000: 250}.get(p.get("subscribers", 0))
        if limit is None:
            return "every delivery", bool(f.get("complete"))
        ok = bool(f.get("complete")) and (f.get("p99_ms") or math.inf) <= limit
        return f"every delivery, p99 ≤{limit} ms", ok
    if scenario == "fanout" and p.get("subscribers") == 100:
        ok = bool(f.get("complete")) and (r.get("deliveries_per_s") or 0) >= 0.5
        return "every delivery, ≥0.5x baseline", ok
    if scenario == "boot" and p.get("messages") == 100_000:
        return "≤1 s", (f.get("seconds") or math.inf) <= 1
    if scenario == "resume" and p.get("messages") == 100_000:
        return "≤2 s", (f.get("seconds") or math.inf) <= 2
    if (
        scenario == "search"
        and p.get("query") == "two words"
        and p.get("messages") == 1_000_000
        and p.get("store") == "sqlite"
    ):
        return "p99 ≤50 ms", (f.get("p99_ms") or math.inf) <= 50
    if scenario == "search-send":
        return "≥0.8x index off", (r.get("messages_per_s") or 0) >= 0.8
    if scenario == "history_boot" and p.get("messages") == 1_000_000 and p.get("client"):
        ok = (
            (f.get("p50_vs_smallest") or math.inf) <= 1.5
            and (f.get("p50_ms") or math.inf) <= 100
            and (f.get("bytes") or math.inf) <= 256 * 1024
        )
        return "≤1.5x 10,000, p50 ≤100 ms, ≤256 KiB", ok
    if scenario == "history_page" and p.get("messages") == 1_000_000:
        ok = (f.get("p99_ms") or math.inf) <= 10 and (f.get("p99_vs_newest") or math.inf) <= 1.5
        return "p99 ≤10 ms, ≤1.5x the newest", ok
    if scenario == "history_browser" and p.get("messages") == 1_000_000 and not f.get("skipped"):
        return "≤1 s", (f.get("median_ms") or math.inf) <= 1000
    if scenario == "client_switch" and p.get("messages", 0) >= 5000 and not f.get("skipped"):
        limit = 1000 if str(p.get("run", "")).startswith("navigation") else 150
        return f"≤{limit} ms, CPU 4x slower (issue 16)", (f.get("median_ms") or math.inf) <= limit
    if scenario == "private" and p.get("streams") == 1000 and p.get("run") == "mixed":
        ok = bool(f.get("exact")) and (f.get("p99_ms") or math.inf) <= 100
        return "exactly the members once, p99 ≤100 ms (issue 13)", ok
    if scenario == "idle" and p.get("streams") == 10_000:
        ok = (f.get("kib_per_stream") or math.inf) <= 32 and f.get("streams_with_heartbeat") == (
            10_000
        )
        return "≤32 KiB/stream, heartbeats on all", ok
    return "", None
