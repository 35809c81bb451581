"""One synthetic sample: shape and pose the hand, place the camera, light and render it over a background.

Hand size, finger lengths and palm width vary per sample (poses.sample_shape); painting (skin, sleeves,
objects, light, shadows, background, camera) is appearance.photograph's job.

Labels are exact: 'xyz' are the posed rig joints (canonical order, mm, camera frame) at the
benchmarks' definitions (articulation centres; fingertips are surface vertices, see rig.py), 'verts'
the skinned vertices of the same shaped hand, 'uv' their projections. 'valid' marks a keypoint
visible: its pixel is inside the image, covered by skin (hand or forearm; not background, sleeve or object), and the
nearest surface there lies at most VISIBLE_DEPTH[joint] mm in front of the joint (joints sit inside the
flesh; a finger or the arm crossing in front of a joint is farther than that). The mask covers hand and forearm.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import numpy as np

from handclip.data.synth.appearance import Limb, photograph
from handclip.data.synth.domains import sample_style
from handclip.data.synth.mesh import forearm, forward_kinematics, keypoints, load_template, skin, vertex_normals
from handclip.data.synth.poses import (frame_points, sample_intrinsics, sample_orientation, sample_pose, sample_shape,
                                      sample_wrist)
from handclip.data.synth.raster import image_shape

# mm per canonical joint: how far in front of a joint its own flesh can reach (measured on the rest
# hand seen from front, back and both sides, plus ~2 mm): thick at the wrist and palm, thin on fingers
VISIBLE_DEPTH = np.array([28.0, 24.0, 20.0] + [16.0] * 2 + ([20.0] + [16.0] * 3) * 4)
FILL = (0.45, 0.75)  # fraction of the crop spanned by the hand's larger box side (FreiHAND-like framing)
WRIST_TRIM = -2.0  # mm past the wrist joint (along the forearm) beyond which hand faces are not drawn


@lru_cache(maxsize=1)
def _arm():
    """Forearm mesh and normals in rest (glTF) axes; its normals never change with the hand pose."""
    t = load_template()
    v, f = forearm(t)
    return v, f, vertex_normals(v, f, np.arange(len(v)))


@lru_cache(maxsize=1)
def _drawn_faces() -> np.ndarray:
    """Hand faces that are drawn: the mesh's flared cuff from just before the wrist joint on is left to
    the forearm, whose rim would otherwise show as a seam (the cuff stays in the 'verts' labels)."""
    t = load_template()
    beyond = (t.vertices[t.faces][:, :, 1] > t.rest_world[0, 1, 3] + WRIST_TRIM).all(1)
    return t.faces[~beyond]


class PosedHand(NamedTuple):
    """A right hand in camera axes (mm): skinned vertices, 21 joints, forearm vertices and normals."""

    hand: np.ndarray  # (V, 3)
    joints: np.ndarray  # (21, 3)
    arm: np.ndarray  # (A, 3)
    arm_normals: np.ndarray  # (A, 3)

    def moved(self, shift: np.ndarray) -> "PosedHand":
        """The same hand translated by `shift` (3,) mm."""
        return PosedHand(self.hand + shift, self.joints + shift, self.arm + shift, self.arm_normals)


def pose_hand(rng: np.random.Generator, kind: str | None = None) -> PosedHand:
    """Draw a hand shape, pose (of hand-shape `kind`, default any) and global orientation; the wrist sits at
    the camera-frame origin."""
    t = load_template()
    pose = sample_pose(t, rng, kind)
    local = pose.local_rot.copy()
    local[0] = sample_wrist(rng)
    shape = sample_shape(t, rng)
    world = forward_kinematics(t, local, shape.maps)
    wrist = t.rest_world[0, :3, 3]
    R = sample_orientation(rng) * shape.scale  # rotation and hand size about the wrist
    hand = (skin(t, world, shape.maps) - wrist) @ R.T
    joints = (keypoints(world) - wrist) @ R.T
    arm_v, _, arm_n = _arm()
    return PosedHand(hand, joints, (arm_v - wrist) @ R.T, arm_n @ R.T / shape.scale)


def limb(posed: PosedHand, mirrored: bool = False) -> Limb:
    """The meshes appearance.photograph paints for a placed hand; `mirrored` for a left hand made by
    mirroring a right one (x -> -x, frame.mirrored): faces are rewound so they still face out."""
    t = load_template()
    hand_faces, arm_faces = _drawn_faces(), _arm()[1]
    if mirrored:
        hand_faces, arm_faces, weld_faces = hand_faces[:, ::-1], arm_faces[:, ::-1], t.faces[:, ::-1]
    else:
        weld_faces = t.faces
    return Limb(posed.hand, hand_faces, vertex_normals(posed.hand, weld_faces, t.weld), posed.arm, arm_faces,
                posed.arm_normals, posed.joints)


def render_sample(domain: str, rng: np.random.Generator, size: int = 224, restyle=None, style: dict | None = None) -> dict:
    """A right-hand sample: image, mask (hand+forearm), K, xyz, uv, verts, valid, style.

    `style` fixes style words ({'color': 'flower'}); `restyle` (optional) maps the drawn domains.Style
    to the one rendered (benchmarks switch features off)."""
    posed = pose_hand(rng)
    K = sample_intrinsics(rng, size)
    posed = posed.moved(frame_points(posed.hand, K, size, rng.uniform(*FILL), rng.normal(0, 0.04, 2)))
    drawn = sample_style(domain, rng, size, style)
    style = restyle(drawn) if restyle else drawn
    shot = photograph([limb(posed)], style, K, size, rng)
    joints = posed.joints
    uv = joints[:, :2] / joints[:, 2:] * K[[0, 1], [0, 1]] + K[:2, 2]
    valid = visible(uv, joints[:, 2], shot.cover, size)
    return {
        "image": shot.image, "mask": shot.mask, "K": K.astype(np.float32), "xyz": joints.astype(np.float32),
        "uv": uv.astype(np.float32), "valid": valid, "verts": posed.hand.astype(np.float32),
        "style": dict(style.words),
    }


def visible(uv: np.ndarray, depth: np.ndarray, frags, size) -> np.ndarray:
    """Keypoint visibility from the z-buffer: on a skin pixel whose surface is near the joint's depth.

    `size` is the image's (square) size or (h, w); surfaces that are not skin (sleeves, objects) come
    with depth 0 (appearance.Shot.cover), so they hide any joint behind them."""
    h, w = image_shape(size)
    px = np.round(uv).astype(np.int64)
    inside = (px[:, 0] >= 0) & (px[:, 0] < w) & (px[:, 1] >= 0) & (px[:, 1] < h)
    zbuf = np.full(h * w, np.inf)  # background: infinitely far, never covers a joint
    zbuf[frags.pixel] = frags.depth
    near = zbuf[np.where(inside, px[:, 1] * w + px[:, 0], 0)]
    return inside & np.isfinite(near) & (near >= depth - VISIBLE_DEPTH)
