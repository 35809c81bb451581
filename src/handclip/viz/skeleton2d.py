"""The 2D skeleton drawn on an image: bones coloured per finger (handclip.skeleton.BONES), joints as dots."""

from __future__ import annotations

import cv2
import numpy as np

from handclip.skeleton import BONES, NUM_JOINTS
from handclip.viz.colours import joint_rgb


def draw_skeleton(image: np.ndarray, uv, valid=None, thickness: int | None = None) -> np.ndarray:
    """A copy of the RGB uint8 `image` with the 21 keypoints `uv` (px, pixel centres at integers) drawn.

    Bones take the colour of their child's finger; joints with valid=False and their bones are skipped.
    Line width scales with the image so small crops and large photos both stay readable.
    """
    uv = np.asarray(uv, dtype=np.float64)
    if uv.shape != (NUM_JOINTS, 2):
        raise ValueError(f"draw_skeleton needs uv of shape ({NUM_JOINTS}, 2), got {uv.shape}")
    valid = np.ones(NUM_JOINTS, bool) if valid is None else np.asarray(valid, bool)
    out = np.ascontiguousarray(image, dtype=np.uint8).copy()
    t = thickness or max(1, round(max(out.shape[:2]) / 150))
    shift = 4  # sub-pixel drawing: coordinates scaled by 2**shift
    pts = np.round(uv * (1 << shift)).astype(np.int64)
    for parent, child in BONES:
        if valid[parent] and valid[child] and np.isfinite(uv[[parent, child]]).all():
            cv2.line(out, tuple(map(int, pts[parent])), tuple(map(int, pts[child])), joint_rgb(child), t, cv2.LINE_AA, shift)
    for k in range(NUM_JOINTS):
        if valid[k] and np.isfinite(uv[k]).all():
            cv2.circle(out, tuple(map(int, pts[k])), (t + 1) << shift, joint_rgb(k), -1, cv2.LINE_AA, shift)
    return out
