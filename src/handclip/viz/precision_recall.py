"""The hand detector's precision/recall curves, one per labelled set, with the operating point marked."""

from __future__ import annotations

from pathlib import Path

from handclip.viz.save import save_figure


def plot_precision_recall(curves: dict[str, dict], summaries: dict[str, dict], path, title: str = "") -> Path:
    """One curve per set (handclip.detection.evaluate.precision_recall), AP in the legend, a dot at each set's
    min_score (summarise's precision and recall there), written to `path`."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.5, 4.5))
    ax = fig.add_subplot(1, 1, 1)
    for k, (label, curve) in enumerate(curves.items()):
        s = summaries[label]
        ax.plot(curve["recall"], curve["precision"], color=f"C{k}", linewidth=1.4, label=f"{label} (AP {curve['ap']:.2f})")
        if s.get("precision_at_min_score") is not None:
            ax.plot([s["recall_at_min_score"]], [s["precision_at_min_score"]], "o", color=f"C{k}", markersize=5)
    ax.set(xlim=(0, 1.01), ylim=(0, 1.01), xlabel="recall (IoU >= 0.5)", ylabel="precision",
           title=title or "hand detector: precision / recall (dots: operating min_score)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    return save_figure(fig, path)
