"""Training throughput (samples/s) and peak memory of every registered method, printed as JSON.

Each method trains in a fresh subprocess (so the peak RSS is its own) from its `<name>/cpu.yaml` or
`<family>/<variant>_cpu.yaml` (--size paper: the paper configs) through the engine's own train_step:
forward, loss, backward, clipping, optimiser update. Batches are collated before the clock starts, so
data loading and rendering are not timed; synthetic crops of the config's crop size replace its
training set. Methods without such a config, or that fail to build, are reported with the reason.
--out writes the JSON and a bar chart PNG beside it.

    python benchmarks/bench_training.py --steps 5 --batch-size 8 --out benchmarks/results/training.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def measure(name: str, size: str, batch_size: int, steps: int, warmup: int, device: str | None, amp: str,
            extra: list[str]) -> dict:
    """Train `steps` timed steps (after `warmup`) of method `name` in this process; throughput and memory."""
    import torch

    from handclip.engine.config import ConfigError, load_config
    from handclip.engine.trainer import Trainer, to_device

    torch.set_num_threads(max(1, torch.get_num_threads()))
    overrides = [f"train.batch_size={batch_size}", f"train.amp={amp}", "train.num_workers=0", *extra]
    for config_name in config_names(name, size):
        try:
            config = load_config(config_name, overrides)
        except ConfigError:
            continue
        if config.get("method", {}).get("name") == name:
            break
    else:
        return {"method": name, "error": f"no config among {config_names(name, size)}"}
    # the step alone is timed, so synthetic crops of the config's size stand in for its dataset (a paper
    # config names FreiHAND, which is not on this machine)
    train = config["data"]["train"]
    crop = int(train.get("size", config["method"].get("input_size", 256)))
    config["data"]["train"] = {"name": "synth", "domain": "source", "n": batch_size * (steps + warmup),
                               "size": crop, "seed": 0}
    with tempfile.TemporaryDirectory() as run_dir:
        trainer = Trainer(config, run_dir, device=device)
        trainer.setup()
        batches = [to_device(b, trainer.device) for b in trainer.loader(0, 0)]
        cuda = trainer.device.type == "cuda"
        if cuda:
            torch.cuda.reset_peak_memory_stats()
        for batch in batches[:warmup]:
            trainer.train_step(batch, 0)
        if cuda:
            torch.cuda.synchronize()
        tic = time.perf_counter()
        for batch in batches[warmup:]:
            trainer.train_step(batch, 0)
        if cuda:
            torch.cuda.synchronize()
        elapsed = time.perf_counter() - tic
    timed = len(batches) - warmup
    params = sum(p.numel() for p in trainer.params)
    return {
        "method": name, "config": config_name, "device": str(trainer.device), "amp": amp,
        "threads": torch.get_num_threads(), "batch_size": batch_size, "timed_steps": timed,
        "trainable_params": params, "input_size": trainer.method.input_size,
        "samples_per_s": round(timed * batch_size / elapsed, 3), "s_per_step": round(elapsed / timed, 4),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "peak_cuda_mib": round(torch.cuda.max_memory_allocated() / 2**20, 1) if cuda else None,
        "load_avg_1min": round(os.getloadavg()[0], 2),  # other processes on the machine slow the numbers
    }


def config_names(name: str, size: str) -> list[str]:
    """Packaged configs that may train `name`: <name>/<size>, then <family>/<variant>_<size>
    (dg_clip_baseline -> dg_clip/baseline_cpu)."""
    names = [f"{name}/{size}"]
    names += [f"{name[:i]}/{name[i + 1:]}_{size}" for i, c in enumerate(name) if c == "_"]
    return names


def registered_methods() -> list[str]:
    """Every method name the registry knows (lazy modules and already-registered factories)."""
    from handclip import methods

    return methods.METHODS.names()


def plot(results: list[dict], path: Path) -> None:
    """Bar chart of training samples/s per method."""
    from matplotlib.figure import Figure

    ok = [r for r in results if "samples_per_s" in r]
    fig = Figure(figsize=(6, 3.5))
    ax = fig.subplots()
    bars = ax.bar([r["method"] for r in ok], [r["samples_per_s"] for r in ok])
    ax.bar_label(bars, labels=[f"{r['samples_per_s']:.3g}/s\n{r['peak_rss_mib']:.0f} MiB" for r in ok], fontsize=8)
    ax.set_yscale("log")  # the reference mean_pose is orders of magnitude faster than the networks
    ax.set_ylabel("training samples/s (log)")
    ax.set_title(f"training throughput ({ok[0]['device'] if ok else '-'}, batch {ok[0]['batch_size'] if ok else '-'})")
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", nargs="*", help="default: every registered method")
    parser.add_argument("--size", default="cpu", help="config size: cpu or paper")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--amp", default="none", choices=["none", "bf16", "fp16"])
    parser.add_argument("--device", choices=["cpu", "cuda"])
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                        help="config overrides for every method, e.g. method.clip=random-base (the paper "
                        "configs' CLIP architecture with random weights, where no CLIP weights exist)")
    parser.add_argument("--out", help="write the JSON and a PNG bar chart beside it")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: measure one method in this process
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.size, args.batch_size, args.steps, args.warmup, args.device, args.amp,
                                 args.set) | {"overrides": args.set}))
        return 0
    results = []
    for name in args.methods or registered_methods():
        cmd = [sys.executable, __file__, "--one", name, "--size", args.size, "--batch-size", str(args.batch_size),
               "--steps", str(args.steps), "--warmup", str(args.warmup), "--amp", args.amp]
        cmd += ["--device", args.device] if args.device else []
        cmd += ["--set", *args.set] if args.set else []
        proc = subprocess.run(cmd, capture_output=True, text=True)
        lines = proc.stdout.strip().splitlines()
        if proc.returncode == 0 and lines:
            results.append(json.loads(lines[-1]))
        else:
            results.append({"method": name, "error": (proc.stderr.strip().splitlines() or ["failed"])[-1]})
        print(json.dumps(results[-1]), file=sys.stderr)
    report = {"benchmark": "training", "results": results}
    print(json.dumps(report, indent=2))
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2))
        plot(results, out.with_suffix(".png"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
