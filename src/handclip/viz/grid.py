"""A grid of images with skeleton overlays (rows: methods or domains, columns: samples) in one PNG."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from handclip.viz.save import save_figure
from handclip.viz.skeleton2d import draw_skeleton


def save_overlay_grid(path, cells: list[list[tuple[np.ndarray, np.ndarray | None]]], row_labels: list[str],
                      col_titles: list[str] | None = None) -> Path:
    """cells[r][c] = (RGB image, uv (21, 2) or None); the skeleton is drawn where uv is given. Writes `path`."""
    from matplotlib.figure import Figure

    rows, cols = len(cells), max(len(r) for r in cells)
    fig = Figure(figsize=(2.2 * cols, 2.3 * rows))
    axes = fig.subplots(rows, cols, squeeze=False)
    for r, row in enumerate(cells):
        for c in range(cols):
            ax = axes[r][c]
            ax.set_xticks([])
            ax.set_yticks([])
            if c < len(row):
                image, uv = row[c]
                ax.imshow(image if uv is None else draw_skeleton(image, uv))
            else:
                ax.set_axis_off()
            if c == 0:
                ax.set_ylabel(row_labels[r], fontsize=9)
            if r == 0 and col_titles and c < len(col_titles):
                ax.set_title(col_titles[c], fontsize=9)
    fig.tight_layout()
    return save_figure(fig, path, palette=True)
