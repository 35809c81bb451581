"""Letterboxing: a photo resized (aspect kept) into the middle of a square canvas, and boxes mapped both ways.

Coordinates put pixel centres at integers, as everywhere in handclip: a box [x, y, w, h] spans [x, x + w] in
those coordinates. A resize from W to W' px maps u to (u + 0.5) W'/W - 0.5, which is what cv2.resize does.
"""

from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np

PAD_VALUE = 114  # mid-grey canvas around the photo, in training and at inference alike


class Letterbox(NamedTuple):
    """The map photo -> canvas: u' = (u + 0.5) sx - 0.5 + px (and v likewise with sy, py)."""

    sx: float
    sy: float
    px: float
    py: float

    def to_canvas(self, boxes: np.ndarray) -> np.ndarray:
        """[x, y, w, h] boxes (..., 4) in photo pixels -> canvas pixels."""
        b = np.asarray(boxes, np.float64)
        return np.stack([(b[..., 0] + 0.5) * self.sx - 0.5 + self.px, (b[..., 1] + 0.5) * self.sy - 0.5 + self.py,
                         b[..., 2] * self.sx, b[..., 3] * self.sy], -1)

    def to_photo(self, boxes: np.ndarray) -> np.ndarray:
        """[x, y, w, h] boxes (..., 4) in canvas pixels -> photo pixels."""
        b = np.asarray(boxes, np.float64)
        return np.stack([(b[..., 0] - self.px + 0.5) / self.sx - 0.5, (b[..., 1] - self.py + 0.5) / self.sy - 0.5,
                         b[..., 2] / self.sx, b[..., 3] / self.sy], -1)


def letterbox(image: np.ndarray, size: int, scale: float | None = None,
              offset: tuple[int, int] | None = None) -> tuple[np.ndarray, Letterbox]:
    """The photo (H, W, 3) uint8 resized by `scale` (default: its longer side to `size` px) and pasted at
    integer `offset` (x, y) of a size x size grey canvas (default: centred); parts off the canvas are cut."""
    height, width = image.shape[:2]
    scale = size / max(height, width) if scale is None else float(scale)
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(image, (new_w, new_h), interpolation=interpolation) if (new_w, new_h) != (width, height) else image
    px, py = ((size - new_w) // 2, (size - new_h) // 2) if offset is None else (int(offset[0]), int(offset[1]))
    canvas = np.full((size, size, 3), PAD_VALUE, np.uint8)
    x0, y0, x1, y1 = max(px, 0), max(py, 0), min(px + new_w, size), min(py + new_h, size)
    if x1 > x0 and y1 > y0:
        canvas[y0:y1, x0:x1] = resized[y0 - py:y1 - py, x0 - px:x1 - px]
    return canvas, Letterbox(new_w / width, new_h / height, float(px), float(py))
