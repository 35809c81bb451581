"""The per-image picture `handclip predict` writes by default: the overlay alone, drawn with OpenCV at the
image's own size and saved as PNG in about 2 ms (the matplotlib 3D view takes about 0.2 s of CPU and is on request)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from handclip.data.synth.export import write_png
from handclip.viz.mesh_overlay import draw_overlay


def save_overlay_png(path, image: np.ndarray, pred: dict, faces=None) -> Path:
    """Write draw_overlay(image, pred, faces) (mesh when known, then the 2D skeleton) as PNG `path`; returns it."""
    path = Path(path)
    write_png(path, draw_overlay(image, pred, faces))
    return path
