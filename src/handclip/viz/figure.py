"""One PNG per prediction: the 2D skeleton on the image beside a 3D view of joints and mesh."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from handclip.viz.pose3d import plot_pose3d
from handclip.viz.save import save_figure
from handclip.viz.mesh_overlay import draw_overlay


def prediction_figure(image: np.ndarray, pred: dict, faces=None, title: str | None = None):
    """A matplotlib Figure (Agg, no pyplot state): left the overlay (mesh drawn in when given), right the 3D joints (+ mesh).

    `pred` holds 'uv' (21, 2) px in `image`, 'xyz' (21, 3) mm and optionally 'verts' (V, 3) mm.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 4.5), dpi=100)
    FigureCanvasAgg(fig)
    ax2d = fig.add_subplot(1, 2, 1)
    ax2d.imshow(draw_overlay(image, pred, faces))
    ax2d.set_axis_off()
    if title:
        ax2d.set_title(title)
    ax3d = fig.add_subplot(1, 2, 2, projection="3d")
    plot_pose3d(ax3d, pred["xyz"], pred.get("verts"), faces if pred.get("verts") is not None else None)
    fig.tight_layout()
    return fig


def save_prediction_png(path, image: np.ndarray, pred: dict, faces=None, title: str | None = None) -> Path:
    """Write prediction_figure(...) to `path` (parents created) and return the path."""
    return save_figure(prediction_figure(image, pred, faces, title), path)
