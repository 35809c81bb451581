"""`handclip quickstart`: render synthetic domains, train every method on CPU, evaluate them and the shipped models,
write report.md."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

HELP = ("render synthetic data, train DG-CLIP, its baseline, CLIP-Hand3D and the mean pose briefly, evaluate them beside "
        "the shipped models (on the real photos too when present), write a report")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=Path("runs/quickstart"), help="output folder (default runs/quickstart)")
    parser.add_argument("--fast", action="store_true", help="tiny data and one short epoch: a smoke test in seconds")
    parser.add_argument("--device", choices=["cpu", "cuda"], help="default: cuda when present")
    parser.add_argument("--plan", type=Path, help="quickstart plan YAML (default: the packaged configs/quickstart.yaml)")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")


def run(args: argparse.Namespace) -> int:
    import torch

    from handclip import preflight, quickstart
    from handclip.errors import UserError
    from handclip.report import write_report

    preflight.out_folder(args.out)
    preflight.at_least(args.threads, 0, "--threads")
    if args.device:
        preflight.device(args.device)
    if args.plan and not args.plan.is_file():
        raise UserError(f"--plan {args.plan}: no such file; give a quickstart plan YAML (see {quickstart.PLAN_FILE})")
    if args.threads:
        torch.set_num_threads(args.threads)
    tic = time.perf_counter()
    summary = quickstart.run(args.out, fast=args.fast, device=args.device, plan_path=args.plan or quickstart.PLAN_FILE)
    report = write_report(summary, args.out, time.perf_counter() - tic)
    print(f"[quickstart] done in {(time.perf_counter() - tic) / 60:.1f} min; report: {report.resolve()}")
    return 0
