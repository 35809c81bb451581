"""`handclip train`: train a method from a YAML config (by name or path), resumable, DDP under torchrun."""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from handclip.errors import UserError

HELP = "train a method from a config (e.g. dg_clip/cpu); resumable; multi-GPU under torchrun"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="config name in handclip/configs (e.g. mean_pose/cpu) or a YAML path; "
                        "with --resume defaults to RUN_DIR/config.yaml")
    parser.add_argument("--out", help="run folder (checkpoints/, tb/, config.yaml, val/); "
                        "default runs/<config name>")
    parser.add_argument("--resume", action="store_true", help="continue from RUN_DIR/checkpoints/last.pt")
    parser.add_argument("--overwrite", action="store_true", help="delete the run already in RUN_DIR first "
                        "(without it, a folder holding a run needs --resume)")
    parser.add_argument("--resume-from", metavar="CKPT", help="continue from this checkpoint instead "
                        "(e.g. an epoch_XXX.pt when last.pt is damaged); its saved config is used")
    parser.add_argument("--device", choices=["cpu", "cuda"], help="default: cuda when present")
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE",
                        help="config overrides with dotted keys, e.g. train.epochs=2 train.optimizer.lr=1e-4")


def _run_dir(args) -> Path:
    """--out, else runs/<config name without .yaml>."""
    if args.out:
        return Path(args.out)
    if not args.config:
        raise UserError("give --out RUN_DIR (or --config to name the run after it)")
    return Path("runs") / Path(args.config).with_suffix("").as_posix().replace("/", "_")


def run(args) -> int:
    """Config and options checked, the run folder checked (or cleared by --overwrite), then the training."""
    from handclip import preflight
    from handclip.engine import distributed, run_folder
    from handclip.engine.checkpoint import CheckpointError, config_of
    from handclip.engine.config import ConfigError, apply_overrides, load_config, read_resolved, with_defaults
    from handclip.engine.schema import check_config
    from handclip.engine.trainer import Trainer

    run_dir = _run_dir(args)
    resume = args.resume_from or args.resume
    if args.config:
        config = load_config(args.config, args.overrides)
    elif args.resume_from:
        config = apply_overrides(config_of(args.resume_from), args.overrides)
    elif args.resume:
        config = apply_overrides(read_resolved(run_dir / "config.yaml"), args.overrides)
    else:
        raise ConfigError("give --config NAME_OR_PATH (or --resume / --resume-from to continue a run)")
    check_config(with_defaults(config))
    if args.device:
        preflight.device(args.device)
    if args.resume and not args.resume_from and not (run_dir / "checkpoints" / "last.pt").is_file():
        raise CheckpointError(f"{run_dir / 'checkpoints' / 'last.pt'}: nothing to resume; train without --resume "
                              f"to start the run")
    if os.environ.get("RANK", "0") == "0":  # under torchrun, rank 0 alone looks at (and clears) the folder
        run_folder.prepare(run_dir, resume=bool(resume), overwrite=args.overwrite)
    tic = time.perf_counter()
    trainer = Trainer(config, run_dir, resume=resume, device=args.device)
    try:
        result = trainer.fit()
    finally:
        distributed.cleanup(trainer.info)
    result["wall_s"] = round(time.perf_counter() - tic, 1)
    if trainer.info.is_main:
        print(json.dumps(result, indent=2))
    return 0
