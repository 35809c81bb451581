"""The per-image picture `handclip predict` writes by default: every hand's overlay in one picture, drawn with
OpenCV at the image's own size and saved as PNG in about 2 ms a hand (the matplotlib 3D view takes about 0.2 s of
CPU a hand and is on request)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from handclip.data.synth.export import write_png
from handclip.viz.mesh_overlay import draw_hands


def save_overlay_png(path, image: np.ndarray, hands: list[tuple[dict, object]]) -> Path:
    """Write draw_hands(image, hands) (per (prediction, faces): mesh when known, 2D skeleton, a detection's box
    and label) as PNG `path`; returns it."""
    path = Path(path)
    write_png(path, draw_hands(image, hands))
    return path
