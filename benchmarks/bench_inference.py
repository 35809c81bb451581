"""Inference speed and peak memory of every method's config: eager PyTorch vs onnxruntime, batch 1 and 16.

Each (config, runtime) runs in its own process so peak memory (max RSS) is its own; the onnxruntime
process imports no torch, as a deployment would. Configs get random weights (speed does not depend on them);
--models times trained models by name or file (handclip.zoo; 'default' is the default shipped model).
Prints one JSON document (and writes it with --out; --update keeps the rows of that file not re-run, so one
config can be re-measured). Targets: onnxruntime >= 1.3x eager at batch 1; the default model at batch 1 with
onnxruntime >= 32 images/s (issue 12, item 5: MediaPipe's rate on this machine, its detection included).
Each row records the load average around its runs (wall clocks stretch with it; CPU clocks much less).

    python benchmarks/bench_inference.py --threads 1 --out benchmarks/results/inference.json
    python benchmarks/bench_inference.py --configs '' --models default --update --out benchmarks/results/inference.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

from handclip.timing import images_per_second

# every method's CPU-size and paper-size configs (the DG-CLIP baseline's inference model is DG-CLIP's f^HPE:
# same network, so its numbers are DG-CLIP's; mean_pose has one size)
DEFAULT_MODEL_TARGET = 32  # images/s, batch 1, onnxruntime (issue 12, item 5)
DEFAULT_CONFIGS = ["mean_pose/cpu", "dg_clip/cpu", "dg_clip/paper", "dg_clip/baseline_cpu", "clip_hand3d/cpu",
                   "clip_hand3d/paper"]


def _peak_mb() -> float:
    """Max resident set size of this process so far, MB (Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


MODEL_PREFIX = "model:"  # a row spec naming a trained model (handclip.zoo) instead of a config


def build_for(spec: str) -> tuple[object, dict]:
    """(method in eval mode, row header) for a config name (random weights) or 'model:NAME|PATH' (trained;
    'model:default' is the default shipped model)."""
    import torch

    from handclip.engine.checkpoint import build_method
    from handclip.engine.config import load_config

    if spec.startswith(MODEL_PREFIX):
        from handclip.zoo import default_name, load_model

        name = spec[len(MODEL_PREFIX):]
        name = default_name() if name == "default" else name
        method, config = load_model(name)
        return method.eval(), {"config": f"{MODEL_PREFIX}{name}", "model": name, "method": config["method"]["name"]}
    torch.manual_seed(0)
    config = load_config(spec)
    return build_method(config).eval(), {"config": spec, "method": config["method"]["name"]}


def eager_worker(spec: str, onnx_path: str, batches: list[int], threads: int, min_seconds: float) -> dict:
    """Build the method of `spec` (build_for), time its inference model eagerly, then export it for the ORT worker."""
    import torch

    from handclip.export import export_onnx, ort_session, parity, parity_ok, sample_images

    torch.set_num_threads(threads)
    method, header = build_for(spec)
    model = method.inference_model().eval()
    size = int(method.input_size)
    params = sum(p.numel() for p in model.parameters())
    result = {**header, "input_size": size, "inference_params": params, "eager": {}}
    for batch in batches:
        images = sample_images(size, batch)

        def run():
            with torch.inference_mode():
                model(images)

        result["eager"][f"batch{batch}_images_per_s"] = images_per_second(run, batch, min_seconds, 30)
    result["eager"]["peak_rss_mb"] = _peak_mb()
    path, names = export_onnx(method, onnx_path)
    result["onnx_mb"] = path.stat().st_size / 1e6
    diffs = parity(method, ort_session(path, threads), names)
    result["parity"] = {"max_abs": max(d["max_abs"] for d in diffs.values()),
                        "max_excess": max(d["max_excess"] for d in diffs.values()), "ok": parity_ok(diffs)}
    return result


def ort_worker(onnx_path: str, size: int, batches: list[int], threads: int, min_seconds: float, level: str) -> dict:
    """Time the exported model in onnxruntime alone (no torch imported)."""
    import numpy as np
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.graph_optimization_level = getattr(ort.GraphOptimizationLevel, level)
    opts.intra_op_num_threads, opts.inter_op_num_threads = threads, 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    session = ort.InferenceSession(onnx_path, opts, providers=["CPUExecutionProvider"])
    out = {"level": level}
    rng = np.random.default_rng(0)
    for batch in batches:
        feed = {"image": rng.random((batch, 3, size, size), dtype=np.float32)}
        out[f"batch{batch}_images_per_s"] = images_per_second(lambda: session.run(None, feed), batch, min_seconds, 30)
    out["peak_rss_mb"] = _peak_mb()
    return out


def plot(report: dict, path: Path) -> None:
    """Bar chart next to the JSON: images/s per config, eager vs onnxruntime, one panel per batch size."""
    from matplotlib.figure import Figure

    rows = [r for r in report["results"] if "onnxruntime" in r]
    fig = Figure(figsize=(5 * len(report["batches"]), 4.2))
    for ax, batch in zip(fig.subplots(1, len(report["batches"]), squeeze=False)[0], report["batches"]):
        key = f"batch{batch}_images_per_s"
        x = range(len(rows))
        ax.bar([i - 0.2 for i in x], [r["eager"][key]["cpu"] for r in rows], 0.4, label="eager PyTorch")
        ax.bar([i + 0.2 for i in x], [r["onnxruntime"][key]["cpu"] for r in rows], 0.4, label="onnxruntime")
        ax.set_xticks(list(x), [r["config"] for r in rows], rotation=30, ha="right", fontsize=8)
        ax.set_yscale("log")
        if batch == 1:
            ax.axhline(DEFAULT_MODEL_TARGET, color="k", linestyle="--", linewidth=0.8,
                       label=f"{DEFAULT_MODEL_TARGET}/s (default model's target)")
        ax.set_ylabel("images / s of CPU time")
        ax.set_title(f"batch {batch}, {report['threads']} thread(s)")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def default_model_summary(rows: list[dict]) -> dict:
    """Issue 12, item 5: the default shipped model's batch-1 onnxruntime rate against the target; while none is
    shipped, dg_clip/cpu's (the CPU recipe's network with random weights: the same speed)."""
    from handclip.zoo import ZooError, default_name

    try:
        key, note = MODEL_PREFIX + default_name(), "the default shipped model"
    except ZooError:
        key, note = "dg_clip/cpu", "no model is shipped yet: dg_clip/cpu's network with random weights stands in"
    row = next((r for r in rows if r.get("config") == key and "onnxruntime" in r), None)
    if row is None:
        return {"row": key, "note": f"{note}; not measured in this report (run it with --configs / --models)"}
    rate = row["onnxruntime"].get("batch1_images_per_s")
    if rate is None:
        return {"row": key, "note": f"{note}; batch 1 not measured (--batches 1,...)"}
    return {"row": key, "note": note, "input_size": row["input_size"], "target_images_per_s": DEFAULT_MODEL_TARGET,
            "onnxruntime_batch1_images_per_s": rate, "eager_batch1_images_per_s": row["eager"]["batch1_images_per_s"],
            "met_on_cpu_clock": rate["cpu"] >= DEFAULT_MODEL_TARGET, "met_on_wall_clock": rate["wall"] >= DEFAULT_MODEL_TARGET,
            "loadavg": row.get("loadavg")}


def _child(args: list[str]) -> dict:
    """Run this script as a worker process and parse the JSON it prints last."""
    proc = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", default=",".join(DEFAULT_CONFIGS), help="config names, comma-separated")
    parser.add_argument("--models", default="", help="trained models by name or file, comma-separated ('default': "
                        "the default shipped model)")
    parser.add_argument("--update", action="store_true", help="keep the rows of --out that are not re-run")
    parser.add_argument("--batches", default="1,16")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--min-seconds", type=float, default=3.0)
    parser.add_argument("--ort-levels", default="ORT_ENABLE_ALL,ORT_ENABLE_BASIC",
                        help="onnxruntime graph optimisation levels to try; the best one is compared")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    batches = [int(b) for b in args.batches.split(",")]
    if args.worker:
        kind, *rest = args.worker
        if kind == "eager":
            print(json.dumps(eager_worker(rest[0], rest[1], batches, args.threads, args.min_seconds)))
        else:
            print(json.dumps(ort_worker(rest[0], int(rest[1]), batches, args.threads, args.min_seconds, rest[2])))
        return 0
    from tqdm import tqdm

    common = ["--batches", args.batches, "--threads", str(args.threads), "--min-seconds", str(args.min_seconds)]
    specs = [c for c in args.configs.split(",") if c] + [MODEL_PREFIX + m for m in args.models.split(",") if m]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for k, config in enumerate(tqdm(specs, desc="bench", unit="config")):
            onnx_path = str(Path(tmp) / f"{k}.onnx")
            load_before = [round(v, 2) for v in os.getloadavg()]
            row = _child(["--worker", "eager", config, onnx_path, *common])
            if "error" not in row:
                trials = [_child(["--worker", "ort", onnx_path, str(row["input_size"]), level, *common])
                          for level in args.ort_levels.split(",")]
                row["onnxruntime_trials"] = trials
                ok = [t for t in trials if "error" not in t]
                if ok:  # the level that is fastest at the first batch size (CPU clock: robust to machine load)
                    best = max(ok, key=lambda t: t[f"batch{batches[0]}_images_per_s"]["cpu"])
                    row["onnxruntime"] = best
                    row["speedup"] = {f"batch{b}": {clock: best[f"batch{b}_images_per_s"][clock]
                                                    / row["eager"][f"batch{b}_images_per_s"][clock]
                                                    for clock in ("wall", "cpu")} for b in batches}
            else:
                row["config"] = config
            row["loadavg"] = {"before": load_before, "after": [round(v, 2) for v in os.getloadavg()]}
            rows.append(row)
    if args.update and args.out and args.out.is_file():  # earlier rows of configs not re-run stay, in their order
        fresh = {row["config"]: row for row in rows}
        earlier = json.loads(args.out.read_text())["results"]
        rows = [fresh.pop(row["config"], row) for row in earlier] + list(fresh.values())
    import onnxruntime
    import torch

    report = {
        "benchmark": "inference", "threads": args.threads, "batches": batches, "cpu": platform.processor() or platform.machine(),
        "torch": torch.__version__, "onnxruntime": onnxruntime.__version__,
        "target": "onnxruntime >= 1.3x eager at batch 1; the default model at batch 1 with onnxruntime >= "
                  f"{DEFAULT_MODEL_TARGET} images/s (issue 12, item 5)",
        "clocks": "wall: images per second of wall time; cpu: per second of process CPU time (robust to other "
                  "jobs on a shared machine; with 1 thread about the wall-clock rate of an idle machine)",
        "default_model": default_model_summary(rows),
        "results": rows,
    }
    text = json.dumps(report, indent=1)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
        plot(report, args.out.with_suffix(".png"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
