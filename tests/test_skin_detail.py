"""Per-pixel skin detail (skin_detail): thin creases on the palm side only, nail plates on the back only, crisp."""

from __future__ import annotations

import numpy as np

from handclip.data.synth.mesh import load_template
from handclip.data.synth.raster import rasterize
from handclip.data.synth.scene import limb, pose_hand
from handclip.data.synth.skin import sample_tone
from handclip.data.synth.skin_detail import DISTAL, Detail, PALM_LINES, albedo_factors, sample_detail

K = np.array([[500.0, 0, 127.5], [0, 500, 127.5], [0, 0, 1]])
STRONG = Detail(0.4, 0.2, np.zeros((len(PALM_LINES), 3, 2)))


def view(palm: bool, word: str = "brown"):
    """A flat right hand 400 mm in front of the camera, palm or back to it: its hand faces' fragments, factors,
    and each fragment's main bone."""
    rng = np.random.default_rng(0)
    posed = pose_hand(rng, "flat")
    j = posed.joints
    normal = np.cross(j[5] - j[0], j[17] - j[0])  # out of the palm
    normal /= np.linalg.norm(normal)
    target = np.array([0.0, 0.0, -1.0 if palm else 1.0])
    v = np.cross(normal, target)
    cross = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])
    R = np.eye(3) + cross + cross @ cross / (1 + normal @ target)
    c = j.mean(0)
    hand = (posed.hand - c) @ R.T + [0, 0, 400.0]
    faces = limb(posed._replace(hand=hand)).hand_faces
    frags = rasterize(hand, faces, K, 256)
    tone = sample_tone(word, rng)
    t = load_template()
    bone = t.skin_joints[np.arange(len(t.vertices)), t.skin_weights.argmax(1)]
    f = faces[frags.face]
    return albedo_factors(f, frags.bary, tone, STRONG), bone[f[:, 0]], tone


def test_palm_shows_thin_creases_and_no_finger_nails():
    factor, bone, tone = view(palm=True)
    assert len(factor) > 3000
    darker = factor[:, 0] < 0.9
    assert 0.03 < darker.mean() < 0.35  # lines, not a blotch over the palm
    fingers = ~np.isin(bone, (1, 2, 3, 4))  # the flat hand's thumb turns its nail sideways: seen edge-on
    assert (factor[fingers] >= 1 - STRONG.crease - 1e-9).all() and (factor[fingers] <= 1 + 1e-9).all()


def test_back_shows_a_crisp_nail_on_every_finger_and_no_palm_lines():
    factor, bone, tone = view(palm=False)
    tint = tone.nail / tone.back
    nail = np.isclose(factor, tint).all(1) | np.isclose(factor, tint * 1.25).all(1)
    for d in DISTAL[1:]:  # the four fingers face the camera; the thumb turns its side to it
        on = np.isin(bone, (d, d + 1))
        assert nail[on].sum() > 20, d
    assert (nail[~np.isin(bone, np.r_[DISTAL, np.asarray(DISTAL) + 1])]).sum() == 0
    # away from the nails and knuckles the back keeps its colour: no palm lines there
    plain = ~nail & np.isin(bone, (0, 5, 10, 15, 20))
    assert np.isclose(factor[plain], 1).all(1).mean() > 0.9


def test_nails_are_lighter_than_dark_skin_and_detail_varies_per_image():
    tone = sample_tone("black", np.random.default_rng(0))
    assert (tone.nail / tone.back > 1.5).all()
    a, b = sample_detail(np.random.default_rng(1)), sample_detail(np.random.default_rng(2))
    assert a.crease != b.crease and not np.allclose(a.line_shift, b.line_shift)
    assert 0.15 <= min(a.crease, b.crease) and max(a.crease, b.crease) <= 0.45
