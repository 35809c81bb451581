"""DG-CLIP costs on this machine: inference speed of f^HPE (Branch1 + PosePrior, eager, random weights) at
the CPU and paper sizes, parameter counts, and the one-time cost of the 3,724 prompts' text features with
a ViT-B/32-sized (random) text tower. Prints one JSON document (and writes it with --out).

    python benchmarks/bench_dg_clip.py --threads 1 --out benchmarks/results/dg_clip.json
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import torch

from _output import emit
from _timing import images_per_second
from handclip.engine.checkpoint import build_method
from handclip.engine.config import load_config


def bench_config(config: str, batches: list[int], min_seconds: float) -> dict:
    """Parameter counts and inference images/s of one config's method."""
    torch.manual_seed(0)
    method = build_method(load_config(config)).eval()
    model = method.inference_model()
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    return {
        "input_size": method.input_size,
        "params_inference": count(model),
        "params_training": count(method),
        "images_per_s": {str(b): round(images_per_second(model, b, method.input_size, min_seconds), 2) for b in batches},
    }


def bench_prompt_features() -> dict:
    """Seconds to encode the 3,724 distinct prompts with a ViT-B/32-sized random text tower."""
    from handclip.clip.style_prompts import distinct_sentences
    from handclip.clip.towers import CLIPTowers

    towers = CLIPTowers.random("base")
    sentences = distinct_sentences()
    start = time.perf_counter()
    for i in range(0, len(sentences), 256):
        towers.encode_text(sentences[i : i + 256])
    return {"prompts": len(sentences), "seconds": round(time.perf_counter() - start, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="*", default=["dg_clip/cpu", "dg_clip/paper"])
    parser.add_argument("--batches", nargs="*", type=int, default=[1, 8])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--min-seconds", type=float, default=2.0)
    parser.add_argument("--skip-prompts", action="store_true", help="skip the text-feature timing")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    result = {
        "benchmark": "dg_clip",
        "machine": {"cpu": platform.processor() or platform.machine(), "threads": args.threads,
                    "load_average_1min": round(os.getloadavg()[0], 2), "torch": torch.__version__},
        "note": "eager CPU, random weights; the load average tells how contended the cores were",
        "configs": {c: bench_config(c, args.batches, args.min_seconds) for c in args.configs},
    }
    if not args.skip_prompts:
        result["prompt_text_features"] = bench_prompt_features()
    emit(result, args.out)


if __name__ == "__main__":
    main()
