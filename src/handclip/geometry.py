"""Camera and hand geometry shared by data, models and evaluation; every function takes numpy or torch.

Conventions: millimetres, camera frame x right / y down / z forward; pixel centres at integer
coordinates (as OpenCV); joints on axis -2 in canonical order (handclip.skeleton).
"""

from __future__ import annotations

import numpy as np
import torch

from handclip.skeleton import LITTLE_MCP, MIDDLE_MCP, MIDDLE_PIP, WRIST


def _swap(a):
    """Transpose the last two axes (numpy or torch)."""
    return a.transpose(-1, -2) if isinstance(a, torch.Tensor) else np.swapaxes(a, -1, -2)


def _norm(a, keepdims=False):
    """Euclidean norm over the last axis."""
    if isinstance(a, torch.Tensor):
        return torch.linalg.norm(a, dim=-1, keepdim=keepdims)
    return np.linalg.norm(a, axis=-1, keepdims=keepdims)


def _dot(a, b):
    """Dot product over the last axis, kept as a length-1 axis."""
    return (a * b).sum(-1, keepdim=True) if isinstance(a, torch.Tensor) else (a * b).sum(-1, keepdims=True)


def _stack(items, axis):
    return torch.stack(items, dim=axis) if isinstance(items[0], torch.Tensor) else np.stack(items, axis=axis)


def _cross(a, b):
    return torch.linalg.cross(a, b, dim=-1) if isinstance(a, torch.Tensor) else np.cross(a, b)


def _inv(a):
    return torch.linalg.inv(a) if isinstance(a, torch.Tensor) else np.linalg.inv(a)


def project(xyz, K):
    """Pinhole projection of points (..., N, 3) with intrinsics (..., 3, 3) to pixels (..., N, 2)."""
    uvw = xyz @ _swap(K)
    return uvw[..., :2] / uvw[..., 2:3]


def backproject(uv, z, K):
    """Camera-frame points (..., N, 3) from pixels (..., N, 2) and depths (..., N)."""
    ones = uv[..., :1] * 0 + 1
    homog = torch.cat([uv, ones], -1) if isinstance(uv, torch.Tensor) else np.concatenate([uv, ones], -1)
    return (homog @ _swap(_inv(K))) * z[..., None]


def xyz_to_uvd(xyz, K, root: int = WRIST):
    """(u, v, d): pixels and depth relative to joint `root`, in mm."""
    uv = project(xyz, K)
    d = xyz[..., 2:3] - xyz[..., root : root + 1, 2:3]
    return torch.cat([uv, d], -1) if isinstance(uv, torch.Tensor) else np.concatenate([uv, d], -1)


def uvd_to_xyz(uvd, K, root_depth):
    """Inverse of xyz_to_uvd given the root's absolute depth (..., ) in mm."""
    root_depth = root_depth if isinstance(root_depth, (torch.Tensor, np.ndarray)) else np.asarray(root_depth)
    z = uvd[..., 2] + root_depth[..., None]
    return backproject(uvd[..., :2], z, K)


def square_box(uv, margin: float = 1.5, valid=None):
    """Square box (cx, cy, side) around keypoints: their bounding box centre, side = margin x longer edge."""
    uv = np.asarray(uv, dtype=np.float64)
    pts = uv if valid is None else uv[np.asarray(valid, bool)]
    if len(pts) == 0:
        raise ValueError("square_box needs at least one valid keypoint")
    lo, hi = pts.min(0), pts.max(0)
    cx, cy = (lo + hi) / 2
    return float(cx), float(cy), float(max(hi - lo) * margin)


def crop_affine(box, out_size: int) -> np.ndarray:
    """2x3 affine taking original pixels to pixels of the `out_size` crop of square box (cx, cy, side)."""
    cx, cy, side = box
    if side <= 0:
        raise ValueError(f"crop box side must be positive, got {side}")
    s = out_size / side
    return np.array([[s, 0, s * (side / 2 - cx) - 0.5], [0, s, s * (side / 2 - cy) - 0.5]])


def crop_K(K, box, out_size: int):
    """Intrinsics of the crop: the crop affine applied after K."""
    A = np.vstack([crop_affine(box, out_size), [0, 0, 1]])
    return (A @ np.asarray(K, dtype=np.float64)).astype(np.float32)


def crop_image(image: np.ndarray, box, out_size: int, border_value=(0, 0, 0)):
    """Crop and resize an HWC image to out_size x out_size; returns (crop, 2x3 affine)."""
    import cv2

    A = crop_affine(box, out_size)
    crop = cv2.warpAffine(
        image, A, (out_size, out_size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=border_value
    )
    return crop, A


def apply_affine(uv, A):
    """Apply a 2x3 affine to pixel coordinates (..., 2)."""
    return uv @ _swap(A[..., :2]) + A[..., None, :, 2] if A.ndim > 2 else uv @ A[:, :2].T + A[:, 2]


def palm_from_wrist(xyz, k: float = 0.5):
    """Replace slot 0 (wrist) by the palm centre wrist + k (middle MCP - wrist)."""
    out = xyz.clone() if isinstance(xyz, torch.Tensor) else np.array(xyz, copy=True)
    out[..., WRIST, :] = xyz[..., WRIST, :] + k * (xyz[..., MIDDLE_MCP, :] - xyz[..., WRIST, :])
    return out


def wrist_from_palm(xyz, k: float = 0.5):
    """Replace slot 0 (palm centre, as STB labels it) by the wrist, inverting palm_from_wrist."""
    if not 0 <= k < 1:
        raise ValueError(f"palm position k must be in [0, 1), got {k}")
    out = xyz.clone() if isinstance(xyz, torch.Tensor) else np.array(xyz, copy=True)
    out[..., WRIST, :] = (xyz[..., WRIST, :] - k * xyz[..., MIDDLE_MCP, :]) / (1 - k)
    return out


def root_point(xyz, root: str = "wrist"):
    """The root joint (..., 1, 3): 'wrist' or 'palm' (midpoint of wrist and middle MCP)."""
    if root == "wrist":
        return xyz[..., WRIST : WRIST + 1, :]
    if root == "palm":
        return 0.5 * (xyz[..., WRIST : WRIST + 1, :] + xyz[..., MIDDLE_MCP : MIDDLE_MCP + 1, :])
    raise ValueError(f"root must be 'wrist' or 'palm', got {root!r}")


def root_relative(xyz, root: str = "wrist"):
    """Points relative to the root ('wrist' or 'palm')."""
    return xyz - root_point(xyz, root)


def bone_length(xyz, bone: tuple[int, int] = (MIDDLE_MCP, MIDDLE_PIP)):
    """Length (...,) of the bone between joints bone[0] and bone[1] (default: middle MCP-PIP)."""
    return _norm(xyz[..., bone[1], :] - xyz[..., bone[0], :])


def normalise(xyz, root: str = "wrist", bone: tuple[int, int] = (MIDDLE_MCP, MIDDLE_PIP)):
    """Root-relative, bone-scale-normalised points; returns (xyz_n, root_xyz (..., 1, 3), scale (...,))."""
    r = root_point(xyz, root)
    scale = bone_length(xyz, bone)
    return (xyz - r) / scale[..., None, None], r, scale


def canonical_frame(xyz_n, eps: float = 1e-8):
    """Zimmermann & Brox canonical frame of wrist-relative points: returns (xyz_c, R), xyz_n = xyz_c @ R.

    The frame puts the middle MCP on the +y axis and the little MCP in the x-y plane with x > 0;
    R is a proper rotation (det +1) whose rows are the frame's axes in camera coordinates.
    """
    e_y = xyz_n[..., MIDDLE_MCP, :]
    e_y = e_y / (_norm(e_y, True) + eps)
    little = xyz_n[..., LITTLE_MCP, :]
    e_x = little - _dot(little, e_y) * e_y
    e_x = e_x / (_norm(e_x, True) + eps)
    e_z = _cross(e_x, e_y)
    R = _stack([e_x, e_y, e_z], -2)
    return xyz_n @ _swap(R), R


def axis_angle_to_matrix(v, eps: float = 1e-8):
    """Rotation matrices (..., 3, 3) from axis-angle vectors (..., 3) by Rodrigues' formula."""
    is_t = isinstance(v, torch.Tensor)
    theta = _norm(v, True)
    k = v / (theta + eps)
    kx, ky, kz = k[..., 0], k[..., 1], k[..., 2]
    zero = kx * 0
    Kx = _stack([_stack([zero, -kz, ky], -1), _stack([kz, zero, -kx], -1), _stack([-ky, kx, zero], -1)], -2)
    th = theta[..., None]
    eye = torch.eye(3, dtype=v.dtype, device=v.device) if is_t else np.eye(3)
    sin, cos = (torch.sin, torch.cos) if is_t else (np.sin, np.cos)
    return eye + sin(th) * Kx + (1 - cos(th)) * (Kx @ Kx)
