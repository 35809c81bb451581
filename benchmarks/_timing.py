"""Shared timing helper of the benchmark scripts: eager inference throughput of an image model."""

from __future__ import annotations

import statistics
import time

import torch


def images_per_second(model, batch: int, size: int, min_seconds: float) -> float:
    """Median images/s over at least 3 timed calls (and at least min_seconds), after one warm-up call."""
    x = torch.rand(batch, 3, size, size)
    with torch.inference_mode():
        model(x)
        times, start = [], time.perf_counter()
        while len(times) < 3 or time.perf_counter() - start < min_seconds:
            t0 = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - t0)
    return batch / statistics.median(times)
