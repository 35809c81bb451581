"""Random hand poses within human joint limits, global orientations and FreiHAND-like camera framing.

Each finger is driven by one curl value in [0, 1] (0 open, 1 fist) that sets MCP, PIP and DIP
flexion between open and closed limits, plus noise, spread (MCP abduction) and palm cupping.
Grasp kinds: 'open', 'fist', 'point', 'pinch' (thumb tip brought to the index tip by a small
search) and 'relaxed' (correlated random curls). Angles below are degrees, flexion positive.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import numpy as np

from handclip.data.synth.mesh import GLTF_TO_VIEW, NUM_RIG_JOINTS, HandTemplate, forward_kinematics, keypoints
from handclip.geometry import axis_angle_to_matrix
from handclip.skeleton import MIDDLE_MCP, WRIST

KINDS = ("relaxed", "open", "fist", "point", "pinch")
KIND_PROBS = (0.4, 0.15, 0.15, 0.15, 0.15)
# rig joints of the four fingers (index..pinky): metacarpal, proximal (MCP), intermediate (PIP), distal (DIP)
FINGER_RIG = tuple((5 * f + 5, 5 * f + 6, 5 * f + 7, 5 * f + 8) for f in range(4))
THUMB_RIG = (1, 2, 3)  # metacarpal (CMC), proximal (MCP), distal (IP)
# flexion (deg) of MCP, PIP, DIP at curl 0 and 1, and the hard limits noise cannot pass
OPEN_FLEX = np.array([-5.0, 0.0, 0.0])
FIST_FLEX = np.array([85.0, 100.0, 60.0])
FLEX_LIMITS = (np.array([-25.0, -5.0, -10.0]), np.array([95.0, 115.0, 85.0]))
SPREAD = np.array([12.0, 2.0, -8.0, -18.0])  # MCP abduction (deg) of a fully spread hand, index..pinky
# thumb at curl 0 and 1: CMC flexion across the palm, CMC palmar abduction, MCP and IP flexion
THUMB_OPEN = np.array([-15.0, 0.0, 0.0, 0.0])
THUMB_CLOSED = np.array([45.0, 15.0, 45.0, 60.0])
PINCH_GAP = 12.0  # mm between thumb and index tip joints when the finger pads touch


class HandPose(NamedTuple):
    """Local joint rotations of the rig (25, 3, 3) and the grasp kind they were drawn as."""

    local_rot: np.ndarray
    kind: str


def rotation(axis: int, deg) -> np.ndarray:
    """Rotations (..., 3, 3) about coordinate axis `axis` (0 x, 1 y, 2 z) by `deg` degrees (right-handed)."""
    return axis_angle_to_matrix(np.multiply.outer(np.radians(np.asarray(deg, np.float64)), np.eye(3)[axis]))


rot_x, rot_y, rot_z = (partial(rotation, k) for k in range(3))


def thumb_angles(curl, rng: np.random.Generator, noise: float = 6.0) -> np.ndarray:
    """Thumb angles (..., 4) in degrees (CMC flexion, CMC palmar abduction, MCP, IP) for a curl in [0, 1]."""
    t = np.asarray(curl, np.float64)[..., None]
    th = THUMB_OPEN + t * (THUMB_CLOSED - THUMB_OPEN) + rng.normal(0, noise, t.shape[:-1] + (4,))
    th[..., 2:] = np.clip(th[..., 2:], -15, 80)
    return th


def articulate(finger_curl, thumb, spread, rng: np.random.Generator, noise: float = 6.0) -> np.ndarray:
    """Local rotations (..., 25, 3, 3) from finger curls (..., 4), thumb angles (..., 4) and spread (...,)."""
    finger_curl = np.asarray(finger_curl, np.float64)
    batch = finger_curl.shape[:-1]
    c = finger_curl[..., None]  # (..., 4, 1)
    flex = OPEN_FLEX + c * (FIST_FLEX - OPEN_FLEX) + rng.normal(0, noise, batch + (4, 3))
    flex[..., 2] = np.where(rng.random(batch + (4,)) < 0.8, 0.65 * flex[..., 1], flex[..., 2])  # DIP follows PIP
    flex = np.clip(flex, *FLEX_LIMITS)
    abd = SPREAD * np.asarray(spread)[..., None] * (1 - 0.7 * finger_curl) + rng.normal(0, 3, batch + (4,))
    cup = np.array([0.0, 0.0, 4.0, 8.0]) * finger_curl  # ring and little metacarpals fold with the fist
    fingers = np.asarray(FINGER_RIG)  # (4, 4) rig joints
    thumb = np.asarray(thumb, np.float64)
    # every joint turns about its local y (spread), then its local x (flexion: negative angles)
    ax, ay = np.zeros(batch + (NUM_RIG_JOINTS,)), np.zeros(batch + (NUM_RIG_JOINTS,))
    ax[..., fingers[:, 0]] = -cup
    for k in range(3):  # MCP, PIP, DIP
        ax[..., fingers[:, k + 1]] = -flex[..., k]
    ay[..., fingers[:, 1]] = abd
    ax[..., list(THUMB_RIG)] = -thumb[..., [0, 2, 3]]
    ay[..., THUMB_RIG[0]] = thumb[..., 1]
    rot = rot_y(ay) @ rot_x(ax)
    return rot


def _pinch(template: HandTemplate, rng: np.random.Generator, others: np.ndarray, spread: float) -> np.ndarray:
    """Rotations whose thumb and index tips meet: the closest pair on a grid of index curl and thumb angles."""
    grid = np.meshgrid(np.linspace(0.45, 0.8, 5), np.linspace(0, 60, 4), np.linspace(5, 35, 3),
                       np.linspace(-10, 60, 4), indexing="ij")
    idx_curl, cmc_flex, cmc_abd, bend = (g.ravel() for g in grid)
    curls = np.repeat(others[None], idx_curl.size, 0)
    curls[:, 0] = idx_curl
    thumb = np.stack([cmc_flex, cmc_abd, bend, 0.5 * bend + 10], -1)
    sub = np.random.default_rng(rng.integers(1 << 32))
    cand = articulate(curls, thumb, np.full(idx_curl.size, spread), sub, noise=3.0)
    kp = keypoints(forward_kinematics(template, cand))
    gap = np.linalg.norm(kp[:, 4] - kp[:, 8], axis=-1)
    return cand[np.argmin(np.abs(gap - PINCH_GAP))]


def sample_pose(template: HandTemplate, rng: np.random.Generator, kind: str | None = None) -> HandPose:
    """One random articulation of the given kind (drawn from KIND_PROBS when None)."""
    kind = kind or KINDS[rng.choice(len(KINDS), p=KIND_PROBS)]
    spread = rng.uniform(-0.2, 1.0)
    if kind == "relaxed":
        curls = np.clip(rng.uniform(0, 1) + rng.normal(0, 0.25, 4), 0, 1)
        thumb = thumb_angles(rng.uniform(0, 1), rng)
    elif kind == "open":
        curls, thumb, spread = rng.uniform(0, 0.15, 4), thumb_angles(rng.uniform(0, 0.3), rng), rng.uniform(0.3, 1.0)
    elif kind == "fist":
        curls, thumb = rng.uniform(0.8, 1.0, 4), thumb_angles(rng.uniform(0.6, 1.0), rng)
    elif kind == "point":
        curls = np.r_[rng.uniform(0, 0.15), rng.uniform(0.75, 1.0, 3)]
        thumb = thumb_angles(rng.uniform(0.5, 0.9), rng)
    elif kind == "pinch":
        others = rng.uniform(0, 0.2, 4) if rng.random() < 0.5 else rng.uniform(0.6, 1.0, 4)  # 'OK' or closed
        return HandPose(_pinch(template, rng, others, spread), kind)
    else:
        raise ValueError(f"unknown pose kind {kind!r}; known: {KINDS}")
    return HandPose(articulate(curls, thumb, spread, rng), kind)


class HandShape(NamedTuple):
    """Hand size (uniform scale about the wrist) and per-joint segment maps (25, 3, 3) of one sample."""

    scale: float
    maps: np.ndarray


PALM_RIG = (0, 5, 10, 15, 20)  # wrist and finger metacarpals: the palm's segments
# segments of each finger, thumb..little (the thumb's metacarpal moves like a phalanx)
DIGIT_RIG = ((1, 2, 3),) + tuple(f[1:] for f in FINGER_RIG)
SIZE_MM = (70.0, 100.0)  # wrist to middle MCP of adult hands, uniform
FINGER_LENGTH = (0.06, 0.02)  # half-ranges of the factor all fingers share and of each finger's own (+-8 % in all)
PALM_WIDTH = 0.08  # half-range of the palm's width factor (across the knuckles)
_ACROSS_PALM = np.array([0.0, 0.0, 1.0])  # glTF z: from the thumb side to the little finger side


def shape_maps(template: HandTemplate, fingers, palm_width: float) -> np.ndarray:
    """Segment maps (25, 3, 3): palm segments widen by `palm_width` across the palm, each digit's
    segments scale by its factor in `fingers` (5,: thumb..little), so length and girth go together."""
    maps = np.tile(np.eye(3), (NUM_RIG_JOINTS, 1, 1))
    widen = np.eye(3) + (palm_width - 1) * np.outer(_ACROSS_PALM, _ACROSS_PALM)
    for k in PALM_RIG:  # the palm's map in each joint's own frame
        R = template.rest_world[k, :3, :3]
        maps[k] = R.T @ widen @ R
    for f, joints in enumerate(DIGIT_RIG):
        maps[list(joints)] = fingers[f] * np.eye(3)
    return maps


def sample_shape(template: HandTemplate, rng: np.random.Generator) -> HandShape:
    """Adult hands vary: wrist to middle MCP uniform in SIZE_MM, finger lengths and palm width +-8 %."""
    fingers = 1 + rng.uniform(-1, 1) * FINGER_LENGTH[0] + rng.uniform(-1, 1, 5) * FINGER_LENGTH[1]
    maps = shape_maps(template, fingers, 1 + rng.uniform(-1, 1) * PALM_WIDTH)
    kp = keypoints(forward_kinematics(template, np.tile(np.eye(3), (NUM_RIG_JOINTS, 1, 1)), maps))
    return HandShape(rng.uniform(*SIZE_MM) / np.linalg.norm(kp[MIDDLE_MCP] - kp[WRIST]), maps)


def sample_wrist(rng: np.random.Generator) -> np.ndarray:
    """Wrist rotation relative to the forearm: flexion/extension and radial/ulnar deviation (3, 3)."""
    return rot_y(rng.uniform(-25, 15)) @ rot_x(rng.uniform(-50, 45))


def sample_orientation(rng: np.random.Generator, arm_depth: tuple[float, float] = (-0.3, 0.6)) -> np.ndarray:
    """Camera-from-glTF rotation (3, 3): palm or back to the camera, tilted, any in-plane angle (arm mostly low).

    The forearm (glTF +y) comes from a body behind or beside the hand and leaves the crop: orientations
    whose forearm depth component (towards +z, away from the camera) falls outside `arm_depth`
    are redrawn, so the arm neither points at the camera nor shrinks to a visible stump.
    """
    while True:  # candidates in batches of 8; the first acceptable one wins
        upright = rng.random(8) < 0.7
        roll = np.where(upright, rng.normal(0, 55, 8), rng.uniform(-180, 180, 8))
        R = rot_z(roll) @ rot_x(rng.uniform(-55, 55, 8)) @ rot_y(rng.uniform(-180, 180, 8)) @ GLTF_TO_VIEW
        ok = np.flatnonzero((R[:, 2, 1] >= arm_depth[0]) & (R[:, 2, 1] <= arm_depth[1]))
        if ok.size:
            return R[ok[0]]


def sample_intrinsics(rng: np.random.Generator, size: int) -> np.ndarray:
    """Crop intrinsics like FreiHAND's (focal about 2.2-2.8 crop widths, centred principal point)."""
    f = rng.uniform(2.1, 2.8) * size
    c = (size - 1) / 2 + rng.normal(0, 0.01 * size, 2)
    return np.array([[f, 0, c[0]], [0, f, c[1]], [0, 0, 1.0]])


def frame_points(points: np.ndarray, K: np.ndarray, size: int, fill: float, offset=(0.0, 0.0)) -> np.ndarray:
    """Translation (3,) putting `points` (wrist-relative, camera axes) so their box spans `fill` of the crop.

    The box centre lands at the image centre plus `offset` (fractions of the size).
    """
    f = K[0, 0]
    extent = np.ptp(points[:, :2], axis=0).max()
    depth = f * extent / (fill * size) - points[:, 2].min() + extent / 2
    t = np.array([0.0, 0.0, depth])
    for _ in range(2):  # re-centre the projected box (perspective makes it drift)
        p = points + t
        uv = p[:, :2] / p[:, 2:3] * f + K[:2, 2]
        centre = (uv.max(0) + uv.min(0)) / 2
        target = K[:2, 2] + np.asarray(offset) * size
        t[:2] += (target - centre) * t[2] / f
    return t
