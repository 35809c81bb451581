"""`handclip eval`: score a checkpoint on a dataset on disk or on a config's validation sets."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HELP = "evaluate a checkpoint on a dataset (--dataset NAME --root PATH) or a config's val sets; table + JSON + PCK PNG"

PROTOCOL_OF_DATASET = {"freihand": "freihand", "rhd": "rhd", "stb": "stb", "realworld": "realworld", "synth": "synth"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", required=True, help="a checkpoint written by handclip train (last.pt, "
                        "epoch_XXX.pt), a packed .safetensors model or a shipped model's name (handclip models)")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--config", help="evaluate on this config's data.val sets (default: the checkpoint's own)")
    source.add_argument("--dataset", help="a dataset reader: freihand, rhd, stb, realworld (with --root)")
    parser.add_argument("--root", help="the dataset's folder as distributed")
    parser.add_argument("--split", help="the reader's split (default: its evaluation split)")
    parser.add_argument("--protocol", help="evaluation protocol: synth, freihand, rhd, stb, realworld "
                        "(default: the dataset's own, else the config's eval.protocol)")
    parser.add_argument("--out", help="output folder (default: RUN_DIR/eval next to the checkpoint's run; "
                        "eval/NAME for a packed model)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--device", choices=["cpu", "cuda"], help="default: cuda when present")


def _entries(args, method, ckpt_config: dict) -> list[dict]:
    """The dataset entries to evaluate: one from --dataset/--root, else a config's data.val list."""
    from handclip.engine.config import ConfigError, load_config

    if args.dataset:
        if not args.root:
            raise ConfigError("--dataset needs --root, the dataset's folder")
        entry = {"name": args.dataset, "root": args.root, "size": method.input_size}
        if args.split:
            entry["split"] = args.split
        return [entry]
    config = load_config(args.config) if args.config else ckpt_config
    entries = (config.get("data") or {}).get("val") or []
    if not entries:
        raise ConfigError(f"{args.config or args.checkpoint}: the config has no data.val sets; use --dataset/--root")
    return entries


def run(args) -> int:
    import torch

    from handclip.engine.checkpoint import CheckpointError
    from handclip.engine.config import ConfigError
    from handclip.engine.evaluate import build_entry, dataset_label, evaluate
    from handclip.zoo import load_model, resolve

    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    try:
        method, ckpt_config = load_model(args.checkpoint, map_location=device)
        entries = _entries(args, method, ckpt_config)
    except (CheckpointError, ConfigError) as err:
        print(f"handclip eval: {err}", file=sys.stderr)
        return 1
    weights = resolve(args.checkpoint)  # a packed model's default output goes to ./eval/<name>, not the package
    out_dir = Path(args.out) if args.out else (Path("eval") / weights.stem if weights.suffix == ".safetensors"
                                               else weights.resolve().parent.parent / "eval")
    default_protocol = (ckpt_config.get("eval") or {}).get("protocol", "synth")
    summary = {}
    for entry in entries:
        label = dataset_label(entry)
        protocol = args.protocol or entry.get("protocol") or PROTOCOL_OF_DATASET.get(entry["name"], default_protocol)
        try:
            dataset = build_entry(entry)
        except (FileNotFoundError, ValueError, KeyError) as err:
            print(f"handclip eval: {label}: {err}", file=sys.stderr)
            return 1
        evaluator = evaluate(method, dataset, protocol, device, args.batch_size, desc=f"eval {label}")
        results = evaluator.compute()
        paths = evaluator.write(out_dir / label, results)
        print(f"\n== {label} ==\n{evaluator.table(results)}\nwrote {paths['json']} and {paths['png']}")
        summary[label] = {"protocol": protocol, "num_samples": results["num_samples"], "metrics": results["metrics"]}
    (out_dir / "summary.json").write_text(json.dumps({"checkpoint": str(args.checkpoint), "results": summary}, indent=2))
    print(f"summary: {out_dir / 'summary.json'}")
    return 0
