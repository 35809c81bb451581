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
    source.add_argument("--dataset", help="a dataset reader: freihand, rhd, stb, realworld (with --root), "
                        "coco_hand (--root, or --ann-file and --img-dir)")
    parser.add_argument("--root", help="the dataset's folder as distributed (coco_hand: annotations.json + images/)")
    parser.add_argument("--ann-file", help="coco_hand: the COCO keypoints JSON (default: ROOT/annotations.json)")
    parser.add_argument("--img-dir", help="coco_hand: the folder the file_name of each image is relative to "
                        "(default: ROOT/images)")
    parser.add_argument("--write-pred", type=Path, metavar="FILE",
                        help="freihand evaluation set: also write FreiHAND's official pred.json "
                        "([xyz, verts] in metres, wrist-relative) to FILE")
    parser.add_argument("--split", help="the reader's split (default: its evaluation split)")
    parser.add_argument("--protocol", help="evaluation protocol: synth, freihand, rhd, stb, realworld, coco_2d, coco_3d "
                        "(default: the dataset's own, else the config's eval.protocol)")
    parser.add_argument("--out", help="output folder (default: RUN_DIR/eval next to the checkpoint's run; "
                        "eval/NAME for a packed model)")
    parser.add_argument("--upright-look", action="store_true",
                        help="also read every hand turned upright and keep the surer look, as predict --upright-look "
                        "does (handclip.refine; twice the network time)")
    parser.add_argument("--look-around", action="store_true",
                        help="read every hand upright, turned 15 degrees either way and zoomed in and out, and blend "
                        "the five looks joint by joint by confidence, as predict --look-around (six times the network time; eleven for "
                        "a model that reads either hand, which also reads the mirrored crop's five looks)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--device", choices=["cpu", "cuda"], help="default: cuda when present")


def _entries(args, method, ckpt_config: dict) -> list[dict]:
    """The dataset entries to evaluate: one from --dataset/--root, else a config's data.val list."""
    from handclip.engine.config import ConfigError, load_config

    if (args.ann_file or args.img_dir) and args.dataset != "coco_hand":
        raise ConfigError("--ann-file and --img-dir go with --dataset coco_hand")
    if args.dataset:
        if args.dataset == "coco_hand":
            return [_coco_entry(args, method.input_size)]
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


def _coco_entry(args, size: int) -> dict:
    """The coco_hand entry of --root / --ann-file / --img-dir, labelled by its folder (e.g. coco_hand-lstm2d)."""
    from handclip.engine.config import ConfigError

    if not (args.root or args.ann_file):
        raise ConfigError("--dataset coco_hand needs --root (annotations.json + images/) or --ann-file and --img-dir")
    where = Path(args.root) if args.root else Path(args.ann_file).resolve().parent
    entry = {"name": "coco_hand", "size": size, "label": f"coco_hand-{where.name}"}
    entry.update({k: v for k, v in (("root", args.root), ("ann_file", args.ann_file), ("img_dir", args.img_dir)) if v})
    return entry


def _check_write_pred(path: Path | None, entries: list[dict]) -> str | None:
    """Why --write-pred cannot be honoured (an existing file, not exactly one freihand set), else None."""
    if path is None:
        return None
    if path.exists():
        return f"--write-pred: {path} exists; remove it or choose another file"
    if [e["name"] for e in entries].count("freihand") != 1:
        return "--write-pred writes FreiHAND's pred.json: evaluate exactly one freihand set (--dataset freihand --root ...)"
    return None


def _write_freihand_pred(path: Path, preds: list[dict]) -> None:
    """FreiHAND's pred.json from the batches' predictions; a method without a mesh submits its joints as verts."""
    import numpy as np

    from handclip.protocols import write_freihand_pred

    xyz = np.concatenate([p["xyz"].float().cpu().numpy() for p in preds])
    has_mesh = all("verts" in p for p in preds)
    verts = np.concatenate([p["verts"].float().cpu().numpy() for p in preds]) if has_mesh else xyz
    write_freihand_pred(path, xyz, verts)
    note = "" if has_mesh else " (the method has no mesh: verts hold its 21 joints; the file's mesh scores mean nothing)"
    print(f"wrote {path}: {len(xyz)} samples, wrist-relative (no absolute root){note}")


def run(args) -> int:
    from handclip import preflight
    from handclip.engine.checkpoint import CheckpointError
    from handclip.engine.config import ConfigError
    from handclip.engine.evaluate import build_entry, dataset_label, evaluate
    from handclip.errors import one_line
    from handclip.zoo import load_model, resolve

    device = preflight.device(args.device)
    preflight.at_least(args.batch_size, 1, "--batch-size")
    if args.protocol:
        preflight.protocol(args.protocol)
    if args.out:
        preflight.out_folder(args.out)
    try:
        method, ckpt_config = load_model(args.checkpoint, map_location=device)
        entries = _entries(args, method, ckpt_config)
    except (CheckpointError, ConfigError) as err:
        print(f"handclip eval: {one_line(err)}", file=sys.stderr)
        return 1
    if args.upright_look or args.look_around:
        from handclip.api import reads_either_hand
        from handclip.refine import UprightLook

        method = UprightLook(method, right_hands=True, around=args.look_around,  # the readers mirror left hands in
                             mirrored=args.look_around and reads_either_hand(ckpt_config))
    problem = _check_write_pred(args.write_pred, entries)
    if problem:
        print(f"handclip eval: {problem}", file=sys.stderr)
        return 1
    weights = resolve(args.checkpoint)  # a packed model's default output goes to ./eval/<name>, not the package
    out_dir = Path(args.out) if args.out else (Path("eval") / weights.stem if weights.suffix == ".safetensors"
                                               else weights.resolve().parent.parent / "eval")
    preflight.out_folder(out_dir)  # before the run, not after it
    default_protocol = (ckpt_config.get("eval") or {}).get("protocol", "synth")
    summary = {}
    for entry in entries:
        label = dataset_label(entry)
        try:
            dataset = build_entry(entry)
        except (FileNotFoundError, ValueError, KeyError) as err:
            print(f"handclip eval: {label}: {one_line(err)}", file=sys.stderr)
            return 1
        protocol = (args.protocol or entry.get("protocol") or PROTOCOL_OF_DATASET.get(entry["name"])
                    or getattr(dataset, "default_protocol", default_protocol))
        preds = [] if args.write_pred and entry["name"] == "freihand" else None
        if preds is not None and dataset.split != "evaluation":
            print(f"handclip eval: --write-pred needs FreiHAND's evaluation split, got {dataset.split!r}", file=sys.stderr)
            return 1
        evaluator = evaluate(method, dataset, protocol, device, args.batch_size, desc=f"eval {label}",
                             on_batch=None if preds is None else preds.append)
        if preds is not None:
            _write_freihand_pred(args.write_pred, preds)
        results = evaluator.compute()
        paths = evaluator.write(out_dir / label, results)
        print(f"\n== {label} ==\n{evaluator.table(results)}\nwrote {paths['json']} and {paths['png']}")
        summary[label] = {"protocol": protocol, "num_samples": results["num_samples"], "metrics": results["metrics"]}
    (out_dir / "summary.json").write_text(json.dumps({"checkpoint": str(args.checkpoint), "upright_look": args.upright_look,
                                                      "look_around": args.look_around,
                                                      "results": summary}, indent=2))
    print(f"summary: {out_dir / 'summary.json'}")
    return 0
