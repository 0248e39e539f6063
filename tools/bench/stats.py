"""Summaries of latency samples: nearest-rank percentiles in milliseconds."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending sequence (no interpolation: a real sample)."""
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def latency_ms(samples_seconds: Sequence[float]) -> dict[str, float | int]:
    """p50, p99 and max in milliseconds (rounded to µs), and the number of samples."""
    ordered = sorted(samples_seconds)
    return {
        "p50_ms": round(percentile(ordered, 0.50) * 1000, 3),
        "p99_ms": round(percentile(ordered, 0.99) * 1000, 3),
        "max_ms": round(ordered[-1] * 1000, 3) if ordered else math.nan,
        "samples": len(ordered),
    }


def rate(count: int, seconds: float) -> float:
    return round(count / seconds, 1) if seconds > 0 else math.nan


def median(values: Sequence[float]) -> float:
    return percentile(sorted(values), 0.5)
