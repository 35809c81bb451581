"""The 2D skeleton drawn on an image: bones coloured per finger (handclip.skeleton.BONES), joints as dots; a
detected hand's box with its label."""

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


BOX_RGB = (255, 255, 255)


def draw_box(image: np.ndarray, box, label: str) -> np.ndarray:
    """A copy of the RGB uint8 `image` with the box [x, y, w, h] (px) outlined and `label` written at its top left,
    white on a dark band so it reads on any background."""
    out = np.ascontiguousarray(image, dtype=np.uint8).copy()
    x, y, w, h = (int(round(float(v))) for v in box)
    t = max(1, round(max(out.shape[:2]) / 300))
    cv2.rectangle(out, (x, y), (x + w, y + h), BOX_RGB, t, cv2.LINE_AA)
    scale = max(0.35, max(out.shape[:2]) / 700)
    (tw, th), base = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale, t)
    top = max(y, th + base + 2)
    cv2.rectangle(out, (x, top - th - base - 2), (x + tw + 4, top), (30, 30, 30), -1)
    cv2.putText(out, label, (x + 2, top - base - 1), cv2.FONT_HERSHEY_SIMPLEX, scale, BOX_RGB, t, cv2.LINE_AA)
    return out
