"""The quickstart report: results tables, PCK curves, sample overlays and logits matrices in report.md.

Takes the summary collected by handclip.quickstart.run; writes figures under figures/, the numbers in
results.json, and report.md linking both (relative paths, so the folder can be moved or committed).
One table per evaluated set (rendered domains, then real photos): a row per brief run and shipped model.
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

# (metric key in Evaluator results, column heading, format): a set's table has the columns its protocol reports
COLUMNS = (
    ("mpjpe", "MPJPE mm", "{:.1f}"),
    ("pa_mpjpe", "PA-MPJPE mm", "{:.1f}"),
    ("depth_error", "depth error mm", "{:.1f}"),
    ("mpjpe_auc_zb_20_50", "3D PCK AUC 20-50 mm", "{:.3f}"),
    ("epe_2d", "2D EPE px", "{:.1f}"),
    ("epe_2d_box_pck_0.2", "2D PCK@0.2 of the box", "{:.3f}"),
)
CURVE = ("mpjpe", "zb_20_50")
COLUMNS_NOTE = ("Wrist-relative MPJPE, PA-MPJPE (Procrustes-aligned), depth error (root-relative depth, mm) and 2D EPE "
                "(px in the crop the model saw: its input size, the `input` column, on renders; 256 px on real photos) "
                "are lower-is-better; the 3D PCK AUC and the 2D PCK at 0.2 of the labelled box's side are "
                "higher-is-better; `-`: not reported by the set's protocol.")


FLAT_NOTE = ("² 2D EPE over twice the mean pose's: the model's 2D output has not formed yet at this budget (DG-CLIP's "
             "heatmaps are still near zero, so their argmax falls anywhere in the map); its 3D columns come from "
             "another head and still mean something.")


def _flat_2d(methods: list[dict], label: str) -> set[str]:
    """Labels of the methods whose 2D EPE on `label` is over twice the mean pose's (no mean pose: none)."""
    mean = [m["results"][label]["metrics"].get("epe_2d") for m in methods if m["key"] == "mean_pose"]
    if not mean or mean[0] is None:
        return set()
    return {m["label"] for m in methods if m["results"][label]["metrics"].get("epe_2d", 0.0) > 2 * mean[0]}


def _table(methods: list[dict], label: str) -> list[str]:
    """A Markdown table of one evaluated set: a row per method, a column per metric its protocol reports; a 2D
    EPE that shows no 2D output formed yet is marked ² and explained under the table."""
    columns = [c for c in COLUMNS if any(c[0] in m["results"][label]["metrics"] for m in methods)]
    lines = ["| method | input | " + " | ".join(c[1] for c in columns) + " |", "|---" * (len(columns) + 2) + "|"]
    flat = _flat_2d(methods, label)
    for m in methods:
        metrics = m["results"][label]["metrics"]
        cells = [fmt.format(metrics[key]) + ("²" if key == "epe_2d" and m["label"] in flat else "")
                 if key in metrics else "-" for key, _, fmt in columns]
        lines.append(f"| {m['label']} | {m['input_size']} | " + " | ".join(cells) + " |")
    return lines + (["", FLAT_NOTE] if flat else [])


def _set_heading(label: str, result: dict, note: str) -> str:
    """'### label', with the set's sample count, protocol and `note`."""
    return f"### {label}: {result['num_samples']} images, protocol `{result['protocol']}`{note}"


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
    return [{**{k: m[k] for k in ("key", "label", "config", "checkpoint", "input_size", "results")},
             "shipped": bool(m.get("shipped"))} for m in methods]


def _shipped_lines(summary: dict) -> list[str]:
    """The report's paragraph on the shipped models (or why there are none)."""
    if not summary["plan"].get("shipped"):
        return ["Shipped models: not evaluated (the plan's `shipped` is off)."]
    if not summary.get("shipped"):
        return ["Shipped models: none (`handclip models` lists no pose model), so no shipped row."]
    names = ", ".join(f"`{name}`" for name in summary["shipped"])
    return [f"Shipped models ({names}): the package's trained pose models (`handclip models`), scored as shipped on "
            "the same sets and not trained here; rows marked `(shipped)`. Hand detectors are not pose models and are "
            "left out."]


def _real_lines(summary: dict) -> list[str]:
    """The report's paragraph on the real photos: which sets were scored, or that they were absent."""
    source, real = summary["plan"].get("realdev"), summary.get("real_sets", [])
    missing = summary.get("real_missing", [])
    if not source:
        return ["Real photos: not evaluated (the plan's `realdev` is off)."]
    lines = []
    if real:
        first = summary["plan"].get("realdev_n")
        lines.append(f"Real photos (`{source}`, evaluation only): " + ", ".join(f"`{d}`" for d in real)
                     + (f", the first {first} images of each" if first else "")
                     + "; every model sees the same crops, as that config defines them.")
    if missing:
        lines.append(f"The real photos were absent ({', '.join(f'`{p}`' for p in missing)} not found, from "
                     f"`{source}`, relative to the folder the quickstart ran in): no table for them.")
    return lines


def write_report(summary: dict, out_dir: Path, wall_s: float) -> Path:
    """Write report.md, results.json and figures/ under `out_dir`; returns the report path.

    wall_s: seconds the run took before this call (the figures' time is added)."""
    tic = time.perf_counter()
    out_dir = Path(out_dir)
    fig_dir = out_dir / "figures"
    methods, domains, real = summary["methods"], summary["domains"], summary.get("real_sets", [])
    pck, overlays = _pck_figures(methods, domains, fig_dir), _overlay_figures(methods, domains + real, fig_dir)
    poses = _pose_figures(methods, domains[-1], fig_dir)
    logits = {m["key"]: save_logits_png(fig_dir / f"logits_{m['key']}.png", m["logits"], m["label"])
              for m in methods if m.get("logits")}
    stages = {**summary["stages_s"], "report figures": time.perf_counter() - tic}
    wall_s += stages["report figures"]
    (out_dir / "results.json").write_text(json.dumps(
        {"wall_s": wall_s, "stages_s": stages, "fast": summary["fast"], "device": summary["device"],
         "plan": summary["plan"], "real_sets": real, "real_missing": summary.get("real_missing", []),
         "methods": _json_ready(methods)}, indent=1))

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
        "The brief runs start their pose networks from random weights (no ImageNet backbone can be had offline; "
        "the CLIP parts use the style CLIP `style-cpu` trained here on captioned renders, frozen) and train only "
        "for the quickstart budget, so their numbers show the pipeline working, not the papers' accuracy. The "
        "mean-pose row is the reference every method must beat.",
        "",
        *_shipped_lines(summary),
        "",
        *_real_lines(summary),
        "",
        "## Results",
        "",
        COLUMNS_NOTE,
    ]
    for i, d in enumerate(domains):
        where = ", the training domain" if i == 0 else ", unseen domain"
        lines += ["", _set_heading(d, methods[0]["results"][d], where), "", *_table(methods, d)]
    for d in real:
        lines += ["", _set_heading(d, methods[0]["results"][d], ", real photos"), "", *_table(methods, d)]
    lines += ["", "## PCK curves", ""]
    lines += [f"![3D PCK on {d}]({rel(p)})" for d, p in pck.items()]
    lines += ["", "## Sample predictions", "",
              "Rows: ground truth, then each method; columns: the first images of each set.", ""]
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
    lines += ["", "Per-method metrics (JSON) and PCK curves are under `eval/<method>/<set>/` (a shipped model's under "
              "`eval/zoo_<name>/<set>/`); checkpoints under `runs/<method>/checkpoints/`; all numbers of this page in "
              "`results.json`.", ""]
    report = out_dir / "report.md"
    report.write_text("\n".join(lines))
    return report
