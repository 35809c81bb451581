"""Export a checkpoint's inference path to ONNX, check onnxruntime parity and compare speed."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

HELP = "export a checkpoint's inference model to ONNX (dynamic batch) with an onnxruntime parity and speed check"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", required=True, help="checkpoint .pt written by `handclip train`, a packed "
                        ".safetensors model or a shipped model's name (`handclip models`)")
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

    from handclip import preflight
    from handclip.errors import require_extra
    from handclip.export import PARITY_TOLERANCE, compare_speed, export_onnx, ort_session, parity, parity_ok
    from handclip.zoo import load_model

    speed_batches = preflight.int_list(args.speed_batches, "--speed-batches")
    preflight.at_least(args.threads, 0, "--threads")
    preflight.out_file(args.onnx, "--onnx", "model.onnx")
    require_extra("export", "handclip export", "onnx", "onnxruntime", *(["onnxscript"] if args.exporter == "dynamo" else []))
    if args.threads:
        torch.set_num_threads(args.threads)
    method = load_model(args.checkpoint)[0]
    path, names = export_onnx(method, args.onnx, args.opset, args.exporter)
    session = ort_session(path, args.threads or None, args.level)
    diffs = parity(method, session, names)
    worst = max(d["max_abs"] for d in diffs.values())
    print(f"exported {path} ({path.stat().st_size / 1e6:.1f} MB), outputs {names}")
    print(f"parity: max abs diff {worst:.3g} (bound {PARITY_TOLERANCE:g} x (1 + |value|)) per output {json.dumps(diffs)}")
    for batch in speed_batches:
        speed = compare_speed(method, session, batch)
        eager, ort = speed["eager_images_per_s"], speed["onnxruntime_images_per_s"]
        print(f"speed batch {batch}: eager {eager['wall']:.1f} img/s, onnxruntime {ort['wall']:.1f} img/s "
              f"({speed['speedup']['wall']:.2f}x wall clock, {speed['speedup']['cpu']:.2f}x CPU time)")
    if not parity_ok(diffs):
        print(f"FAILED: onnxruntime differs from PyTorch by more than {PARITY_TOLERANCE:g} x (1 + |value|)")
        return 1
    return 0
