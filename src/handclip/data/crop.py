"""Square hand crops with an optional in-plane rotation, keeping image, intrinsics and 3D labels consistent.

A crop is the affine of handclip.geometry.crop_affine (box -> out_size pixels), optionally after
rotating the image by `angle` degrees about the box centre. An in-plane image rotation is a camera
roll: points become xyz' = xyz R^T (R rotates about the optical axis) and the intrinsics become
K' = A K R^T, so project(xyz', K') equals the warped labels exactly. K' is a plain pinhole matrix
(no skew) when fx == fy, which holds for FreiHAND/RHD/real-world crops; with fx != fy (STB SK:
607.92 vs 607.88) K' carries a tiny off-diagonal term instead of breaking the projection.
"""

from __future__ import annotations

import cv2
import numpy as np

from handclip.geometry import crop_affine, project
from handclip.skeleton import MIDDLE_MCP, WRIST


def roll_matrix(angle_deg: float) -> np.ndarray:
    """3x3 camera-roll rotation about the optical axis, acting on (x, y) like the pixel rotation."""
    a = np.deg2rad(angle_deg)
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def hand_tilt(uv) -> float:
    """The roll (degrees, crop_transform's sense) that turns a hand's 2D joints (21, 2) upright: its wrist straight
    below its middle-finger MCP on the image; 0 when either joint is unlabelled."""
    uv = np.asarray(uv, np.float64)
    v = uv[MIDDLE_MCP] - uv[WRIST]
    if not np.isfinite(v).all() or not v.any():
        return 0.0
    return float((-90.0 - np.degrees(np.arctan2(v[1], v[0])) + 180.0) % 360.0 - 180.0)


def crop_transform(box, out_size: int, angle_deg: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """(A 2x3 pixel affine, R 3x3 roll): rotate about the box centre by angle_deg, then crop the box."""
    cx, cy, _ = box
    R = roll_matrix(angle_deg)
    rot = np.eye(3)
    rot[:2, :2] = R[:2, :2]
    rot[:2, 2] = np.array([cx, cy]) - R[:2, :2] @ np.array([cx, cy])
    A = np.vstack([crop_affine(box, out_size), [0.0, 0.0, 1.0]]) @ rot
    return A[:2], R


def crop_hand(image: np.ndarray, K, xyz, box, out_size: int, angle_deg: float = 0.0, verts=None, mask=None) -> dict:
    """Crop (and roll) one hand view; returns image, K, xyz, uv (projected), verts, mask and the affine."""
    A, R = crop_transform(box, out_size, angle_deg)
    A3 = np.vstack([A, [0.0, 0.0, 1.0]])
    out = {
        "image": cv2.warpAffine(image, A, (out_size, out_size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT),
        "K": A3 @ np.asarray(K, np.float64) @ R.T,
        "xyz": np.asarray(xyz, np.float64) @ R.T,
        "affine": A,
    }
    out["uv"] = project(out["xyz"], out["K"])
    if verts is not None:
        out["verts"] = np.asarray(verts, np.float64) @ R.T
    if mask is not None:
        out["mask"] = cv2.warpAffine(mask, A, (out_size, out_size), flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT)
    return out


def full_box(height: int, width: int) -> tuple[float, float, float]:
    """The square box (cx, cy, side) covering a whole image (its longer edge), pixel centres at integers."""
    return (width - 1) / 2, (height - 1) / 2, float(max(height, width))
