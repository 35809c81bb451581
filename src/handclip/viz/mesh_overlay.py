"""The predicted mesh drawn into the photo with handclip's own z-buffer rasteriser (data/synth/raster.py).

Predictions hold a wrist-relative mesh (mm) and keypoints in image pixels, not an absolute camera pose,
so the mesh is placed by the scale and shift that best map the predicted joints' x, y onto their pixels
(a weak-perspective camera), rendered by a pinhole camera 10 m away with that scale (orthographic to
within 1-2 % over a hand's depth), shaded by the surface's slant to the camera and blended over the image.
"""

from __future__ import annotations

import numpy as np

from handclip.data.synth.mesh import vertex_normals
from handclip.data.synth.raster import interpolate, rasterize
from handclip.viz.skeleton2d import draw_box, draw_skeleton

CAMERA_DISTANCE_MM = 10_000.0
MESH_RGB = np.array([120.0, 170.0, 235.0])


def weak_perspective(xyz, uv) -> tuple[float, np.ndarray]:
    """(s, t): the scale (px/mm) and shift (px) minimising |s xyz[:, :2] + t - uv|^2 over the joints."""
    xy, uv = np.asarray(xyz, np.float64)[:, :2], np.asarray(uv, np.float64)
    xy_c, uv_c = xy - xy.mean(0), uv - uv.mean(0)
    s = float((xy_c * uv_c).sum() / max((xy_c**2).sum(), 1e-12))
    return s, uv.mean(0) - s * xy.mean(0)


def draw_mesh(image: np.ndarray, pred: dict, faces, alpha: float = 0.6) -> np.ndarray:
    """A copy of `image` with the mesh pred['verts'] (faces (F, 3)) blended in, placed by weak_perspective."""
    out = np.ascontiguousarray(image, dtype=np.uint8).copy()
    s, t = weak_perspective(pred["xyz"], pred["uv"])
    if not s > 0:  # joints and pixels disagree in orientation: nothing sensible to draw
        return out
    verts = np.asarray(pred["verts"], np.float64) + [0.0, 0.0, CAMERA_DISTANCE_MM]
    faces = np.asarray(faces, np.int64)
    f = s * CAMERA_DISTANCE_MM
    K = np.array([[f, 0.0, t[0]], [0.0, f, t[1]], [0.0, 0.0, 1.0]])
    height, width = out.shape[:2]
    size = max(height, width)
    # mirrored (left-hand) meshes wind the other way: keep both sides, the z-buffer picks the visible one
    frags = rasterize(verts, faces, K, size, cull_back=False)
    normals = vertex_normals(verts, faces, np.arange(len(verts)))
    shade = 0.35 + 0.65 * np.abs(interpolate(frags, faces, normals)[:, 2:3])
    rows, cols = frags.pixel // size, frags.pixel % size
    inside = (rows < height) & (cols < width)
    rows, cols = rows[inside], cols[inside]
    colour = shade[inside] * MESH_RGB
    out[rows, cols] = np.clip((1 - alpha) * out[rows, cols] + alpha * colour, 0, 255).astype(np.uint8)
    return out


def draw_overlay(image: np.ndarray, pred: dict, faces=None) -> np.ndarray:
    """The prediction over the image: its mesh (when it has verts and faces are known), then the 2D skeleton."""
    if pred.get("verts") is not None and faces is not None:
        image = draw_mesh(image, pred, faces)
    return draw_skeleton(image, pred["uv"])


def draw_hands(image: np.ndarray, hands: list[tuple[dict, object]]) -> np.ndarray:
    """Every hand of one image over it, as draw_overlay does, each (prediction, faces) in turn; a detected hand
    (one with a 'score') also gets its box and a 'side score' label, so one picture shows what was found."""
    for pred, faces in hands:
        image = draw_overlay(image, pred, faces)
        if "score" in pred:
            image = draw_box(image, pred["box"], f"{pred['side']} {pred['score']:.2f}")
    return image
