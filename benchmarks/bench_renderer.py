"""Synthetic renderer throughput at 224 px: one process, and two processes rendering disjoint indices.

Reports images/s of wall-clock time and images per CPU-second (the second is what the renderer
costs when the machine is shared, since waiting for a busy core is not counted). Target: at least
50 images/s per core, so training never waits for data. Prints one JSON document (--out writes it).

    python benchmarks/bench_renderer.py --n 200 --out benchmarks/results/renderer.json
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import time
from pathlib import Path


def _render(args: tuple[str, int, int, int]) -> tuple[float, float]:
    """Render indices [start, stop) of a domain in this process; returns (wall s, CPU s)."""
    domain, size, start, stop = args
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from handclip.data.synth.dataset import SynthHands

    data = SynthHands(domain=domain, n=stop, size=size, seed=0)
    data[start]  # warm-up: caches of the template, forearm, palm weights
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(start, stop):
        data[i]
    return time.perf_counter() - wall, time.process_time() - cpu


def reference_ms(repeats: int = 2000) -> float:
    """CPU ms of a fixed numpy workload (elementwise ops on renderer-sized arrays): compare runs made
    under different machine load, since a shared core slows the renderer and this alike."""
    import numpy as np

    a = np.random.default_rng(0).random((3000, 3))
    start = time.process_time()
    for _ in range(repeats):
        a = np.sqrt(a * 0.5 + 0.25)
    return round((time.process_time() - start) * 1000, 1)


def measure(domain: str, size: int, n: int, processes: int) -> dict:
    """Throughput of `processes` workers each rendering n // processes images of `domain`."""
    per = n // processes
    jobs = [(domain, size, k * per, (k + 1) * per) for k in range(processes)]
    with mp.get_context("fork").Pool(processes) as pool:
        start = time.perf_counter()
        results = pool.map(_render, jobs)
        wall = time.perf_counter() - start
    cpu = sum(c for _, c in results)
    return {
        "processes": processes, "images": per * processes,
        "images_per_s": round(per * processes / max(w for w, _ in results), 1),
        "images_per_s_including_pool_start": round(per * processes / wall, 1),
        "images_per_cpu_s": round(per * processes / cpu, 1),
    }


def main() -> int:
    """Measure every domain with one and two processes; print (and optionally write) the JSON."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=200, help="images per measurement")
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--domains", nargs="+", default=["source", "texture", "lowlight"])
    p.add_argument("--out", type=Path)
    args = p.parse_args()
    rows = [measure(d, args.size, args.n, k) | {"domain": d} for d in args.domains for k in (1, 2)]
    result = {
        "benchmark": "renderer", "size": args.size, "target_images_per_s_per_core": 50,
        "cpu_count": os.cpu_count(), "load_average_1min": round(os.getloadavg()[0], 2),
        "reference_ms": reference_ms(),
        "machine": platform.processor() or platform.machine(), "results": rows,
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
