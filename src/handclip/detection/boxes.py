"""Box overlap and greedy non-maximum suppression on [x, y, w, h] boxes."""

from __future__ import annotations

import numpy as np


def _intersections(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(a (N, 4), b (M, 4) as float arrays, the intersection area of every pair (N, M))."""
    a, b = np.asarray(a, np.float64).reshape(-1, 4), np.asarray(b, np.float64).reshape(-1, 4)
    lo = np.maximum(a[:, None, :2], b[None, :, :2])
    hi = np.minimum(a[:, None, :2] + a[:, None, 2:], b[None, :, :2] + b[None, :, 2:])
    return a, b, np.prod(np.clip(hi - lo, 0, None), -1)


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union of every box of `a` (N, 4) with every box of `b` (M, 4): (N, M)."""
    a, b, inter = _intersections(a, b)
    union = (a[:, 2] * a[:, 3])[:, None] + (b[:, 2] * b[:, 3])[None] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def inside_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Share of the area of every box of `a` (N, 4) that lies inside every box of `b` (M, 4): (N, M)."""
    a, _, inter = _intersections(a, b)
    area = (a[:, 2] * a[:, 3])[:, None]
    return np.where(area > 0, inter / np.where(area > 0, area, 1), 0.0)


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float = 0.5, max_keep: int | None = None,
        inside_threshold: float | None = None) -> np.ndarray:
    """Indices of the boxes kept by greedy NMS, best score first: a box is dropped when it overlaps a kept,
    better-scoring box by more than `iou_threshold`, or (given `inside_threshold`) when more than that share of its
    own area lies inside one (a part of a hand boxed again inside the hand's box); at most `max_keep` are kept."""
    order = np.argsort(-np.asarray(scores, np.float64), kind="stable")
    overlap = iou_matrix(boxes, boxes)
    inside = inside_matrix(boxes, boxes) if inside_threshold is not None else None
    keep: list[int] = []
    for i in order:
        if max_keep is not None and len(keep) >= max_keep:
            break
        if all(overlap[i, j] <= iou_threshold and (inside is None or inside[i, j] <= inside_threshold) for j in keep):
            keep.append(int(i))
    return np.array(keep, np.int64)
