"""Throughput timing shared by export checks and benchmarks; imports no torch (onnxruntime-only processes use it)."""

from __future__ import annotations

import statistics
import time


def images_per_second(fn, batch: int, min_seconds: float = 2.0, max_iters: int = 50) -> float:
    """Images/s of fn() processing `batch` images: one warm-up call, then timed calls until min_seconds
    have passed (at least 3, at most max_iters); the median call time counts, robust to a busy machine."""
    fn()
    times, start = [], time.perf_counter()
    while len(times) < 3 or (time.perf_counter() - start < min_seconds and len(times) < max_iters):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return batch / statistics.median(times)
