"""PCK curves of several methods on one domain in one PNG, for comparing methods in the quickstart report."""

from __future__ import annotations

from pathlib import Path

from handclip.viz.save import save_figure


def save_pck_comparison(path, curves: dict[str, dict], title: str, xlabel: str = "error threshold (mm)") -> Path:
    """Plot {method label: {'thresholds': [...], 'pck': [...], 'auc': float}} as lines; write `path`."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.5, 4.2))
    ax = fig.subplots()
    for label, curve in curves.items():
        ax.plot(curve["thresholds"], curve["pck"], label=f"{label} (AUC {curve['auc']:.3f})")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("PCK")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title(title)
    fig.tight_layout()
    return save_figure(fig, path)
