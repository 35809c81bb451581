"""`handclip models`: list the trained models shipped with handclip (a table, or JSON with --json)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HELP = "list the shipped trained models (name, method, parameters, metrics); --json for a machine-readable list"
HEADLINE = ("pa_mpjpe", "epe_2d")  # the metrics shown per evaluation set in the table


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print a JSON list of the models' index entries")
    parser.add_argument("--zoo", type=Path, help="zoo folder (default: $HANDCLIP_ZOO, else the package's models_zoo)")


def _summary(entry: dict) -> str:
    """'set: pa_mpjpe 12.3, epe_2d 4.5; ...' for the table."""
    parts = []
    for label, result in entry.get("metrics", {}).items():
        shown = [f"{k} {result['metrics'][k]:.1f}" for k in HEADLINE if k in result.get("metrics", {})]
        parts.append(f"{label}: {', '.join(shown) or '-'}")
    return "; ".join(parts) or "-"


def run(args: argparse.Namespace) -> int:
    from handclip.zoo import ZooError, list_models, zoo_dir

    try:
        models = list_models(args.zoo)
    except ZooError as err:
        print(f"handclip models: {err}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(models, indent=2))
        return 0
    if not models:
        print(f"no model is shipped in {zoo_dir(args.zoo)} yet")
        return 0
    print(f"{'name':<24}{'method':<18}{'params':>12}{'MB':>7}  {'dtype':<8} metrics")
    for m in models:
        name = m["name"] + (" *" if m.get("default") else "")
        print(f"{name:<24}{m['method']:<18}{m['params']:>12,}{m['bytes'] / 1e6:>7.2f}  {m['dtype']:<8} {_summary(m)}")
    print("* default model (handclip predict without --checkpoint)")
    return 0
