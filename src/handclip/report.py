"""The quickstart report: results tables, PCK curves, sample overlays and logits matrices in report.md.

Takes the summary collected by handclip.quickstart.run; writes figures under figures/, the numbers in
results.json, and report.md linking both (relative paths, so the folder can be moved or committed).
"""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path

import numpy as np

from handclip.engine.evaluate import dataset_label
from handclip.viz.curves import save_pck_comparison
from handclip.viz.figure import save_prediction_png
from handclip.viz.grid import save_overlay_grid
from handclip.viz.logits import save_logits_png

# (metric key in Evaluator results, heading, format); lower is better except AUC
TABLES = (
    ("mpjpe", "MPJPE, wrist-relative (mm, lower is better)", "{:.1f}"),
    ("pa_mpjpe", "PA-MPJPE, Procrustes-aligned (mm, lower is better)", "{:.1f}"),
    ("mpjpe_auc_zb_20_50", "AUC of 3D PCK over 20-50 mm, wrist-relative (higher is better)", "{:.3f}"),
    ("epe_2d", "2D EPE in the crop (px, lower is better)", "{:.1f}"),
)
CURVE = ("mpjpe", "zb_20_50")


def _table(methods: list[dict], domains: list[str], key: str, fmt: str) -> list[str]:
    """A Markdown table: one row per method, one column per domain."""
    lines = ["| method | " + " | ".join(domains) + " |", "|---" * (len(domains) + 1) + "|"]
    for m in methods:
        cells = [fmt.format(m["results"][d]["metrics"][key]) if key in m["results"][d]["metrics"] else "-" for d in domains]
        lines.append(f"| {m['label']} | " + " | ".join(cells) + " |")
    return lines


def _pck_figures(methods: list[dict], domains: list[str], fig_dir: Path) -> dict[str, Path]:
    """One PNG per domain comparing the methods' wrist-relative 3D PCK curves."""
    key, grid = CURVE
    out = {}
    for d in domains:
        curves = {}
        for m in methods:
            res = m["results"][d]
            if key in res["curves"] and grid in res["curves"][key]:
                curves[m["label"]] = {**res["curves"][key][grid], "auc": res["metrics"][f"{key}_auc_{grid}"]}
        out[d] = save_pck_comparison(fig_dir / f"pck_{d.replace('/', '_')}.png", curves, f"3D PCK, {d}")
    return out


def _overlay_figures(methods: list[dict], domains: list[str], fig_dir: Path) -> dict[str, Path]:
    """One PNG per domain: ground truth then each method's 2D skeleton on the same samples."""
    out = {}
    for d in domains:
        first = methods[0]["samples"][d]
        rows = [[(s["image"], s["uv"]) for s in first]]
        rows += [[(s["image"], uv) for s, uv in zip(m["samples"][d], m["pred"][d]["uv"])] for m in methods]
        labels = ["ground truth"] + [m["label"] for m in methods]
        out[d] = save_overlay_grid(fig_dir / f"overlays_{d.replace('/', '_')}.png", rows, labels,
                                   [f"#{s.get('index', i)}" for i, s in enumerate(first)])
    return out


def _pose_figures(methods: list[dict], domain: str, fig_dir: Path) -> dict[str, Path]:
    """Per method: its prediction for the first image of `domain`, 2D overlay beside the 3D joints (and mesh)."""
    out = {}
    for m in methods:
        sample, pred = m["samples"][domain][0], {k: v[0] for k, v in m["pred"][domain].items()}
        out[m["label"]] = save_prediction_png(fig_dir / f"pose3d_{m['key']}.png", sample["image"], pred,
                                              m.get("faces"), f"{m['label']}, {domain} #{sample.get('index', 0)}")
    return out


def _json_ready(methods: list[dict]) -> list[dict]:
    """The per-method numbers without images and arrays."""
    return [{k: m[k] for k in ("key", "label", "config", "checkpoint", "input_size", "results")} for m in methods]


def write_report(summary: dict, out_dir: Path, wall_s: float) -> Path:
    """Write report.md, results.json and figures/ under `out_dir`; returns the report path.

    wall_s: seconds the run took before this call (the figures' time is added)."""
    tic = time.perf_counter()
    out_dir = Path(out_dir)
    fig_dir = out_dir / "figures"
    methods, domains = summary["methods"], summary["domains"]
    pck, overlays = _pck_figures(methods, domains, fig_dir), _overlay_figures(methods, domains, fig_dir)
    poses = _pose_figures(methods, domains[-1], fig_dir)
    logits = {m["key"]: save_logits_png(fig_dir / f"logits_{m['key']}.png", m["logits"], m["label"])
              for m in methods if m.get("logits")}
    stages = {**summary["stages_s"], "report figures": time.perf_counter() - tic}
    wall_s += stages["report figures"]
    (out_dir / "results.json").write_text(json.dumps(
        {"wall_s": wall_s, "stages_s": stages, "fast": summary["fast"], "device": summary["device"],
         "plan": summary["plan"], "methods": _json_ready(methods)}, indent=1))

    rel = lambda p: Path(p).relative_to(out_dir).as_posix()  # noqa: E731
    plan = summary["plan"]
    evaluated = ", ".join(f"`{d}` ({spec['n']} images)" for d, spec in zip(domains, plan["val"]))
    lines = [
        "# handclip quickstart report",
        "",
        f"Generated {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {platform.node() or 'this machine'} "
        f"({platform.machine()}, device {summary['device']}); total wall time **{wall_s / 60:.1f} min**"
        + (" in `--fast` mode (tiny data, numbers are meaningless)." if summary["fast"] else "."),
        "",
        f"Training data: `{dataset_label(plan['train'])}`, {plan['train']['n']} images. "
        f"Evaluation: {evaluated}; "
        "the first is the training domain, the others are unseen target domains. Protocol `synth`: "
        "joints relative to the wrist (absolute depth is unobservable from a crop).",
        "",
        "Weights are random-initialised here (no pretrained CLIP or backbone weights are available offline), "
        "and each method trains only for the quickstart budget, so these numbers show the pipeline working, "
        "not the papers' accuracy. The mean-pose row is the reference every method must beat.",
        "",
        "## Results",
    ]
    for key, heading, fmt in TABLES:
        lines += ["", f"### {heading}", "", *_table(methods, domains, key, fmt)]
    lines += ["", "## PCK curves", ""]
    lines += [f"![3D PCK on {d}]({rel(p)})" for d, p in pck.items()]
    lines += ["", "## Sample predictions", "", "Rows: ground truth, then each method; columns: the first images of each domain.", ""]
    for d, p in overlays.items():
        lines += [f"**{d}**", "", f"![overlays on {d}]({rel(p)})", ""]
    lines += [f"**3D predictions** on the first `{domains[-1]}` image (joints in the camera frame, wrist-relative; "
              "the mesh where the method has one):", ""]
    lines += [f"![3D {label}]({rel(p)})" for label, p in poses.items()]
    lines += ["", "## Logits matrices", ""]
    if logits:
        lines += [f"{plan['logits_batch']} images of `{domains[-1]}`. CLIP-Hand3D: pose-aware features (rows) against "
                  "the text features of each image's joint-order prompts (columns), one matrix per axis. DG-CLIP: "
                  "negative L1 distance between each image's Branch2 embedding e1' and every image's CLIP embedding "
                  "e2' (image tower plus a style prompt). A bright diagonal means each sample matches its own.", ""]
        lines += [f"![logits {k}]({rel(p)})" for k, p in logits.items()]
    else:
        lines += ["No method in this run exposes logits matrices."]
    lines += ["", "## Wall time per stage", "", "| stage | seconds |", "|---|---|"]
    lines += [f"| {name} | {sec:.0f} |" for name, sec in stages.items()]
    lines += ["", "Per-method metrics (JSON) and PCK curves are under `eval/<method>/<domain>/`; checkpoints under "
              "`runs/<method>/checkpoints/`; all numbers of this page in `results.json`.", ""]
    report = out_dir / "report.md"
    report.write_text("\n".join(lines))
    return report
