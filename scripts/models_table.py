"""Tabulate the trained CPU models against the mean pose and the issue-12 targets: Markdown + JSON + PNG.

Reads the `handclip eval` summaries kept in docs/models/<run>/eval_renders.json (held-out renders), config.yaml (the run's resolved config) and
eval_realdev.json (`--config datasets/realdev`). 2D errors on renders are rescaled to 256 px crops (a run's
renders are scored at its own crop size), so every row compares at one size.

    python scripts/models_table.py --runs mean_pose_cpu clip_hand3d_cpu_joints clip_hand3d_cpu dg_clip_cpu
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib
import yaml

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RENDER_SETS = ("source", "texture", "webcam", "lowlight")


def load(run: str, which: str) -> dict:
    """The per-set metrics of one summary (empty when the run has none)."""
    path = ROOT / "docs" / "models" / run / f"{which}.json"
    return json.loads(path.read_text())["results"] if path.is_file() else {}


def crop_size(run: str) -> int:
    """The crop size a run's held-out renders were scored at: its resolved config's first val entry."""
    cfg = yaml.safe_load((ROOT / "docs" / "models" / run / "config.yaml").read_text())
    return int((cfg["data"].get("val") or [{}])[0].get("size", 256))


def row(run: str) -> dict:
    """One table row: renders PA-MPJPE and 2D EPE at 256 px per set, realdev lstm2d and hxp3d headline numbers."""
    renders, real, scale = load(run, "eval_renders"), load(run, "eval_realdev"), 256 / crop_size(run)
    out = {"run": run}
    for s in RENDER_SETS:
        m = renders.get(s, {}).get("metrics", {})
        out[f"{s}_pa_mpjpe"] = m.get("pa_mpjpe")
        out[f"{s}_epe_2d_256"] = None if m.get("epe_2d") is None else m["epe_2d"] * scale
    lstm, hxp = real.get("lstm2d", {}).get("metrics", {}), real.get("hxp3d", {}).get("metrics", {})
    out |= {"lstm2d_pck": lstm.get("epe_2d_box_pck_0.2"), "lstm2d_epe": lstm.get("epe_2d"),
            "hxp3d_pa_mpjpe": hxp.get("pa_mpjpe"), "hxp3d_depth_error": hxp.get("depth_error")}
    return out


def fmt(v, digits: int = 1) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def markdown(rows: list[dict]) -> str:
    head = ("| run | " + " | ".join(f"{s} PA-MPJPE mm / 2D px" for s in RENDER_SETS)
            + " | lstm2d PCK@0.2 / EPE px | hxp3d PA-MPJPE / depth mm |")
    lines = [head, "|" + "---|" * (len(RENDER_SETS) + 3)]
    for r in rows:
        cells = [f"{fmt(r[f'{s}_pa_mpjpe'])} / {fmt(r[f'{s}_epe_2d_256'])}" for s in RENDER_SETS]
        lines.append(f"| {r['run']} | " + " | ".join(cells)
                     + f" | {fmt(r['lstm2d_pck'], 2)} / {fmt(r['lstm2d_epe'])} | {fmt(r['hxp3d_pa_mpjpe'])} / {fmt(r['hxp3d_depth_error'])} |")
    lines.append("| MediaPipe Hands (realdev README) | - | - | - | - | 0.99 / 6.1 (full frames) | 8.6 / - |")
    return "\n".join(lines) + "\n"


def figure(rows: list[dict], path: Path) -> None:
    """Bars: texture PA-MPJPE, lstm2d PCK@0.2 and hxp3d PA-MPJPE per run."""
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.2))
    names = [r["run"] for r in rows]
    for ax, key, title in zip(axes, ("texture_pa_mpjpe", "lstm2d_pck", "hxp3d_pa_mpjpe"),
                              ("renders (texture): PA-MPJPE mm", "real lstm2d: PCK@0.2 (box)", "real hxp3d: PA-MPJPE mm")):
        ax.barh(names, [r[key] or 0 for r in rows], color="tab:blue")
        ax.set_title(title, fontsize=9)
        ax.tick_params(labelsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", nargs="+", required=True, help="folders under docs/models")
    parser.add_argument("--out", default=str(ROOT / "docs" / "models" / "results"), help="output stem (.md/.json/.png)")
    args = parser.parse_args()
    rows = [row(r) for r in args.runs]
    out = Path(args.out)
    out.with_suffix(".md").write_text(markdown(rows))
    out.with_suffix(".json").write_text(json.dumps(rows, indent=1))
    figure(rows, out.with_suffix(".png"))
    print(markdown(rows))


if __name__ == "__main__":
    main()
