"""Logits matrices (pose or image features vs text features over one batch) as heatmaps in one PNG."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from handclip.viz.save import save_figure


def save_logits_png(path, matrices: dict[str, np.ndarray], title: str) -> Path:
    """One heatmap per (B, B) matrix (rows: pose/image features, columns: text or CLIP features); a bright
    diagonal means each sample matches its own."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.2 * len(matrices), 4.0))
    axes = fig.subplots(1, len(matrices), squeeze=False)[0]
    for ax, (name, matrix) in zip(axes, matrices.items()):
        matrix = np.asarray(matrix, dtype=np.float64)
        im = ax.imshow(matrix, cmap="viridis")
        ticks = range(0, matrix.shape[0], max(1, matrix.shape[0] // 8))
        ax.set_xticks(ticks)
        ax.set_yticks(ticks)
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("text / CLIP feature")
        ax.set_ylabel("sample")
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    fig.suptitle(title)
    fig.tight_layout()
    return save_figure(fig, path)
