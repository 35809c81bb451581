"""The canonical 21-joint hand: joint names, kinematic tree, dataset index maps and left/right mirroring.

Canonical order (FreiHAND / MediaPipe): 0 wrist; 1-4 thumb; 5-8 index; 9-12 middle; 13-16 ring;
17-20 little; each finger root to tip. Names follow the CLIP-Hand3D prompts ("thumb fingertip",
"index MCP", "little PIP"), which call the four joints of every finger, thumb included,
MCP, PIP, DIP and fingertip.
"""

from __future__ import annotations

import numpy as np

NUM_JOINTS = 21
FINGERS = ("thumb", "index", "middle", "ring", "little")
JOINT_NAMES = ("wrist",) + tuple(
    f"{finger} {part}" for finger in FINGERS for part in ("MCP", "PIP", "DIP", "fingertip")
)
# kinematic parent of each joint (-1 for the wrist): each finger chain hangs off the wrist
PARENTS = (-1,) + tuple(0 if k % 4 == 1 else k - 1 for k in range(1, NUM_JOINTS))
# (parent, child) per bone, 20 bones, ordered as the joints
BONES = tuple((PARENTS[k], k) for k in range(1, NUM_JOINTS))
# finger of each joint (-1 for the wrist), for colouring skeleton drawings
FINGER_OF_JOINT = (-1,) + tuple((k - 1) // 4 for k in range(1, NUM_JOINTS))
WRIST, INDEX_MCP, MIDDLE_MCP, MIDDLE_PIP, LITTLE_MCP = 0, 5, 9, 10, 17

# canonical slot k takes source index SOURCE_TO_CANONICAL[src][k]: canon = src_array[idx]
SOURCE_TO_CANONICAL: dict[str, tuple[int, ...]] = {
    "canonical": tuple(range(21)),
    "freihand": tuple(range(21)),
    "mediapipe": tuple(range(21)),
    # RHD per hand (left 0-20, right 21-41: add 21): wrist, then each finger tip to MCP
    "rhd": (0, 4, 3, 2, 1, 8, 7, 6, 5, 12, 11, 10, 9, 16, 15, 14, 13, 20, 19, 18, 17),
    # STB: index 0 is the palm centre (not the wrist), then little, ring, middle, index, thumb tip to MCP
    "stb": (0, 17, 18, 19, 20, 13, 14, 15, 16, 9, 10, 11, 12, 5, 6, 7, 8, 1, 2, 3, 4),
    # MANO's 16 joints (wrist, index, middle, little, ring, thumb; 3 each) + 5 tips (thumb..little)
    "mano": (0, 13, 14, 15, 20, 1, 2, 3, 16, 4, 5, 6, 17, 10, 11, 12, 19, 7, 8, 9, 18),
    # InterHand2.6M per hand (right 0-20, left 21-41: add 21): each finger tip to MCP, wrist last
    "interhand": (20, 3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12, 19, 18, 17, 16),
    # WebXR hand rig's 25 joints (XRHandJoint order); finger metacarpals 5, 10, 15, 20 dropped
    "webxr": (0, 1, 2, 3, 4, 6, 7, 8, 9, 11, 12, 13, 14, 16, 17, 18, 19, 21, 22, 23, 24),
}

_WEBXR_FINGER_PARTS = ("metacarpal", "phalanx-proximal", "phalanx-intermediate", "phalanx-distal", "tip")
# the 25 joints of the WebXR Hand Input spec, in XRHandJoint order (the "webxr" map indexes these)
WEBXR_JOINT_NAMES = (
    ("wrist", "thumb-metacarpal", "thumb-phalanx-proximal", "thumb-phalanx-distal", "thumb-tip")
    + tuple(f"{f}-finger-{p}" for f in ("index", "middle", "ring", "pinky") for p in _WEBXR_FINGER_PARTS)
)


def to_canonical(array, source: str, offset: int = 0):
    """Reorder joints (axis -2) of `array` from dataset `source` to canonical order.

    `offset` selects the hand in two-hand layouts (RHD right hand: 21; InterHand left hand: 21).
    """
    if source not in SOURCE_TO_CANONICAL:
        raise KeyError(f"unknown joint order {source!r}; known: {sorted(SOURCE_TO_CANONICAL)}")
    idx = np.asarray(SOURCE_TO_CANONICAL[source]) + offset
    if array.shape[-2] <= idx.max():
        raise ValueError(
            f"{source} joints need at least {idx.max() + 1} rows on axis -2, got shape {tuple(array.shape)}"
        )
    return array[..., idx, :]


def mirror_image(image: np.ndarray) -> np.ndarray:
    """Flip an HWC (or HW) image left-right."""
    return np.ascontiguousarray(image[:, ::-1])


def mirror_uv(uv, width: int):
    """Mirror pixel coordinates of an image `width` wide (pixel centres at integers: u' = W-1-u)."""
    out = uv.clone() if hasattr(uv, "clone") else np.array(uv, copy=True)
    out[..., 0] = (width - 1) - out[..., 0]
    return out


def mirror_xyz(xyz):
    """Mirror camera-frame points through the y-z plane (x' = -x): a left hand becomes a right hand."""
    out = xyz.clone() if hasattr(xyz, "clone") else np.array(xyz, copy=True)
    out[..., 0] = -out[..., 0]
    return out


def mirror_K(K, width: int):
    """Intrinsics of the mirrored image, so that project(mirror_xyz(X), mirror_K(K)) = mirror_uv(uv).

    Exact when K has no skew (K[0, 1] = 0), which holds for every dataset here.
    """
    out = K.clone() if hasattr(K, "clone") else np.array(K, copy=True)
    out[..., 0, 2] = (width - 1) - out[..., 0, 2]
    return out


def palm_normal(xyz) -> np.ndarray:
    """(index MCP - wrist) x (little MCP - wrist) of 3D joints (..., 21, 3): out of a right hand's palm (out of a left
    hand's back), not normalised."""
    xyz = np.asarray(xyz, np.float64)
    wrist = xyz[..., WRIST, :]
    return np.cross(xyz[..., INDEX_MCP, :] - wrist, xyz[..., LITTLE_MCP, :] - wrist)


def angles_off_palm_axis(joints, which) -> np.ndarray:
    """Angle (deg, (..., len(which))) at the wrist between each joint of `which` and the middle MCP: how far, say,
    the thumb stands off the palm's long axis. 3D joints (..., 21, 3) are first projected into the palm's plane
    (normal (index MCP - wrist) x (little MCP - wrist)); 2D image points (..., 21, 2) are taken as they lie."""
    v = np.asarray(joints, np.float64)
    v = v - v[..., WRIST:WRIST + 1, :]
    if v.shape[-1] == 3:
        normal = palm_normal(v)
        normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
        v = v - (v * normal[..., None, :]).sum(-1, keepdims=True) * normal[..., None, :]
    axis, points = v[..., MIDDLE_MCP:MIDDLE_MCP + 1, :], v[..., list(which), :]
    cos = (points * axis).sum(-1) / np.maximum(np.linalg.norm(points, axis=-1) * np.linalg.norm(axis, axis=-1), 1e-9)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))
