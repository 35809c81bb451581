"""Paint placed hands into a photograph of a style: skin, sleeves, objects, light, shadows, background, camera.

`photograph(limbs, style, K, shape, rng)` takes one or more Limbs (a hand and its forearm as the scene
placed them, camera frame mm) and returns the image, the hand-and-arm mask and the visible surface
for keypoint visibility, where surfaces that are not skin (sleeves, objects) count as touching the
camera: a joint behind them is hidden whatever its depth.
"""

from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np

from handclip.data.synth import backgrounds, effects
from handclip.data.synth.domains import Style
from handclip.data.synth.occluders import Mesh, sample_occluder
from handclip.data.synth.people import shirt
from handclip.data.synth.raster import Fragments, Light, Material, composite, image_shape, interpolate, rasterize, shade, to_linear, to_srgb8
from handclip.data.synth.shadow import lit_fraction
from handclip.data.synth.skin import arm_albedo, hand_albedo
from handclip.data.synth.skin_detail import albedo_factors, sample_detail
from handclip.data.synth.sleeves import inner_side, sample_sleeve, sleeve_vertices
from handclip.data.synth.surfaces import colour
from handclip.data.synth.textures import value_noise

SKIN, CLOTH, OBJECT = 0, 1, 2  # surface kinds


class Limb(NamedTuple):
    """A hand and forearm to paint (camera frame, mm): hand mesh in template vertex order, forearm tube."""

    hand: np.ndarray  # (V, 3)
    hand_faces: np.ndarray  # (F, 3) drawn faces, wound outwards
    hand_normals: np.ndarray  # (V, 3)
    arm: np.ndarray  # (A, 3) forearm tube (rings of sleeves.SIDES vertices from inside the wrist)
    arm_faces: np.ndarray
    arm_normals: np.ndarray
    joints: np.ndarray  # (21, 3): objects aim at fingers


class Shot(NamedTuple):
    """A rendered photograph: uint8 image, hand-and-arm mask, and the visible surface for visibility tests."""

    image: np.ndarray
    mask: np.ndarray  # (h, w) bool: skin or sleeve of any limb
    cover: Fragments  # visible surface; depth 0 where it is not skin


class _Scene:
    """Meshes gathered for one image: concatenated vertices, faces, normals, materials and surface kinds."""

    def __init__(self):
        self.parts: list[tuple] = []

    def add(self, verts, faces, normals, albedo, specular: float, kind: int, group: int) -> int:
        """Add a part; returns the index of its first face in the concatenated faces."""
        offset = sum(len(part[1]) for part in self.parts)
        self.parts.append((verts, faces, normals, albedo, specular, kind, group))
        return offset

    def arrays(self):
        verts, faces, normals, albedo, spec, scatter, kind, group = [], [], [], [], [], [], [], []
        offset = 0
        for v, f, n, a, s, k, g in self.parts:
            verts.append(v)
            faces.append(f + offset)
            normals.append(n)
            albedo.append(np.broadcast_to(a, v.shape))
            spec.append(np.broadcast_to(s, len(v)))
            scatter.append(np.full(len(v), float(k == SKIN)))
            kind.append(np.full(len(f), k, np.int8))
            group.append(np.full(len(v), g))
            offset += len(v)
        cat = np.concatenate
        return (cat(verts), cat(faces), cat(normals), Material(cat(albedo), cat(spec), cat(scatter)), cat(kind), cat(group))


def _add_limb(scene: _Scene, limb: Limb, style: Style, rng: np.random.Generator, group: int) -> int:
    """Skin of the hand and forearm, an optional sleeve or bracelet, an optional object in front; returns the
    index of the hand's first face."""
    tone = style.skin
    hand = scene.add(limb.hand, limb.hand_faces, limb.hand_normals, hand_albedo(tone, rng), style.specular, SKIN,
                     group)
    scene.add(limb.arm, limb.arm_faces, limb.arm_normals, arm_albedo(tone, inner_side(len(limb.arm))),
              style.specular * 0.7, SKIN, group)
    if style.sleeve is not None:
        verts = sleeve_vertices(limb.arm, sample_sleeve(rng, style.bracelet), rng)
        cloth = to_linear(colour(style.sleeve, rng))
        shine = 0.25 if style.bracelet else 0.01
        scene.add(verts, limb.arm_faces, limb.arm_normals, cloth, shine, CLOTH, group)
    if style.occluder:
        obj: Mesh = sample_occluder(limb.joints, rng)
        paint = to_linear(colour(("red", "blue", "yellow", "green", "black", "white", "orange", "brown")[rng.integers(8)], rng))
        scene.add(obj.verts, obj.faces, obj.normals, paint, rng.uniform(0.1, 0.5), OBJECT, group)
    return hand


def _lit(verts, faces, group, key: np.ndarray, softness: float) -> np.ndarray:
    """(V,) fraction of the key light reaching each vertex, one shadow map per limb (hands far apart)."""
    lit = np.ones(len(verts))
    for g in np.unique(group):
        idx = np.flatnonzero(group == g)
        remap = np.full(len(verts), -1)
        remap[idx] = np.arange(len(idx))
        own = faces[(group[faces] == g).all(1)]
        lit[idx] = lit_fraction(verts[idx], remap[own], key, softness=softness)
    return lit


def _mottle(colors: np.ndarray, pixel: np.ndarray, skin: np.ndarray, shape, amount: float,
            rng: np.random.Generator) -> np.ndarray:
    """Skin is never flat: scale skin fragments' colours by 1 +- amount, a random field of ~4 px cells."""
    if amount <= 0:
        return colors
    h, w = shape
    field = value_noise(rng, (h, w), max(4, w // 4))[..., 0].reshape(-1)[pixel[skin]]
    out = colors.copy()
    out[skin] = np.clip(colors[skin] * (1 + amount * (2 * field - 1))[:, None], 0, 255)
    return out


def _drop_shadow(bg: np.ndarray, covered: np.ndarray, light: Light, K: np.ndarray, depth: float,
                 rng: np.random.Generator, softness: float) -> np.ndarray:
    """The hand's shadow on a backdrop 100-500 mm behind it: the silhouette shifted away from the key
    light, blurred with the distance and darkened by the key light's share of the illumination."""
    gap = rng.uniform(100, 500)
    d = light.directions[0]
    shift = -d[:2] / max(abs(d[2]), 0.2) * gap * K[0, 0] / (depth + gap)
    key = light.colors[0].mean()
    share = key / (key + light.colors[1].mean() + light.ambient.mean() + 1e-6)
    h, w = covered.shape
    M = np.float32([[1, 0, shift[0]], [0, 1, shift[1]]])
    shadow = cv2.warpAffine(covered.astype(np.float32), M, (w, h))
    sigma = 1.0 + (softness + 0.02 * gap) * K[0, 0] / (depth + gap) * 0.5
    shadow = cv2.GaussianBlur(shadow, (0, 0), sigma)
    dim = 1 - np.float32(share * rng.uniform(0.5, 0.85)) * shadow
    return (bg * cv2.merge([dim, dim, dim])).astype(np.uint8)


def photograph(limbs: list[Limb], style: Style, K: np.ndarray, shape, rng: np.random.Generator) -> Shot:
    """Render `limbs` in `style` through intrinsics K into an image of `shape` (size or (h, w))."""
    h, w = image_shape(shape)
    scene = _Scene()
    hands = [_add_limb(scene, limb, style, rng, g) for g, limb in enumerate(limbs)]
    verts, faces, normals, material, kind, group = scene.arrays()
    frags = rasterize(verts, faces, K, (h, w))
    lit = np.ones((len(verts), len(style.light.directions)))
    lit[:, 0] = _lit(verts, faces, group, style.light.directions[0], style.softness)
    linear = interpolate(frags, faces, shade(verts, normals, material, style.light, lit))
    detail = sample_detail(rng)
    for first, limb in zip(hands if not style.plain_skin else [], limbs):  # creases, wrinkles, nails (skin_detail)
        on = (frags.face >= first) & (frags.face < first + len(limb.hand_faces))
        linear[on] *= albedo_factors(limb.hand_faces[frags.face[on] - first], frags.bary[on], style.skin, detail)
    colors = to_srgb8(linear)
    surface = kind[frags.face]
    colors = _mottle(colors, frags.pixel, surface == SKIN, (h, w), style.mottle, rng)
    person = None
    if style.person or style.near:
        person = (to_srgb8(style.skin.back).astype(np.float32),
                  colour(style.sleeve, rng) if style.sleeve and not style.bracelet else shirt(rng))
    bg = backgrounds.background(style.words["color"], style.words["background"], rng, (h, w), style.texture,
                                style.exposure, person, style.near)
    bg = effects.gaussian_blur(bg, style.camera.dof)
    if style.words["background"] == "background":
        covered = np.zeros(h * w, bool)
        covered[frags.pixel] = True
        bg = _drop_shadow(bg, covered.reshape(h, w), style.light, K, float(np.median(verts[:, 2])), rng, style.softness)
    image, covered = composite(bg, frags, colors)
    image = effects.develop(image, style.camera, rng)
    mask = np.zeros(h * w, bool)
    mask[frags.pixel[surface != OBJECT]] = True
    cover = frags._replace(depth=np.where(surface == SKIN, frags.depth, 0.0))
    return Shot(image, mask.reshape(h, w), cover)
