"""Collect `handclip eval` summaries of several runs into one DG-CLIP results table: Markdown on stdout,
JSON and a grouped bar chart (PNG) beside it.

    python scripts/dg_clip_results.py --protocols synth rhd --out docs/results_dg_clip \
        "mean pose=runs/mean_pose" "baseline=runs/baseline_cpu" ...

Each RUN folder must hold eval_<protocol>/summary.json (`handclip eval ... --protocol P --out RUN/eval_P`).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

# (protocol, metric) columns and their headers
COLUMNS = {"synth": [("mpjpe", "wrist-rel. EPE"), ("pa_mpjpe", "PA-EPE")], "rhd": [("mpjpe", "Z&B EPE")]}


def load(run: Path, protocol: str) -> dict:
    """{domain: metrics} of one run's evaluation under `protocol`."""
    path = run / f"eval_{protocol}" / "summary.json"
    if not path.is_file():
        raise SystemExit(f"{path}: missing; run handclip eval --protocol {protocol} --out {path.parent}")
    return {domain: r["metrics"] for domain, r in json.loads(path.read_text())["results"].items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="LABEL=RUN_DIR")
    parser.add_argument("--protocols", nargs="+", default=["synth", "rhd"], choices=sorted(COLUMNS))
    parser.add_argument("--out", type=Path, required=True, help="output stem: writes STEM.json and STEM.png")
    args = parser.parse_args()

    table: dict = {}
    for spec in args.runs:
        label, _, run = spec.partition("=")
        table[label] = {p: load(Path(run), p) for p in args.protocols}
    domains = list(next(iter(table.values()))[args.protocols[0]])
    cols = [(p, m, h) for p in args.protocols for m, h in COLUMNS[p]]

    header = "| method | " + " | ".join(f"{d} {h} ({p})" for p, _, h in cols for d in domains) + " |"
    lines = [header, "|" + "---|" * (1 + len(cols) * len(domains))]
    for label, res in table.items():
        cells = [f"{res[p][d][m]:.1f}" for p, m, _ in cols for d in domains]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    print("\n".join(lines))

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(table, indent=1) + "\n")
    _plot(table, cols, domains, args.out.with_suffix(".png"))


def _plot(table: dict, cols, domains, path: Path) -> None:
    """One panel per (protocol, metric): bars per domain, one colour per method."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5 * len(cols), 4), dpi=100)
    FigureCanvasAgg(fig)
    width = 0.8 / len(table)
    for k, (p, m, h) in enumerate(cols):
        ax = fig.add_subplot(1, len(cols), k + 1)
        for i, (label, res) in enumerate(table.items()):
            values = [res[p][d][m] for d in domains]
            ax.bar([j + i * width for j in range(len(domains))], values, width, label=label)
        ax.set_xticks([j + 0.4 - width / 2 for j in range(len(domains))], domains)
        ax.set_ylabel("mm")
        ax.set_title(f"{h} ({p} protocol)")
    fig.axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)


if __name__ == "__main__":
    main()
