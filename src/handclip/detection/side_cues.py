"""The two image cues a hand's side is made of (issue 13): whether the palm faces the camera (a mirror image
keeps it) and whether the triangle wrist -> index MCP -> little MCP turns counter-clockwise on the image (a
mirror image reverses it). A hand is left exactly when one of the two holds and not the other, so each cue is
the XOR of the side and the other cue.
"""

from __future__ import annotations

import numpy as np

from handclip.skeleton import INDEX_MCP, LITTLE_MCP, PARENTS, WRIST, palm_normal  # the palm triangle

BASES = [k for k, parent in enumerate(PARENTS) if parent == WRIST]  # each digit's first joint: with the wrist, the palm
TIPS = [k for k in range(len(PARENTS)) if k not in PARENTS]  # joints no bone leaves


def palm_facing(xyz, left) -> np.ndarray:
    """Whether each hand's palm faces the camera: joints (..., 21, 3) in the camera frame (camera at the origin),
    left (...) bool -> (...) bool. The palm's normal is (index MCP - wrist) x (little MCP - wrist) on a right hand
    and the opposite on a left one (its mirror image); it faces the camera when it points from the wrist to it."""
    xyz = np.asarray(xyz, np.float64)
    towards = (palm_normal(xyz) * -xyz[..., WRIST, :]).sum(-1) > 0
    return towards != np.asarray(left, bool)


def turns_counterclockwise(uv) -> np.ndarray:
    """Whether wrist -> index MCP -> little MCP runs counter-clockwise on the image (x right, y down): (..., 21, 2)
    px -> (...) bool. For joints in front of the camera this is palm_facing(xyz, left) XOR left (turn_label)."""
    uv = np.asarray(uv, np.float64)
    a, b = uv[..., INDEX_MCP, :] - uv[..., WRIST, :], uv[..., LITTLE_MCP, :] - uv[..., WRIST, :]
    return a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0] < 0


def turn_label(left, palm):
    """The orientation cue from the side and the palm cue: counter-clockwise exactly when left XOR palm
    (numpy or torch booleans)."""
    return left != palm


def curl_chirality(xyz) -> np.ndarray:
    """How far the fingertips stand out of the palm along its right-hand normal, (..., 21, 3) -> (...) in units of
    the joints: fingers curl (and the thumb opposes) towards the palm, so this is positive for a right hand's
    skeleton and negative for a left one's (every rendered and hxp3d right hand is positive). The side of a 3D
    skeleton read with no image: `curl_chirality(xyz) < 0` is a left hand."""
    xyz = np.asarray(xyz, np.float64)
    normal = palm_normal(xyz)
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True) + 1e-12
    palm = np.concatenate([xyz[..., [WRIST], :], xyz[..., BASES, :]], axis=-2).mean(-2)
    return ((xyz[..., TIPS, :] - palm[..., None, :]) * normal[..., None, :]).sum((-1, -2))
