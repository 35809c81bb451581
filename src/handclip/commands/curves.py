"""`handclip curves`: overlay the learning curves of several runs in one PNG (with the data as JSON beside it)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HELP = "overlay the learning curves of RUN_DIR... (run folders or curves.json files) in one PNG + JSON"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("runs", nargs="+", type=Path, metavar="RUN_DIR",
                        help="run folders written by handclip train, or their curves.json files")
    parser.add_argument("--out", required=True, type=Path, help="output PNG; the curves go to the same name .json")
    parser.add_argument("--force", action="store_true", help="overwrite existing output files")


def _name(source: Path) -> str:
    """A run's label: its folder (the folder holding it for a curves.json)."""
    return (source.parent if source.suffix == ".json" else source).name or str(source)


def run(args: argparse.Namespace) -> int:
    from handclip.engine.curves import load_curves
    from handclip.viz.training_curves import plot_curves

    png = args.out if args.out.suffix.lower() == ".png" else args.out.with_suffix(".png")
    data_path = png.with_suffix(".json")
    existing = [str(p) for p in (png, data_path) if p.exists()]
    if existing and not args.force:
        print(f"handclip curves: {', '.join(existing)} exist; pass --force to overwrite", file=sys.stderr)
        return 1
    try:
        runs = [load_curves(source) for source in args.runs]
    except (FileNotFoundError, ValueError) as err:
        print(f"handclip curves: {err}", file=sys.stderr)
        return 1
    names = [_name(source) for source in args.runs]
    names = names if len(set(names)) == len(names) else [str(source) for source in args.runs]
    plot_curves(runs, png, title=" vs ".join(names) if len(names) <= 3 else f"{len(names)} runs", names=names)
    data_path.write_text(json.dumps(dict(zip(names, runs)), indent=1))
    print(f"wrote {png} and {data_path}")
    return 0
