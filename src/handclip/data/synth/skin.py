"""Skin albedo of DG-CLIP's seven hand-colour words, with per-person variation, palms and creases.

Each word has a back-of-hand sRGB albedo (the colour of the skin under neutral white light at the
renderer's exposure; the light words differ in hue as the words say: 'white' pinkish, 'peach' orange-pink,
'pale yellow' yellowish, 'light beige' in between). A person varies in tone (lightness, 6 % sigma) and
redness (4 %). Palms carry little melanin, so they are lighter and pinker than the back, the more so the
darker the skin (up to 55 % of the way to a palm colour on 'black' hands), and on every tone the blood under
the palm's skin shows (PALM_TINT; on the light tones the palm is 9-10 % lighter than the back, CIELAB a*
+4 to +7, b* -1 to -2.5, where it was 6-8 % lighter and no redder before, too close to the back for a network
to tell which side faces the camera: issue 13); creases and knuckle folds are darker, nails pinkish.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import numpy as np

from handclip.data.synth.mesh import load_template, vertex_normals
from handclip.data.synth.raster import to_linear
from handclip.data.synth.words import check

# word: (back-of-hand sRGB albedo, fraction of the way the palm goes towards PALM_RGB)
TONES = {
    "white": ((232, 190, 170), 0.12), "light beige": ((228, 194, 160), 0.12), "peach": ((238, 176, 142), 0.12),
    "pale yellow": ((228, 198, 148), 0.12), "brown": ((166, 114, 82), 0.30), "dark brown": ((108, 70, 50), 0.45),
    "black": ((64, 45, 36), 0.55),
}
PALM_RGB = np.array([240.0, 190.0, 172.0])  # melanin-poor palm skin
PALM_TINT = np.array([1.18, 1.05, 1.14])  # palms of every tone are a little lighter and pinker (linear gains)
NAIL_RGB = np.array([242.0, 212.0, 205.0])
TONE_SIGMA, REDNESS_SIGMA = 0.06, 0.04
TIP_REDNESS = np.array([0.06, -0.04, -0.04])  # relative albedo change on the distal phalanges
INNER_ARM = 0.5  # the inner forearm goes this fraction of the way from the back's tone to the palm's


class SkinTone(NamedTuple):
    """One person's skin: linear RGB albedo of the back of the hand, the palm and the nails."""

    back: np.ndarray  # (3,)
    palm: np.ndarray  # (3,)
    nail: np.ndarray  # (3,)


def sample_tone(word: str, rng: np.random.Generator) -> SkinTone:
    """A person of hand colour `word`: the word's albedo varied in tone and redness."""
    rgb, palm_lift = TONES[check("hand_color", word)]
    back = to_linear(rgb) * np.exp(rng.normal(0, TONE_SIGMA))
    red = np.clip(rng.normal(0, REDNESS_SIGMA), -2 * REDNESS_SIGMA, 2 * REDNESS_SIGMA)
    back = np.clip(back * np.array([1 + red, 1 - red / 2, 1 - red / 2]), 0, 1)
    palm = np.clip((back + palm_lift * (to_linear(PALM_RGB) - back)) * PALM_TINT, 0, 1)
    nail = 0.55 * back + 0.45 * to_linear(NAIL_RGB)
    return SkinTone(back, palm, nail)


def plain(tone: SkinTone) -> SkinTone:
    """The same person with palm and nails in the back's colour (with no palm lines or creases, see
    domains.PLAIN_SKIN): nothing but the hand's shape tells its palm from its back."""
    return SkinTone(tone.back, tone.back, tone.back)


@lru_cache(maxsize=1)
def skin_map() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-vertex (palm, crease, tip) weights of the rest hand, in [0, 1] and equal on seam duplicates.

    Palm: how much the rest normal faces away from the back of the hand (-x). Crease: how concave the
    surface is (normal vs. the offset to the mean of the welded neighbours), a cheap stand-in for
    ambient occlusion in knuckle and palm creases. Tip: the distal phalanges, whose skin is redder (blood
    under thin skin).
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
    tip = np.isin(bone, (3, 4, 8, 9, 13, 14, 18, 19, 23, 24)).astype(float)
    return np.clip(-n[:, 0], 0, 1), concave, tip[t.weld]


def hand_albedo(tone: SkinTone, rng: np.random.Generator, crease: float = 0.3) -> np.ndarray:
    """Linear albedo (V, 3) of the template's vertices: palm, redder fingertips, darker concave folds, faint
    blotches (nails, palm lines and finger creases are drawn per pixel: skin_detail)."""
    t = load_template()
    palm, concave, tip = skin_map()
    albedo = tone.back * (1 - palm[:, None]) + tone.palm * palm[:, None]
    albedo = albedo * (1 + np.outer(tip, TIP_REDNESS))
    blotch = 1 + rng.normal(0, 0.04, len(palm))[t.weld]  # one value per welded vertex: no seams
    return albedo * (blotch * (1 - crease * concave))[:, None]


def arm_albedo(tone: SkinTone, inner: np.ndarray) -> np.ndarray:
    """Linear albedo (A, 3) of forearm vertices; `inner` (A,) in [0, 1] is how much each faces the palm's side."""
    return tone.back + INNER_ARM * np.outer(inner, tone.palm - tone.back)

