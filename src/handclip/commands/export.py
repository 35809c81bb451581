"""Export a checkpoint's inference path to ONNX, check onnxruntime parity and compare speed."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

HELP = "export a checkpoint's inference model to ONNX (dynamic batch) with an onnxruntime parity and speed check"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", required=True, type=Path, help="checkpoint .pt written by `handclip train`")
    parser.add_argument("--onnx", required=True, type=Path, help="output .onnx file")
    parser.add_argument("--opset", type=int, default=17)
    parser.add_argument("--exporter", default="auto", choices=["auto", "torchscript", "dynamo"],
                        help="torch.onnx exporter; auto tries torchscript, then the torch.export-based one")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads for both runtimes (0: torch's default)")
    parser.add_argument("--level", default="all", choices=["disable", "basic", "extended", "all"],
                        help="onnxruntime graph optimisation level")
    parser.add_argument("--speed-batches", default="1", help="comma-separated batch sizes to time ('' skips timing)")


def run(args: argparse.Namespace) -> int:
    import torch

    from handclip.engine.checkpoint import load_model
    from handclip.export import PARITY_TOLERANCE, compare_speed, export_onnx, ort_session, parity

    if args.threads:
        torch.set_num_threads(args.threads)
    method = load_model(args.checkpoint)
    path, names = export_onnx(method, args.onnx, args.opset, args.exporter)
    session = ort_session(path, args.threads or None, args.level)
    diffs = parity(method, session, names)
    worst = max(diffs.values())
    print(f"exported {path} ({path.stat().st_size / 1e6:.1f} MB), outputs {names}")
    print(f"parity: max abs diff {worst:.3g} (bound {PARITY_TOLERANCE:g}) per output {json.dumps(diffs)}")
    for batch in [int(b) for b in args.speed_batches.split(",") if b.strip()]:
        speed = compare_speed(method, session, batch)
        print(f"speed batch {batch}: eager {speed['eager_images_per_s']:.1f} img/s, onnxruntime "
              f"{speed['onnxruntime_images_per_s']:.1f} img/s ({speed['speedup']:.2f}x)")
    if worst > PARITY_TOLERANCE:
        print(f"FAILED: onnxruntime differs from PyTorch by {worst:.3g} > {PARITY_TOLERANCE:g}")
        return 1
    return 0
