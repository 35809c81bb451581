"""Learning curves as one small PNG: training losses, learning rate, validation 2D EPE and 3D errors per step.

One run: every loss term, one colour per curve. Several runs (overlay): one colour per run, one line style
per curve, and only the total loss of each run so the panel stays readable.
"""

from __future__ import annotations

from pathlib import Path

from handclip.protocols import ROW_UNITS
from handclip.viz.save import save_figure

_STYLES = ("-", "--", ":", "-.")
_LOG_SPAN = 10.0  # log-y once the plotted values span more than this factor


def loss_keys(curves: dict, overlay: bool) -> list[str]:
    """The training series drawn in the loss panel: 'loss' and the 'loss_*' terms (only 'loss' in an overlay)."""
    keys = [k for k in curves["train"]["series"] if k == "loss" or (k.startswith("loss_") and not overlay)]
    return [k for k in keys if any(v for v in curves["train"]["series"][k])]  # all-zero terms are switched off


def metric_keys(curves: dict, unit: str) -> list[tuple[str, str]]:
    """(validation set, metric) pairs whose metric is in `unit` (px: 2D EPE; mm: MPJPE, PA-MPJPE, depth, ...)."""
    return [(label, key) for label, entry in curves["val"].items() for key in entry["metrics"]
            if ROW_UNITS.get(key) == unit]


def _line(ax, steps, values, run: int, curve: int, overlay: bool, label: str, marker=None) -> list[float]:
    """Draw one curve, skipping missing points; returns the values drawn."""
    points = [(s, v) for s, v in zip(steps, values) if v is not None]
    if not points:
        return []
    colour = f"C{run % 10}" if overlay else f"C{curve % 10}"
    style = _STYLES[curve % len(_STYLES)] if overlay else "-"
    ax.plot(*zip(*points), style, color=colour, marker=marker, markersize=3, linewidth=1.2, label=label)
    return [v for _, v in points]


def _finish(ax, title: str, ylabel: str, drawn: list[float]) -> None:
    """Title, labels, grid, legend, and a log y axis when the positive values span a wide range."""
    ax.set(title=title, xlabel="step", ylabel=ylabel)
    ax.grid(alpha=0.3)
    if drawn and min(drawn) > 0 and max(drawn) / min(drawn) > _LOG_SPAN:
        ax.set_yscale("log")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=6)
    else:
        ax.text(0.5, 0.5, "not logged", ha="center", va="center", transform=ax.transAxes, color="grey")


def plot_curves(runs: list[dict], path, title: str = "", names: list[str] | None = None) -> Path:
    """Four panels (losses, learning rate, 2D EPE, 3D errors) of the curves of handclip.engine.curves.collect,
    one run or several overlaid, written to `path`; `names` label the runs (default: their 'run' entries)."""
    from matplotlib.figure import Figure

    names = names or [c.get("run", f"run {i}") for i, c in enumerate(runs)]
    overlay = len(runs) > 1
    fig = Figure(figsize=(10, 7))
    ax_loss, ax_lr, ax_2d, ax_3d = fig.subplots(2, 2).ravel()
    drawn = {ax: [] for ax in (ax_loss, ax_lr, ax_2d, ax_3d)}
    for r, (curves, name) in enumerate(zip(runs, names)):
        prefix = f"{name}: " if overlay else ""
        train = curves["train"]
        for i, key in enumerate(loss_keys(curves, overlay)):
            drawn[ax_loss] += _line(ax_loss, train["step"], train["series"][key], r, i, overlay, prefix + key)
        if "lr" in train["series"]:
            drawn[ax_lr] += _line(ax_lr, train["step"], train["series"]["lr"], r, 0, overlay, prefix + "lr")
        for ax, unit in ((ax_2d, "px"), (ax_3d, "mm")):
            for i, (label, key) in enumerate(metric_keys(curves, unit)):
                entry = curves["val"][label]
                drawn[ax] += _line(ax, entry["step"], entry["metrics"][key], r, i, overlay,
                                   f"{prefix}{label} {key}", marker="o")
    _finish(ax_loss, "training losses", "loss", drawn[ax_loss])
    _finish(ax_lr, "learning rate", "lr", drawn[ax_lr])
    _finish(ax_2d, "validation 2D error", "EPE (px)", drawn[ax_2d])
    _finish(ax_3d, "validation 3D errors", "error (mm)", drawn[ax_3d])
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return save_figure(fig, path, dpi=80)
