"""Mean +- std over seeds of runs named <variant>_seed<k>: one metric per evaluation set, Markdown on stdout,
JSON and a bar chart with error bars (PNG) beside it. For issue 14's experiments (scripts/issue14_experiments.py).

Each run folder holds eval_synth/summary.json and eval_real/summary.json (`handclip eval`); a set missing for a
metric (2D-only real sets have no PA-MPJPE) is left out of that metric's columns. --term adds a logged
training scalar (the mean of its last 50 records in train_log.jsonl), e.g. loss_clip, with CLIP-Hand3D's
chance level 2 ln B (B: the contrastive block, method.contrastive_batch or else train.batch_size).

    python scripts/seeded_table.py --runs runs/issue14/dg --metrics pa_mpjpe mpjpe epe_2d --out docs/results_dg_issue14
    python scripts/seeded_table.py --runs runs/issue14/clip_hand3d --term loss_clip --out docs/results_clip_hand3d_issue14
"""

from __future__ import annotations

import argparse
import json
import math
import re
from collections import defaultdict
from pathlib import Path

import numpy as np
import yaml

RUN_NAME = re.compile(r"^(?P<variant>.+)_seed(?P<seed>\d+)$")
EVALS = ("eval_synth", "eval_real")
LAST_RECORDS = 50


def run_values(run: Path, metrics: list[str], term: str | None) -> dict:
    """{(metric, set label): value} of one run, plus (term, 'train') and ('chance', 'train') with --term."""
    out = {}
    for folder in EVALS:
        path = run / folder / "summary.json"
        if not path.is_file():
            raise SystemExit(f"{path}: missing; run scripts/issue14_experiments.py to evaluate {run}")
        for label, result in json.loads(path.read_text())["results"].items():
            for metric in metrics:
                if metric in result["metrics"]:
                    out[(metric, label)] = float(result["metrics"][metric])
    if term:
        from handclip.engine.curves import read_jsonl

        records = [r[term] for r in read_jsonl(run / "train_log.jsonl") if term in r][-LAST_RECORDS:]
        if records:
            config = yaml.safe_load((run / "config.yaml").read_text())
            block = config["method"].get("contrastive_batch") or config["train"]["batch_size"]
            out[(term, "train")] = float(np.mean(records))
            out[("chance", "train")] = 2 * math.log(block)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=Path, required=True, help="folder of <variant>_seed<k> run folders")
    parser.add_argument("--metrics", nargs="+", default=["pa_mpjpe", "mpjpe", "epe_2d"])
    parser.add_argument("--term", help="a logged training scalar to add, e.g. loss_clip")
    parser.add_argument("--out", type=Path, required=True, help="output stem: writes STEM.json and STEM.png")
    args = parser.parse_args()

    values: dict = defaultdict(lambda: defaultdict(list))  # variant -> column -> [value per seed]
    seeds: dict = defaultdict(list)
    for run in sorted(p for p in args.runs.iterdir() if p.is_dir() and RUN_NAME.match(p.name)):
        variant = RUN_NAME.match(run.name)["variant"]
        seeds[variant].append(int(RUN_NAME.match(run.name)["seed"]))
        for column, value in run_values(run, args.metrics, args.term).items():
            values[variant][column].append(value)
    if not values:
        raise SystemExit(f"{args.runs}: no <variant>_seed<k> run folders")
    columns = list(dict.fromkeys(c for v in values.values() for c in v))
    table = {v: {f"{m} {s}": {"mean": float(np.mean(x)), "std": float(np.std(x, ddof=1)) if len(x) > 1 else 0.0,
                              "n": len(x)} for (m, s), x in cols.items()} for v, cols in values.items()}
    header = "| variant | seeds | " + " | ".join(f"{s} {m}" for m, s in columns) + " |"
    lines = [header, "|" + "---|" * (2 + len(columns))]
    for variant, cols in table.items():
        cells = [f"{cols[f'{m} {s}']['mean']:.2f} +- {cols[f'{m} {s}']['std']:.2f}" if f"{m} {s}" in cols else "-"
                 for m, s in columns]
        lines.append(f"| {variant} | {len(seeds[variant])} | " + " | ".join(cells) + " |")
    print("\n".join(lines))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps({"seeds": seeds, "table": table}, indent=1) + "\n")
    _plot(table, columns, args.out.with_suffix(".png"))


def _plot(table: dict, columns, path: Path) -> None:
    """One panel per metric: bars per set, one colour per variant, error bars of one std."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    metrics = list(dict.fromkeys(m for m, _ in columns))
    fig = Figure(figsize=(6 * len(metrics), 4), dpi=100)
    FigureCanvasAgg(fig)
    for i, metric in enumerate(metrics):
        ax = fig.add_subplot(1, len(metrics), i + 1)
        sets = [s for m, s in columns if m == metric]
        width = 0.8 / len(table)
        for j, (variant, cols) in enumerate(table.items()):
            keys = [f"{metric} {s}" for s in sets]
            x = np.arange(len(sets)) + j * width
            ax.bar(x, [cols[k]["mean"] if k in cols else 0 for k in keys], width,
                   yerr=[cols[k]["std"] if k in cols else 0 for k in keys], label=variant, capsize=2)
        ax.set_xticks(np.arange(len(sets)) + 0.4 - width / 2)
        ax.set_xticklabels(sets, rotation=30, fontsize=8)
        ax.set_title(metric)
    fig.axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)


if __name__ == "__main__":
    main()
