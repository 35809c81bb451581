"""Throughput timing shared by export checks and benchmarks; imports no torch (onnxruntime-only processes use it).

Both clocks are reported: wall time is what a user waits; process CPU time (all threads of the
process) is what the work costs, and stays meaningful on a machine shared with other jobs, where
wall time stretches with the load. With one compute thread, CPU-time throughput approximates the
wall-clock throughput of an idle machine.
"""

from __future__ import annotations

import statistics
import time


def images_per_second(fn, batch: int, min_seconds: float = 2.0, max_iters: int = 50) -> dict[str, float]:
    """{'wall', 'cpu'} images/s of fn() processing `batch` images: one warm-up call, then timed calls until
    min_seconds of wall time have passed (at least 3, at most max_iters); median call times count."""
    fn()
    wall, cpu, start = [], [], time.perf_counter()
    while len(wall) < 3 or (time.perf_counter() - start < min_seconds and len(wall) < max_iters):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    return {"wall": batch / statistics.median(wall), "cpu": batch / max(statistics.median(cpu), 1e-9)}
