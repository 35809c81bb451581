"""Per-pixel skin detail of the hand, drawn in the template's rest frame: creases, knuckle wrinkles, nail plates.

The hand is shaded per vertex (Gouraud) on a 1,360-vertex mesh, so anything smaller than a triangle (palm
lines, the flexion creases across the fingers, wrinkles over the knuckles, a nail's edge) would blur away.
Here each hand pixel's rest-frame position (its barycentrics over the template's rest vertices, which move
with the skin like texture coordinates) sets a factor on its albedo:
- palm side: the three main palm lines (distal and proximal transverse, thenar) and a wrist crease, curves on
  the palm; flexion creases across each finger at its base, PIP (double) and DIP, the thumb's at MCP and IP;
- back: wrinkles over the PIP and DIP knuckles, and a nail plate on each distal phalanx (nail colour, a
  lighter free edge, a darker cuticle), with crisp edges at any resolution.
These are what tells a palm from the back of a hand in a photo (issue 13's side, issue 12's finger order).
Rest frame: fingers point along -y, the palm faces -x, z runs from the thumb's side to the little finger's.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import numpy as np

from handclip.data.synth.mesh import load_template, vertex_normals
from handclip.data.synth.skin import SkinTone

FINGERS = ((6, 7, 8, 9), (11, 12, 13, 14), (16, 17, 18, 19), (21, 22, 23, 24))  # rig MCP, PIP, DIP, tip
THUMB = (1, 2, 3, 4)  # rig CMC, MCP, IP, tip
DISTAL = (3, 8, 13, 18, 23)  # distal phalanges, thumb..little (their tip joint is d + 1)
PALM_BONES = (0, 1, 5, 10, 15, 20)  # skin bound to the wrist and metacarpals
# palm lines, quadratic Bezier curves (start, control, end) in rest (y, z), template mm
PALM_LINES = (
    ((0.0, 54.0), (-14.0, 26.0), (-24.0, -2.0)),  # distal transverse: ulnar edge to between index and middle
    ((-12.0, -22.0), (-2.0, 10.0), (14.0, 40.0)),  # proximal transverse: from the radial edge across the palm
    ((-12.0, -21.0), (20.0, 4.0), (50.0, 4.0)),  # thenar: round the ball of the thumb to the wrist
    ((53.0, -16.0), (55.0, 10.0), (53.0, 36.0)),  # wrist crease
)
CREASE_MM = 0.8  # Gaussian sigma of a crease line across its length
NAIL_START = 0.38  # where the cuticle lies on the finger's axis, fraction of DIP -> tip
NAIL_HALF_WIDTH = 0.55  # of the distal phalanx's radius
FREE_EDGE = (0.9, 1.25)  # the nail beyond this fraction of DIP -> tip is lighter by this factor


class Detail(NamedTuple):
    """One image's draw: how dark creases and knuckle wrinkles are, how far each palm line's points move (mm)."""

    crease: float
    wrinkle: float
    line_shift: np.ndarray  # (len(PALM_LINES), 3, 2)


def sample_detail(rng: np.random.Generator) -> Detail:
    """Depth varies with skin, age and light: creases 15-45 % darker, knuckle wrinkles 5-25 %."""
    return Detail(rng.uniform(0.15, 0.45), rng.uniform(0.05, 0.25), rng.normal(0, 3.0, (len(PALM_LINES), 3, 2)))


@lru_cache(maxsize=1)
def _rest() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rest vertices (V, 3), rest normals (V, 3) and each vertex's main bone (V,)."""
    t = load_template()
    v = t.vertices.astype(np.float64)
    bone = t.skin_joints[np.arange(len(v)), t.skin_weights.argmax(1)]
    return v, vertex_normals(v, t.faces, t.weld), bone


@lru_cache(maxsize=1)
def _nail_frames() -> tuple[tuple, ...]:
    """Per distal phalanx (rig joint d): DIP position, unit axis to the tip, DIP-to-tip length, unit 'across' and
    'up' (out of the back of the finger) directions, and the nail's half-width (a share of the phalanx's radius)."""
    t = load_template()
    v, _, bone = _rest()
    frames = []
    for d in DISTAL:
        base, u = _axis(d, d + 1)
        near = v[bone == d] - base
        radius = np.median(np.linalg.norm(near - np.outer(near @ u, u), axis=1))
        across = t.rest_world[d, :3, 0] - (t.rest_world[d, :3, 0] @ u) * u
        across /= np.linalg.norm(across)
        up = np.cross(u, across)
        up *= np.sign(up @ t.rest_world[d, :3, 1])  # the joint's +y leaves the back of the finger
        frames.append((d, base, u, np.linalg.norm(t.rest_world[d + 1, :3, 3] - base), across, up,
                       NAIL_HALF_WIDTH * radius))
    return tuple(frames)


def _axis(a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
    """Rest position of rig joint a and the unit direction to joint b."""
    w = load_template().rest_world[:, :3, 3]
    return w[a], (w[b] - w[a]) / np.linalg.norm(w[b] - w[a])


def _line(d: np.ndarray) -> np.ndarray:
    """Darkening profile (0..1) at distance d (mm) from a crease's centre line."""
    return np.exp(-0.5 * (d / CREASE_MM) ** 2)


def _palm_lines(yz: np.ndarray, shifts: np.ndarray) -> np.ndarray:
    """(N,) darkness of palm points (N, 2) from their distance to the nearest palm line."""
    s = np.linspace(0, 1, 24)[:, None]
    dark = np.zeros(len(yz))
    for shape, shift in zip(PALM_LINES, shifts):
        c = np.asarray(shape) + shift
        curve = (1 - s) ** 2 * c[0] + 2 * s * (1 - s) * c[1] + s ** 2 * c[2]
        reach = 4 * CREASE_MM  # only points near the curve's box can be dark
        near = np.flatnonzero(((yz > curve.min(0) - reach) & (yz < curve.max(0) + reach)).all(1))
        d = np.min(np.linalg.norm(yz[near, None] - curve[None], axis=2), axis=1)
        dark[near] = np.maximum(dark[near], _line(d))
    return dark


@lru_cache(maxsize=1)
def _creases() -> tuple[tuple[tuple[int, ...], np.ndarray, np.ndarray], ...]:
    """Flexion creases on the palm side: (bones of the digit, centre, unit axis across which the line runs)."""
    out = []
    for mcp, pip, dip, tip in FINGERS:
        bones = (mcp, pip, dip, tip)
        base, u = _axis(mcp, pip)
        length = np.linalg.norm(load_template().rest_world[pip, :3, 3] - base)
        out.append((bones, base + 0.35 * length * u, u))  # the finger's base crease, at the web
        joint, u = _axis(pip, dip)
        out += [(bones, joint - 0.5 * u, u), (bones, joint + 0.5 * u, u)]  # a double crease at the PIP
        out.append((bones, *_axis(dip, tip)))
    out += [(THUMB, *_axis(THUMB[1], THUMB[2])), (THUMB, *_axis(THUMB[2], THUMB[3]))]
    return tuple(out)


def albedo_factors(faces: np.ndarray, bary: np.ndarray, tone: SkinTone, detail: Detail) -> np.ndarray:
    """(N, 3) factors on the albedo of N hand pixels from their faces' template vertices (N, 3) and barycentrics."""
    v, n, bone = _rest()
    p = np.einsum("nk,nkc->nc", bary, v[faces])
    normal = np.einsum("nk,nkc->nc", bary, n[faces])
    normal /= np.linalg.norm(normal, axis=1, keepdims=True) + 1e-9
    face_bone = bone[faces[:, 0]]
    palm_side, back = normal[:, 0] < -0.3, normal[:, 0] > 0.3
    crease, wrinkle = np.zeros(len(p)), np.zeros(len(p))
    on_palm = palm_side & np.isin(face_bone, PALM_BONES)
    crease[on_palm] = _palm_lines(p[on_palm][:, 1:], detail.line_shift)
    for bones, centre, u in _creases():
        sel = np.flatnonzero(palm_side & np.isin(face_bone, bones))
        crease[sel] = np.maximum(crease[sel], _line((p[sel] - centre) @ u))
    for mcp, pip, dip, tip in FINGERS:
        sel = np.flatnonzero(back & np.isin(face_bone, (mcp, pip, dip, tip)))
        for (joint, u), reach in ((_axis(pip, dip), 3.5), (_axis(dip, tip), 2.0)):
            s = (p[sel] - joint) @ u
            ripple = (0.5 + 0.5 * np.cos(2 * np.pi * s / 1.8)) * np.clip(1 - np.abs(s) / reach, 0, 1)
            wrinkle[sel] = np.maximum(wrinkle[sel], ripple)
    factor = np.repeat((1 - detail.crease * crease - detail.wrinkle * wrinkle)[:, None], 3, axis=1)
    return _nails(factor, p, normal, face_bone, tone.nail / np.maximum(tone.back, 1e-6))


def _nails(factor: np.ndarray, p: np.ndarray, normal: np.ndarray, face_bone: np.ndarray,
           tint: np.ndarray) -> np.ndarray:
    """Paint a nail plate (rounded at the cuticle, lighter at the free edge) on the back of each distal phalanx."""
    for d, base, u, length, across, up, half_width in _nail_frames():
        idx = np.flatnonzero(((face_bone == d) | (face_bone == d + 1)) & (normal @ up > 0.35))
        q = p[idx] - base
        a, c = q @ u / length, q @ across / half_width
        on = (q @ up > 0) & (np.abs(c) < 1)
        start = NAIL_START + 0.12 * c ** 2  # the cuticle curves towards the tip at the nail's sides
        plate = on & (a > start)
        factor[idx[plate]] = np.where((a[plate] > FREE_EDGE[0])[:, None], tint * FREE_EDGE[1], tint)
        factor[idx[on & (a > start - 0.05) & (a <= start)]] *= 0.8  # the cuticle
    return factor
