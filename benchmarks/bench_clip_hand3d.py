"""CLIP-Hand3D inference speed (images/s, eager PyTorch, random weights) at the CPU size and the paper size.

Times method.inference_model() (image -> lixel joints + mesh; no text side, as at test time) at batch 1
and batch 8, median of repeated calls after a warm-up. Prints one JSON document (and writes it with --out).

    python benchmarks/bench_clip_hand3d.py --threads 1 --out benchmarks/results/clip_hand3d.json
"""

from __future__ import annotations

import argparse
import platform
from pathlib import Path

import torch
from _output import emit
from _timing import images_per_second

from handclip.engine.checkpoint import build_method
from handclip.engine.config import load_config


def bench(config: str, batches: list[int], min_seconds: float) -> dict:
    """Speed of one config's inference model at each batch size."""
    torch.manual_seed(0)
    method = build_method(load_config(config)).eval()
    model = method.inference_model().eval()
    size = int(method.input_size)
    row = {"config": config, "input_size": size, "params_M": round(sum(p.numel() for p in model.parameters()) / 1e6, 2),
           "mesh_vertices": int(method.faces.max()) + 1}
    for b in batches:
        row[f"images_per_s_batch{b}"] = round(images_per_second(model, b, size, min_seconds), 2)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", default=["clip_hand3d/cpu", "clip_hand3d/paper"])
    parser.add_argument("--batches", nargs="+", type=int, default=[1, 8])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--min-seconds", type=float, default=3.0)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rows = [bench(c, args.batches, args.min_seconds) for c in args.configs]
    result = {"benchmark": "clip_hand3d_inference", "device": "cpu", "threads": args.threads,
              "cpu": platform.processor() or platform.machine(), "torch": torch.__version__, "results": rows}
    emit(result, args.out)


if __name__ == "__main__":
    main()
