"""Whole-process throughput of `handclip predict DIR` on real webcam frames, beside MediaPipe Hands (issue 13, item 0).

`handclip predict` runs as its own process (start-up, model loading, detection when a detector is shipped, JSON
and overlay PNGs all counted) on the first N frames of ../shared/realdev/lstm2d/images (256x256 webcam frames,
linked into a temporary folder, never copied). Measured: wall time, process CPU time (user + system, every
thread) and peak RSS. On an idle machine the wall time is at most the CPU time (no disk waits: frames and
outputs stay in the page cache), so images per CPU-second is a floor of the idle-machine rate that holds when
other jobs stretch the wall clock; the main thread's CPU time (start-up and the network, the critical path while
the reader and writer threads use the other core) gives an idle-machine estimate. The load average is recorded
before and after each run.

MediaPipe's 41 images/s (4.8 s, 211 MB) and the former 5.4 images/s are the issue's measurements of the same
200 frames; mediapipe is not installed here. Prints one JSON document; --out writes it and a bar chart (.png).

    python benchmarks/bench_predict.py --out benchmarks/results/predict.json
    python benchmarks/bench_predict.py --config dg_clip/cpu --out benchmarks/results/predict_dg_clip_cpu.json
    python benchmarks/bench_predict.py --upright-look --out benchmarks/results/predict_upright_look.json
    python benchmarks/bench_predict.py --look-around --out benchmarks/results/predict_look_around.json
    python benchmarks/bench_predict.py --no-second-look --out benchmarks/results/predict_one_look.json
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _output import emit

FRAMES = Path(__file__).resolve().parents[2] / "shared" / "realdev" / "lstm2d" / "images"
ISSUE = "issue 13 (same 200 real 256x256 webcam frames, whole process, one run side by side)"
MEDIAPIPE = {"images_per_s": 41.0, "wall_s": 4.8, "peak_rss_mb": 211.0,
             "source": f"{ISSUE}: MediaPipe Hands, detection included; mediapipe is not installed here"}
BEFORE = {"images_per_s": 5.4, "wall_s": 37.3, "peak_rss_mb": 379.0,
          "source": f"{ISSUE}: handclip predict with a matplotlib figure per image, the quickstart's DG-CLIP"}


def model_for_run(checkpoint: str | None, config: str | None, folder: Path) -> tuple[str, str]:
    """(--checkpoint value, description): the given model, else `config` built with random weights and saved under
    `folder` (speed does not depend on the weights), else the default shipped model, else dg_clip/cpu so built."""
    if checkpoint:
        return checkpoint, f"--checkpoint {checkpoint}"
    from handclip.zoo import ZooError, default_name

    if not config:
        try:
            return default_name(), f"the default shipped model ({default_name()})"
        except ZooError:
            config = "dg_clip/cpu"
    import torch

    from handclip.engine.checkpoint import build_method, save_checkpoint
    from handclip.engine.config import load_config

    resolved = load_config(config)
    torch.manual_seed(0)
    path = save_checkpoint({"model": build_method(resolved).state_dict(), "config": resolved}, folder / "model.pt")
    return str(path), f"{config} built with random weights ({resolved['method']['name']}, {resolved['method'].get('input_size')} px)"


def thread_ticks(pid: int) -> dict[int, int]:
    """CPU clock ticks (user + system) of each thread of process `pid` so far, from /proc (empty once it is gone)."""
    ticks = {}
    for stat in Path(f"/proc/{pid}/task").glob("*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the thread ended meanwhile
        ticks[int(stat.parent.name)] = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return ticks


def measure(argv: list[str], out: Path, n: int) -> dict:
    """One `handclip predict` process: wall time, its own CPU time and peak RSS (os.wait4), its main thread's CPU
    time (start-up, batching, the network: /proc sampled every 50 ms) and the load around it; checked to have
    written one JSON per frame and an overlay PNG per frame with a hand."""
    import json

    load_before, seen = os.getloadavg(), {}
    with tempfile.TemporaryFile("w+") as log:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        while True:
            seen.update(thread_ticks(proc.pid))
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            time.sleep(0.05)
        wall = time.perf_counter() - start
        log.seek(0)
        stdout = log.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"handclip predict failed: {stdout.strip().splitlines()[-1:]}")
    jsons, pngs = sorted(out.glob("*.json")), sorted(out.glob("*.png"))
    # predict writes an overlay for each frame with a hand (none where the detector finds none)
    with_hands = sum(1 for path in jsons if json.loads(path.read_text()).get("hands", [None]))
    if len(jsons) != n or len(pngs) != with_hands:
        raise RuntimeError(f"expected {n} JSON files and {with_hands} overlay PNGs in {out}, found {len(jsons)} and "
                           f"{len(pngs)}")
    cpu = usage.ru_utime + usage.ru_stime
    main_cpu = seen.get(proc.pid, 0) / os.sysconf("SC_CLK_TCK")
    cores = len(os.sched_getaffinity(0))
    return {"wall_s": round(wall, 3), "cpu_s": round(cpu, 3), "user_s": round(usage.ru_utime, 3),
            "system_s": round(usage.ru_stime, 3), "main_thread_cpu_s": round(main_cpu, 2),
            "images_per_s": round(n / wall, 2), "images_per_cpu_s": round(n / cpu, 2),
            "idle_estimate_images_per_s": round(n / max(main_cpu, cpu / cores), 2),
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
            "detector_used": "hands" in json.loads(jsons[0].read_text()), "last_line": stdout.strip().splitlines()[-1],
            "loadavg_before": [round(v, 2) for v in load_before],
            "loadavg_after": [round(v, 2) for v in os.getloadavg()]}


def plot(report: dict, path: Path) -> None:
    """Side-by-side bars: images/s and peak RSS of MediaPipe (issue), handclip before (issue) and now."""
    from matplotlib.figure import Figure

    best = report["best"]
    load = best["loadavg_before"][0]
    names = ["MediaPipe Hands\n(issue 13)", "handclip before\n(issue 13)", f"now: wall clock\n(load {load:.1f})",
             "now: per CPU-\nsecond (floor)", "now: idle\nestimate"]
    rates = [MEDIAPIPE["images_per_s"], BEFORE["images_per_s"], best["images_per_s"], best["images_per_cpu_s"],
             best["idle_estimate_images_per_s"]]
    colours = ["#888888", "#c99a9a", "#9db8de", "#4a7fc1", "#2c5a94"]
    fig = Figure(figsize=(11, 4.2))
    ax_rate, ax_rss = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 1.6]})
    bars = ax_rate.bar(range(len(rates)), rates, color=colours)
    ax_rate.bar_label(bars, fmt="%.1f", fontsize=8)
    ax_rate.axhline(MEDIAPIPE["images_per_s"], color="k", linestyle="--", linewidth=0.8)
    ax_rate.set_xticks(range(len(rates)), names, fontsize=8)
    ax_rate.set_ylabel("images / s, whole process")
    ax_rate.set_title(f"handclip predict DIR on {report['images']} real {report['image_size_hw'][1]}x"
                      f"{report['image_size_hw'][0]} frames, {report['machine']['cpus']} cores", fontsize=9)
    rss = ax_rss.bar(range(3), [MEDIAPIPE["peak_rss_mb"], BEFORE["peak_rss_mb"], best["peak_rss_mb"]],
                     color=colours[:2] + colours[3:4])
    ax_rss.bar_label(rss, fmt="%.0f", fontsize=8)
    ax_rss.set_xticks(range(3), names[:2] + ["handclip now"], fontsize=8)
    ax_rss.set_ylabel("peak RSS (MB)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=Path, default=FRAMES, help=f"a folder of frames (default {FRAMES})")
    parser.add_argument("--n", type=int, default=200, help="the first N frames by name (200)")
    parser.add_argument("--checkpoint", help="a model name or file (default: the default shipped model, else a "
                        "dg_clip/cpu model with random weights)")
    parser.add_argument("--config", help="instead of --checkpoint: this config's model with random weights (dg_clip/cpu)")
    parser.add_argument("--batch-size", type=int, help="passed on to predict (default: predict's own)")
    parser.add_argument("--upright-look", action="store_true", help="passed on to predict: the second, upright look")
    parser.add_argument("--look-around", action="store_true", help="passed on to predict: five looks blended")
    parser.add_argument("--no-second-look", action="store_true",
                        help="passed on to predict: the first look alone decides the hand check")
    parser.add_argument("--repeats", type=int, default=1, help="runs; the fastest by CPU time is reported")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    looks = (["--upright-look"] if args.upright_look else []) + (["--look-around"] if args.look_around else []) + (
        ["--no-second-look"] if args.no_second_look else [])
    if not args.images.is_dir():
        print(f"skipped: {args.images} is absent (the real frames live in ../shared/realdev; give --images DIR)")
        return 0
    frames = sorted(p for p in args.images.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))[: args.n]
    if len(frames) < args.n:
        print(f"note: {args.images} holds {len(frames)} frames, fewer than --n {args.n}", file=sys.stderr)
    from handclip.api import read_image

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "frames"
        folder.mkdir()
        for frame in frames:  # links: the real frames are never copied
            (folder / frame.name).symlink_to(frame.resolve())
        checkpoint, model = model_for_run(args.checkpoint, args.config, Path(tmp))
        runs = []
        for k in range(args.repeats):
            out = Path(tmp) / f"out{k}"
            argv = [sys.executable, "-m", "handclip.cli", "predict", str(folder), "--checkpoint", checkpoint,
                    "--out", str(out)] + (["--batch-size", str(args.batch_size)] if args.batch_size else []) + \
                   looks
            runs.append(measure(argv, out, len(frames)))
        size = read_image(frames[0]).shape[:2]
    report = {
        "benchmark": "predict_folder",
        "command": "handclip predict DIR --checkpoint MODEL --out OUT"
                   + (f" --batch-size {args.batch_size}" if args.batch_size else "")
                   + "".join(f" {flag}" for flag in looks),
        "images": len(frames), "image_size_hw": list(size), "frames": str(args.images), "model": model,
        "machine": {"cpus": os.cpu_count(), "cpu": platform.processor() or platform.machine()},
        "target": "images_per_s >= MediaPipe's 41 on an idle machine (issue 13, item 0)",
        "clocks": "images_per_s: of wall time under the recorded load; images_per_cpu_s: per second of the process's "
                  "CPU time (all threads), a floor of the idle-machine wall rate; idle_estimate_images_per_s: N / "
                  "max(main-thread CPU, process CPU / cores), the rate when the main thread (start-up, network) never "
                  "waits and the reader and writer threads run beside it (an estimate, not a measurement)",
        "mediapipe": MEDIAPIPE, "before": BEFORE, "runs": runs,
        "best": min(runs, key=lambda r: r["cpu_s"]),
    }
    emit(report, args.out)
    if args.out:
        plot(report, args.out.with_suffix(".png"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
