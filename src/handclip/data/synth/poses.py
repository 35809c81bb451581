"""Hand poses from the pose prior, hand shapes, global orientations and FreiHAND-like camera framing.

pose_prior.py draws joint angles (an everyday hand shape with continuous variation, inside
anatomical limits); `articulate` turns them into rig rotations. A shape whose thumb touches a
fingertip (pinch, OK) takes that finger's and the thumb's angles from a grid, searched once, of those
that bring the two tip labels PINCH_GAP apart.
"""

from __future__ import annotations

from functools import lru_cache, partial
from typing import NamedTuple

import numpy as np

from handclip.data.synth.mesh import (GLTF_TO_VIEW, NUM_RIG_JOINTS, HandTemplate, forward_kinematics, keypoints,
                                      load_template)
from handclip.data.synth.pose_prior import (DIP_OF_PIP, HandAngles, draw_kind, get_kind, sample_angles,
                                            sample_wrist_angles, thumb_pronation)
from handclip.geometry import axis_angle_to_matrix
from handclip.skeleton import MIDDLE_MCP, WRIST

# rig joints of the four fingers (index..pinky): metacarpal, proximal (MCP), intermediate (PIP), distal (DIP)
FINGER_RIG = tuple((5 * f + 5, 5 * f + 6, 5 * f + 7, 5 * f + 8) for f in range(4))
THUMB_RIG = (1, 2, 3)  # metacarpal (CMC), proximal (MCP), distal (IP)
ABDUCTION_SIGN = np.array([1.0, 1.0, -1.0, -1.0])  # rig y rotation of +1 deg abduction, index..little
CUP = np.array([0.0, 0.0, 5.0, 10.0])  # ring and little metacarpals fold (deg) with a fully flexed knuckle
PINCH_GAP = 8.0  # mm between the thumb and index tip labels (surface vertices) when the pads touch


class HandPose(NamedTuple):
    """Local joint rotations of the rig (25, 3, 3), the joint angles and the hand-shape kind they were drawn as."""

    local_rot: np.ndarray
    kind: str
    angles: HandAngles


def rotation(axis: int, deg) -> np.ndarray:
    """Rotations (..., 3, 3) about coordinate axis `axis` (0 x, 1 y, 2 z) by `deg` degrees (right-handed)."""
    return axis_angle_to_matrix(np.multiply.outer(np.radians(np.asarray(deg, np.float64)), np.eye(3)[axis]))


rot_x, rot_y, rot_z = (partial(rotation, k) for k in range(3))


def articulate(angles: HandAngles) -> np.ndarray:
    """Local rotations (..., 25, 3, 3) of the rig from joint angles (pose_prior.HandAngles, batched or not).

    Every joint turns about its local y (abduction), then its local x (flexion: negative rig angles); the
    thumb metacarpal also about its own axis (local z: pronation, pose_prior.thumb_pronation).
    """
    fingers, thumb = np.asarray(angles.fingers), np.asarray(angles.thumb)
    batch = fingers.shape[:-2]
    rig = np.asarray(FINGER_RIG)  # (4, 4) rig joints
    ax, ay = np.zeros(batch + (NUM_RIG_JOINTS,)), np.zeros(batch + (NUM_RIG_JOINTS,))
    ax[..., rig[:, 0]] = -CUP * np.clip(fingers[..., 0] / 90.0, 0.0, 1.0)
    ax[..., rig[:, 1]] = -fingers[..., 0]
    ay[..., rig[:, 1]] = ABDUCTION_SIGN * fingers[..., 1]
    ax[..., rig[:, 2]] = -fingers[..., 2]
    ax[..., rig[:, 3]] = -fingers[..., 3]
    ax[..., list(THUMB_RIG)] = -thumb[..., [0, 2, 3]]
    ay[..., THUMB_RIG[0]] = thumb[..., 1]
    az = np.zeros(batch + (NUM_RIG_JOINTS,))
    az[..., THUMB_RIG[0]] = thumb_pronation(thumb)
    return rot_y(ay) @ rot_x(ax) @ rot_z(az)


@lru_cache(maxsize=4)
def _touching(finger: int) -> tuple[np.ndarray, np.ndarray]:
    """Angles of `finger` (0 index; (C, 4) as HandAngles.fingers rows) and of the thumb (C, 4) whose tips lie
    within 2 mm of PINCH_GAP on the rest hand: a grid searched once per process (the gap depends on
    these two chains only)."""
    template = load_template()
    grid = np.meshgrid(np.linspace(10, 80, 8), np.linspace(15, 90, 6), np.linspace(0, 50, 6),
                       np.linspace(10, 45, 4), np.linspace(0, 55, 5), np.linspace(0, 60, 4), indexing="ij")
    mcp, pip, cmc_flex, cmc_abd, mcp_t, ip_t = (g.ravel() for g in grid)
    digit = np.stack([mcp, np.zeros_like(mcp), pip, DIP_OF_PIP * pip], -1)
    fingers = np.zeros((len(mcp), 4, 4))
    fingers[:, finger] = digit
    thumb = np.stack([cmc_flex, cmc_abd, mcp_t, ip_t], -1)
    kp = keypoints(forward_kinematics(template, articulate(HandAngles(fingers, thumb))))
    near = np.abs(np.linalg.norm(kp[:, 4] - kp[:, 8 + 4 * finger], axis=-1) - PINCH_GAP) < 2.0
    return digit[near], thumb[near]


def _touch(angles: HandAngles, finger: int, rng: np.random.Generator) -> HandAngles:
    """The angles with `finger`'s and the thumb's replaced by a random pair whose tips touch (_touching)."""
    digits, thumbs = _touching(finger)
    pick = rng.integers(len(digits))
    fingers = angles.fingers.copy()
    fingers[finger] = digits[pick]
    return HandAngles(fingers, thumbs[pick].copy())


def sample_pose(template: HandTemplate, rng: np.random.Generator, kind: str | None = None) -> HandPose:
    """One random articulation of the named hand shape (pose_prior.KINDS; drawn from the mixture when None)."""
    kind = kind or draw_kind(rng)
    angles = sample_angles(rng, kind)
    touch = get_kind(kind).touch
    if touch is not None:
        angles = _touch(angles, touch, rng)
    return HandPose(articulate(angles), kind, angles)


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
FRONTAL, FRONTAL_SD = 0.5, 15.0  # share of views with the palm or back to the camera, their turn and tilt sigma (deg)
PALM_FIRST = 0.8  # share of those frontal views that show the palm: hands held up to a camera show the palm first
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
    """Wrist rotation relative to the forearm (3, 3): flexion/extension and radial/ulnar deviation (pose_prior)."""
    flexion, deviation = sample_wrist_angles(rng)
    return rot_y(deviation) @ rot_x(-flexion)


def sample_orientation(rng: np.random.Generator, arm_depth: tuple[float, float] = (-0.3, 0.6)) -> np.ndarray:
    """Camera-from-glTF rotation (3, 3): palm or back to the camera, tilted, any in-plane angle (arm mostly low).

    A FRONTAL share turns the palm (PALM_FIRST of them) or the back to the camera (turn and tilt of sigma
    FRONTAL_SD degrees), as people hold a hand up to a camera; the rest turn about the forearm uniformly and
    tilt +-55 deg.
    The forearm (glTF +y) comes from a body behind or beside the hand and leaves the crop: orientations
    whose forearm depth component (towards +z, away from the camera) falls outside `arm_depth`
    are redrawn, so the arm neither points at the camera nor shrinks to a visible stump.
    """
    while True:  # candidates in batches of 8; the first acceptable one wins
        upright = rng.random(8) < 0.7
        roll = np.where(upright, rng.normal(0, 55, 8), rng.uniform(-180, 180, 8))
        frontal = rng.random(8) < FRONTAL
        facing = 180.0 * (rng.random(8) >= PALM_FIRST) + rng.normal(0, FRONTAL_SD, 8)  # palm (0) or back (180) on
        turn = np.where(frontal, facing, rng.uniform(-180, 180, 8))
        tilt = np.where(frontal, rng.normal(0, FRONTAL_SD, 8), rng.uniform(-55, 55, 8))
        R = rot_z(roll) @ rot_x(tilt) @ rot_y(turn) @ GLTF_TO_VIEW
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
