"""Synthetic renderer throughput at 224 px per domain, and the cost of each realism feature.

Throughput: images/s of wall-clock time and images per CPU-second (the second is what the renderer
costs when the machine is shared, since waiting for a busy core is not counted), with one process
and optionally more rendering disjoint indices. Target: at least 50 images per CPU-second per
process (one core), so training never waits for data.

Feature costs: the same seeded crops of the 'texture' domain rendered twice, once with a feature
switched on and once off (render_sample's restyle hook), everything else drawn alike; the cost is the
CPU-time difference per image (ms). Noise of a few tenths of a ms remains on a loaded machine.
Prints one JSON document (--out writes it).

    python benchmarks/bench_renderer.py --n 100 --processes 1 --out benchmarks/results/renderer.json
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import time
from pathlib import Path

import cv2
import numpy as np
from _output import emit

cv2.setNumThreads(1)  # one core per process: OpenCV's own threads would blur the per-core figure

# feature: (restyle with the feature on, restyle with it off); styles are handclip.data.synth.domains.Style
FEATURES = {
    "room (procedural room instead of a backdrop)": (
        lambda s: s._replace(words=s.words | {"background": "room"}, person=False),
        lambda s: s._replace(words=s.words | {"background": "background"}, person=False)),
    "person in the room": (
        lambda s: s._replace(words=s.words | {"background": "room"}, person=True),
        lambda s: s._replace(words=s.words | {"background": "room"}, person=False)),
    "sleeve": (lambda s: s._replace(sleeve="blue", bracelet=False), lambda s: s._replace(sleeve=None)),
    "object over the fingers": (lambda s: s._replace(occluder=True), lambda s: s._replace(occluder=False)),
    "soft shadows (8 mm penumbra vs hard)": (lambda s: s._replace(softness=8.0), lambda s: s._replace(softness=0.0)),
    "skin mottling": (lambda s: s._replace(mottle=0.03), lambda s: s._replace(mottle=0.0)),
    "defocus and depth of field": (
        lambda s: s._replace(camera=s.camera._replace(defocus=1.0, dof=1.5)),
        lambda s: s._replace(camera=s.camera._replace(defocus=0.0, dof=0.0))),
    "motion blur": (lambda s: s._replace(camera=s.camera._replace(motion=(6, 30.0))),
                    lambda s: s._replace(camera=s.camera._replace(motion=(0, 0.0)))),
    "sensor noise": (lambda s: s._replace(camera=s.camera._replace(read_noise=4.0, shot_noise=0.2)),
                     lambda s: s._replace(camera=s.camera._replace(read_noise=0.0, shot_noise=0.0))),
    "JPEG": (lambda s: s._replace(camera=s.camera._replace(jpeg=80)),
             lambda s: s._replace(camera=s.camera._replace(jpeg=100))),
    "white balance and vignetting": (
        lambda s: s._replace(camera=s.camera._replace(white_balance=np.array([1.1, 1.0, 0.9]), vignette=0.3)),
        lambda s: s._replace(camera=s.camera._replace(white_balance=np.ones(3), vignette=0.0))),
    "tone curve and saturation": (
        lambda s: s._replace(camera=s.camera._replace(contrast=0.3, saturation=0.8)),
        lambda s: s._replace(camera=s.camera._replace(contrast=0.0, saturation=1.0))),
    "webcam softness (resample and sharpen)": (
        lambda s: s._replace(camera=s.camera._replace(soften=0.6)),
        lambda s: s._replace(camera=s.camera._replace(soften=1.0))),
}


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


def feature_costs(size: int, n: int) -> dict[str, float]:
    """CPU ms per image that each feature adds (on minus off, same seeded scenes of 'texture')."""
    from handclip.data.synth.scene import render_sample

    def cpu_ms(restyle) -> float:
        start = time.process_time()
        for i in range(n):
            render_sample("texture", np.random.default_rng([7, i]), size, restyle)
        return (time.process_time() - start) * 1000 / n

    render_sample("texture", np.random.default_rng(0), size)  # warm-up
    out = {}
    for name, (on, off) in FEATURES.items():
        out[name] = round(cpu_ms(on) - cpu_ms(off), 2)
    return out


def main() -> int:
    """Measure every domain (and the feature costs); print (and optionally write) the JSON."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=100, help="images per measurement")
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--domains", nargs="+", default=["source", "texture", "lowlight", "harsh", "webcam", "sleeve_clutter"])
    p.add_argument("--processes", type=int, nargs="+", default=[1], help="process counts to measure (e.g. 1 2)")
    p.add_argument("--feature-n", type=int, default=40, help="images per feature measurement (0 skips them)")
    p.add_argument("--out", type=Path)
    args = p.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    rows = [measure(d, args.size, args.n, k) | {"domain": d} for d in args.domains for k in args.processes]
    result = {
        "benchmark": "renderer", "size": args.size, "target_images_per_cpu_s_per_process": 50,
        "cpu_count": os.cpu_count(), "load_average_1min": round(os.getloadavg()[0], 2),
        "reference_ms": reference_ms(),
        "machine": platform.processor() or platform.machine(), "results": rows,
    }
    if args.feature_n > 0:
        result["feature_cost_ms_per_image"] = feature_costs(args.size, args.feature_n)
        result["load_average_1min_after"] = round(os.getloadavg()[0], 2)
    emit(result, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
