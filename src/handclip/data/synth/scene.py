"""One synthetic sample: shape and pose the hand, place the camera, light and render it over a background.

Hand size, finger lengths and palm width vary per sample (poses.sample_shape); the key light casts
shadows (shadow.py); skin albedo has lighter palms and nails and darker creases.

Labels are exact: 'xyz' are the posed rig joints (canonical order, mm, camera frame) at the
benchmarks' definitions (articulation centres; fingertips are surface vertices, see rig.py), 'verts'
the skinned vertices of the same shaped hand, 'uv' their projections. 'valid' marks a keypoint
visible: its pixel is inside the image, covered by skin (hand or forearm, not background), and the
nearest surface there lies at most VISIBLE_DEPTH[joint] mm in front of the joint (joints sit inside the
flesh; a finger or the arm crossing in front of a joint is farther than that). The mask covers hand and forearm.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import numpy as np

from handclip.data.synth import backgrounds, effects
from handclip.data.synth.domains import Style, sample_style
from handclip.data.synth.mesh import forearm, forward_kinematics, keypoints, load_template, skin, vertex_normals
from handclip.data.synth.poses import (frame_points, sample_intrinsics, sample_orientation, sample_pose, sample_shape,
                                      sample_wrist)
from handclip.data.synth.raster import Light, composite, interpolate, rasterize, shade, to_linear, to_srgb8
from handclip.data.synth.shadow import lit_fraction

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


@lru_cache(maxsize=1)
def _skin_map() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-vertex (palm, crease, nail) weights of the rest hand, in [0, 1] and equal on seam duplicates.

    Palm: how much the rest normal faces away from the back of the hand (-x). Crease: how concave the
    surface is (normal vs. the offset to the mean of the welded neighbours), a cheap stand-in for
    ambient occlusion in knuckle and palm creases. Nail: the back (joint +y) of the outer part of
    each distal phalanx.
    """
    t = load_template()
    v = t.vertices.astype(np.float64)
    n = vertex_normals(v, t.faces, t.weld)
    f = t.weld[t.faces]
    acc, cnt = np.zeros_like(v), np.zeros(len(v))
    for a, b in ((0, 1), (1, 2), (2, 0), (1, 0), (2, 1), (0, 2)):
        np.add.at(acc, f[:, a], v[f[:, b]])
        np.add.at(cnt, f[:, a], 1)
    offset = acc[t.weld] / np.maximum(cnt[t.weld], 1)[:, None] - v
    concave = np.clip(((n * offset).sum(1) + 0.2) / 1.0, 0, 1)
    bone = t.skin_joints[np.arange(len(v)), t.skin_weights.argmax(1)]
    nail = np.zeros(len(v))
    for d in (3, 8, 13, 18, 23):  # distal joints; each tip joint is d + 1
        base, axis = t.rest_world[d, :3, 3], t.rest_world[d + 1, :3, 3] - t.rest_world[d, :3, 3]
        along = (v - base) @ axis / (axis @ axis)
        w = np.clip((n @ t.rest_world[d, :3, 1] - 0.3) / 0.3, 0, 1) * np.clip((along - 0.15) / 0.15, 0, 1) * (along < 1.1)
        nail = np.where((bone == d) | (bone == d + 1), np.maximum(nail, w), nail)
    return np.clip(-n[:, 0], 0, 1), concave, nail[t.weld]


def _albedo(style: Style, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Linear albedo of hand vertices (lighter, pinker palms and nails; darker creases; blotches) and of the forearm."""
    t = load_template()
    skin_lin = to_linear(style.skin_rgb)
    palm, crease, nail = _skin_map()
    palm_lin = to_linear(np.clip(style.skin_rgb * np.array([1.06, 1.02, 1.02]) + 10, 0, 255))
    nail_lin = to_linear(0.55 * style.skin_rgb + 0.45 * np.array([242.0, 212.0, 205.0]))
    hand = skin_lin * (1 - palm[:, None]) + palm_lin * palm[:, None]
    hand = hand * (1 - nail[:, None]) + nail_lin * nail[:, None]
    blotch = 1 + rng.normal(0, 0.04, len(palm))[t.weld]  # one value per welded vertex: no seams
    hand = hand * (blotch * (1 - 0.35 * crease))[:, None]
    return hand, np.tile(skin_lin * 0.97, (len(_arm()[0]), 1))


class PosedHand(NamedTuple):
    """A right hand in camera axes (mm): skinned vertices, 21 joints, forearm vertices and normals."""

    hand: np.ndarray  # (V, 3)
    joints: np.ndarray  # (21, 3)
    arm: np.ndarray  # (A, 3)
    arm_normals: np.ndarray  # (A, 3)

    def moved(self, shift: np.ndarray) -> "PosedHand":
        """The same hand translated by `shift` (3,) mm."""
        return PosedHand(self.hand + shift, self.joints + shift, self.arm + shift, self.arm_normals)


def pose_hand(rng: np.random.Generator) -> PosedHand:
    """Draw a hand shape, pose and global orientation; the wrist sits at the camera-frame origin."""
    t = load_template()
    pose = sample_pose(t, rng)
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


def render_sample(domain: str, rng: np.random.Generator, size: int = 224) -> dict:
    """A right-hand sample: image, mask (hand+forearm), K, xyz, uv, verts, valid, style."""
    posed = pose_hand(rng)
    K = sample_intrinsics(rng, size)
    posed = posed.moved(frame_points(posed.hand, K, size, rng.uniform(*FILL), rng.normal(0, 0.04, 2)))
    hand, joints, arm = posed.hand, posed.joints, posed.arm
    t = load_template()
    arm_f = _arm()[1]

    style = sample_style(domain, rng, size)
    verts = np.concatenate([hand, arm])
    faces = np.concatenate([_drawn_faces(), arm_f + len(hand)])
    normals = np.concatenate([vertex_normals(hand, t.faces, t.weld), posed.arm_normals])
    albedo = np.concatenate(_albedo(style, rng))
    light = Light(style.light_dirs, style.light_colors, style.ambient)
    frags = rasterize(verts, faces, K, size)
    lit = np.ones((len(verts), len(style.light_dirs)))
    lit[:, 0] = lit_fraction(verts, faces, style.light_dirs[0])  # the key light casts shadows
    colors = to_srgb8(interpolate(frags, faces, shade(verts, normals, albedo, light, lit)))
    bg = backgrounds.background(style.words["color"], style.words["background"], rng, size, style.texture_prob,
                                style.exposure)
    image, mask = composite(bg, frags, colors)
    image = effects.gaussian_blur(image, style.blur)
    image = effects.motion_blur(image, *style.motion)
    image = effects.sensor_noise(image, rng, style.read_noise, style.shot_noise)
    image = effects.jpeg(image, style.jpeg)

    uv = joints[:, :2] / joints[:, 2:] * K[[0, 1], [0, 1]] + K[:2, 2]
    valid = visible(uv, joints[:, 2], frags, size)
    return {
        "image": image, "mask": mask, "K": K.astype(np.float32), "xyz": joints.astype(np.float32),
        "uv": uv.astype(np.float32), "valid": valid, "verts": hand.astype(np.float32),
        "style": dict(style.words),
    }


def visible(uv: np.ndarray, depth: np.ndarray, frags, size: int) -> np.ndarray:
    """Keypoint visibility from the z-buffer: on a skin pixel whose surface is near the joint's depth."""
    px = np.round(uv).astype(np.int64)
    inside = ((px >= 0) & (px < size)).all(1)
    zbuf = np.full(size * size, np.inf)  # background: infinitely far, never covers a joint
    zbuf[frags.pixel] = frags.depth
    near = zbuf[np.where(inside, px[:, 1] * size + px[:, 0], 0)]
    return inside & np.isfinite(near) & (near >= depth - VISIBLE_DEPTH)
