"""CLIP-Hand3D's joint heatmap projections (paper Fig. 9): the xy, xz and yz planes beside each crop, as PNG."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from handclip.viz.save import save_figure

# plane name -> (horizontal axis, vertical axis) labels
PLANE_AXES = {"xy": ("u (x)", "v (y)"), "xz": ("u (x)", "d (z)"), "yz": ("d (z)", "v (y)")}


def save_heatmap_planes_png(path, images: list[np.ndarray], planes: list[dict[str, np.ndarray]], title: str) -> Path:
    """One row per sample: the crop (with its skeleton drawn by the caller) and the joints' maximum over
    each plane projection (rows, columns as in PLANE_AXES)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(12, 3 * len(images)))
    axes = fig.subplots(len(images), 4, squeeze=False)
    for row, (image, maps) in zip(axes, zip(images, planes)):
        row[0].imshow(image)
        row[0].set_axis_off()
        for ax, name in zip(row[1:], PLANE_AXES):
            ax.imshow(maps[name], cmap="magma", aspect="auto")
            ax.set_title(name, fontsize=9)
            ax.set_xlabel(PLANE_AXES[name][0], fontsize=8)
            ax.set_ylabel(PLANE_AXES[name][1], fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return save_figure(fig, path)
