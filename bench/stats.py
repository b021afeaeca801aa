"""Small measuring helpers: percentiles, a stopwatch, and ratios that survive a zero."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by nearest rank, of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def summary_ms(seconds: Sequence[float]) -> dict[str, Any]:
    """p50, p99, mean and max of durations given in seconds, in milliseconds."""
    if not seconds:
        return {"n": 0}
    return {
        "n": len(seconds),
        "p50_ms": round(percentile(seconds, 50) * 1000, 4),
        "p99_ms": round(percentile(seconds, 99) * 1000, 4),
        "mean_ms": round(sum(seconds) / len(seconds) * 1000, 4),
        "max_ms": round(max(seconds) * 1000, 4),
    }


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if not numerator or not denominator:
        return None
    return round(numerator / denominator, 4)


class Stopwatch:
    def __init__(self) -> None:
        self.seconds = 0.0  # wall clock
        self.cpu_seconds = 0.0  # this process's CPU, all its threads


@contextmanager
def timed() -> Iterator[Stopwatch]:
    watch = Stopwatch()
    start, cpu = time.perf_counter(), time.process_time()
    try:
        yield watch
    finally:
        watch.seconds = time.perf_counter() - start
        watch.cpu_seconds = time.process_time() - cpu
