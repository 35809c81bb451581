"""Paper-size training on renders in one call to a lent GPU machine (issue 12, item 7).

Renders one shared cache with every core (its size set from a measured render rate), then trains side by side
the paper-size CLIP-Hand3D stage 1, the paper-size DG-CLIP and the shipped tiny stage 1 continued, each
stopped by train.max_minutes. The runs live under --work; --out (the device's $OUT) gets five files:
env.json, render.json, summary.json (samples/s and the last validation of each run), runs.tar.gz (every
run's logs, curves and validation) and tiny_last.pt (the tiny run's weights). --smoke shrinks everything
for a CPU check.

    python scripts/device_train.py --out $OUT --minutes 5
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import torch

from handclip.data import build_dataset
from handclip.engine.config import load_config

RUNS = {  # name: (config, DataLoader workers, overrides of --smoke)
    "cliph3d_paper_joints": ("clip_hand3d/paper_joints_renders", 5,
                             ["train.batch_size=4", "method.clip=random-tiny", "method.clip_width=32"]),
    "dg_clip_paper": ("dg_clip/paper_renders", 4, ["train.batch_size=4"]),
    "cliph3d_tiny_joints": ("clip_hand3d/gpu_joints_people", 6, ["train.batch_size=16"]),
}
TINY = "cliph3d_tiny_joints"


def render(spec: dict, n: int, seed: int, workers: int) -> float:
    """Build the synth cache of `spec` with n samples and that seed; returns seconds taken."""
    tic = time.perf_counter()
    reader = {k: v for k, v in spec.items() if k not in ("label", "protocol")}
    build_dataset(**(reader | {"n": n, "seed": seed, "workers": workers}))
    return time.perf_counter() - tic


def train_command(name: str, out: Path, overrides: list[str], folder: str | None = None) -> list[str]:
    """`handclip train` of run `name` into out/<folder or name> with its DataLoader workers and `overrides`."""
    config, loaders, _ = RUNS[name]
    return [sys.executable, "-m", "handclip.cli", "train", "--config", config, "--out", str(out / (folder or name)),
            f"train.num_workers={loaders}", *overrides]


def launch(name: str, out: Path, overrides: list[str]) -> subprocess.Popen:
    """Start run `name` in the background, its output in out/<name>.log."""
    cmd = train_command(name, out, overrides)
    print(" ".join(cmd[1:]), flush=True)
    return subprocess.Popen(cmd, stdout=open(out / f"{name}.log", "w"), stderr=subprocess.STDOUT)


def rates(run: Path) -> dict:
    """Steps done and the median samples/s of a run's train_log.jsonl (after its first logged step)."""
    rows = [json.loads(line) for line in (run / "train_log.jsonl").read_text().splitlines()] \
        if (run / "train_log.jsonl").exists() else []
    speeds = sorted(r["samples_per_s"] for r in rows[1:] if "samples_per_s" in r)
    return {"steps": rows[-1]["step"] if rows else 0, "samples_per_s": speeds[len(speeds) // 2] if speeds else None}


def last_val(run: Path) -> dict:
    """The last validation line of a run's history, if any."""
    path = run / "val" / "history.jsonl"
    return json.loads(path.read_text().splitlines()[-1]) if path.exists() else {}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--work", type=Path, default=Path("/tmp/device_runs"))
    ap.add_argument("--minutes", type=float, default=5.0, help="training budget of each run")
    ap.add_argument("--render-seconds", type=float, default=120.0, help="time to spend rendering the shared cache")
    ap.add_argument("--max-n", type=int, default=120000)
    ap.add_argument("--budget-s", type=float, default=540.0,
                    help="the whole call's limit: runs still going 45 s before it are killed, so the files come back")
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, for a CPU check of the script")
    args = ap.parse_args()
    stop_at = time.perf_counter() + args.budget_s - 45.0
    args.out.mkdir(parents=True, exist_ok=True)
    args.work.mkdir(parents=True, exist_ok=False)
    work = args.work
    cores = os.cpu_count() or 1
    env = {"torch": torch.__version__, "cuda": torch.cuda.is_available(), "python": platform.python_version(),
           "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None, "cores": cores}
    (args.out / "env.json").write_text(json.dumps(env, indent=1))
    print(env, flush=True)

    config = load_config(RUNS[TINY][0])
    spec = config["data"]["train"]
    probe = 64 if args.smoke else 60 * cores
    rate = probe / render(spec, probe, 99, cores)
    n = 256 if args.smoke else int(min(args.max_n, max(24000, rate * args.render_seconds)) // 1000 * 1000)
    seconds = render(spec, n, 7, cores)
    val_seconds = sum(render(v, v["n"], v["seed"], cores) for v in config["data"]["val"])
    info = {"probe_renders_per_s": rate, "n": n, "seconds": seconds, "workers": cores, "val_seconds": val_seconds,
            "renders_per_s": n / seconds if seconds > 1.0 else None}  # None: the cache was there already
    (args.out / "render.json").write_text(json.dumps(info, indent=1))
    print(info, flush=True)

    common = [f"data.train.n={n}", f"train.max_minutes={args.minutes}"]
    if args.smoke:
        common += ["train.epochs=1", "data.val=[]", "train.log_every=2"]
    over = {name: common + (RUNS[name][2] if args.smoke else []) for name in RUNS}
    procs = {name: launch(name, work, over[name]) for name in RUNS if name != TINY}
    # the tiny run: a short probe beside the others measures its pace, then the real run gets the epochs that fit
    probe_min = 0.02 if args.smoke else 0.6
    probe_cmd = train_command(TINY, work, over[TINY] + [f"train.max_minutes={probe_min}", "train.log_every=10",
                                                        "data.val=[]"], folder="tiny_probe")
    subprocess.run(probe_cmd, stdout=open(work / "tiny_probe.log", "w"), stderr=subprocess.STDOUT)
    pace = rates(work / "tiny_probe")["samples_per_s"] or 1000.0
    left = max(0.05, args.minutes - probe_min - 0.5)
    epochs = 1 if args.smoke else max(1, int(pace * left * 60 * 0.9 / n))
    print(f"tiny probe: {pace:.0f} samples/s -> {epochs} epochs of {n} samples", flush=True)
    procs[TINY] = launch(TINY, work, over[TINY] + [f"train.epochs={epochs}", f"train.max_minutes={left}"])
    for name, proc in procs.items():
        try:
            proc.wait(timeout=max(1.0, stop_at - time.perf_counter()))
        except subprocess.TimeoutExpired:
            proc.kill()
            print(f"{name}: killed at the deadline", flush=True)

    summary = {"render": info, "env": env, "tiny_probe_samples_per_s": pace, "runs": {}}
    for name in RUNS:
        run = work / name
        summary["runs"][name] = {"config": RUNS[name][0], "exit": procs[name].returncode, **rates(run),
                                 "last_val": last_val(run)}
        last = run / "checkpoints" / "last.pt"
        if name == TINY and last.exists():  # the weights alone come back (the optimiser state is not needed)
            state = torch.load(last, map_location="cpu", weights_only=False)
            torch.save({k: state[k] for k in ("model", "config", "step", "epoch", "batch_in_epoch")},
                       args.out / "tiny_last.pt")
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1))
    with tarfile.open(args.out / "runs.tar.gz", "w:gz") as tar:
        for name in RUNS:
            for path in sorted((work / name).rglob("*")):
                if path.is_file() and "checkpoints" not in path.parts and path.stat().st_size < 4 << 20:
                    tar.add(path, arcname=str(path.relative_to(work)))
        for path in work.glob("*.log"):
            tar.add(path, arcname=path.name)
    print(json.dumps({k: {"steps": v["steps"], "samples_per_s": v["samples_per_s"], "exit": v["exit"]}
                      for k, v in summary["runs"].items()}), flush=True)


if __name__ == "__main__":
    main()
