"""Summaries the benchmarks share: nearest-rank percentiles and latency summaries in ms."""

from __future__ import annotations

from collections.abc import Sequence


def percentile(values: Sequence[float], q: float) -> float:
    """The `q` quantile (0..1) of `values`, nearest rank; NaN when there are none."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def latency_ms(seconds: Sequence[float], prefix: str = "") -> dict[str, float]:
    """p50, p90, p99 and max of latencies given in seconds, in milliseconds (2 decimals)."""
    return {
        f"{prefix}{name}_ms": round(percentile(seconds, q) * 1000, 2)
        for name, q in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("max", 1.0))
    }
