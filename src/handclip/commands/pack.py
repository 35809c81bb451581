"""`handclip pack`: convert a trained checkpoint into a shipped model (safetensors + config + card + zoo.json)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "pack a trained checkpoint into the model zoo: <name>.safetensors (float16 where parity holds), .yaml, .md"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", required=True, type=Path, help="checkpoint .pt written by handclip train")
    parser.add_argument("--name", required=True, help="model name (lower-case letters, digits, '_', '-')")
    parser.add_argument("--method", help="expected method (dg_clip, dg_clip_baseline, clip_hand3d, ...); "
                        "checked against the checkpoint's config")
    parser.add_argument("--metrics", nargs="*", default=[], type=Path, metavar="SUMMARY_JSON",
                        help="summary.json files of handclip eval on this checkpoint, listed in zoo.json and the card")
    parser.add_argument("--card-template", type=Path, help="Markdown template with {field} slots (default: built in)")
    parser.add_argument("--default", action="store_true", help="make it the model handclip predict uses by default")
    parser.add_argument("--force", action="store_true", help="replace a model of that name (its card is kept)")
    parser.add_argument("--zoo", type=Path, help="zoo folder (default: $HANDCLIP_ZOO, else the package's models_zoo)")
    parser.add_argument("--min-confidence", type=float, default=None,
                        help="the pose model's hand check for predict on whole photos (mean joint confidence a "
                        "detected box needs), calibrated on renders by scripts/hand_check_calibrate.py")
    parser.add_argument("--min-confidence-look-around", type=float, default=None,
                        help="the same for predict --look-around, calibrated on its blended confidences "
                        "(scripts/hand_check_calibrate.py --look-around)")
    parser.add_argument("--min-confidence-second-look", type=float, default=None,
                        help="the check of the two looks predict blends at a box whose first look is unsure "
                        "(scripts/hand_check_calibrate.py --second-look)")


def run(args: argparse.Namespace) -> int:
    from handclip.engine.checkpoint import CheckpointError
    from handclip.engine.config import ConfigError
    from handclip.zoo import pack, zoo_dir
    from handclip.zoo.index import MAX_MODEL_BYTES

    try:
        entry = pack(args.checkpoint, args.name, method=args.method, zoo=args.zoo, card_template=args.card_template,
                     metrics=args.metrics, default=args.default, force=args.force,
                     min_confidence=args.min_confidence,
                     min_confidence_look_around=args.min_confidence_look_around,
                     min_confidence_second_look=args.min_confidence_second_look)
    except (CheckpointError, ConfigError) as err:
        print(f"handclip pack: {err}", file=sys.stderr)
        return 1
    folder = zoo_dir(args.zoo)
    print(f"packed {entry['name']} ({entry['method']}, {entry['params']:,} parameters) into {folder}: "
          f"{entry['file']} {entry['dtype']} {entry['bytes'] / 1e6:.2f} MB (float16 output change "
          f"{entry['fp16_max_abs_diff']:.3g}), {entry['config']}, {entry['card']}"
          f"{', default model' if entry['default'] else ''}")
    if entry["bytes"] > MAX_MODEL_BYTES:
        print(f"warning: {entry['file']} is over {MAX_MODEL_BYTES / 1e6:g} MB, the limit of a shipped model",
              file=sys.stderr)
    print(f"next: complete the TODO lines of {folder / entry['card']}; check with handclip models")
    return 0
