"""Renderer appearance: style words that are true of the image, skin albedos, light, sleeves, objects, camera."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from handclip.clip import style_prompts
from handclip.data import build_dataset
from handclip.data.synth import domains, words
from handclip.data.synth.backgrounds import background
from handclip.data.synth.appearance import photograph
from handclip.data.synth.domains import DIM_COLORS, DOMAINS, sample_style, sample_words
from handclip.data.synth.effects import soften, tone, vignette_and_gain
from handclip.data.synth.poses import frame_points, sample_intrinsics
from handclip.data.synth.raster import Light, Material, shade
from handclip.data.synth.scene import limb, pose_hand, visible
from handclip.data.synth.shadow import lit_fraction
from handclip.data.synth.skin import sample_tone
from handclip.data.synth.sleeves import SIDES, Sleeve, sleeve_vertices
from handclip.data.synth.surfaces import PATTERNS, PLAIN_RGB
from handclip.geometry import project

NAMES = list(PLAIN_RGB)
REF_LAB = cv2.cvtColor(np.array([[PLAIN_RGB[k] for k in NAMES]], np.float32) / 255, cv2.COLOR_RGB2Lab)[0]


def lab(img: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(img.astype(np.float32) / 255, cv2.COLOR_RGB2Lab).reshape(-1, 3)


def nearest_plain(img: np.ndarray) -> np.ndarray:
    """Per pixel, the index (into NAMES) of the plain colour word nearest in CIELAB."""
    return ((lab(img)[:, None] - REF_LAB[None]) ** 2).sum(-1).argmin(1)


def blobs(img: np.ndarray) -> int:
    """Connected regions of pixels far (> 25 in CIELAB) from the image's median colour."""
    d = np.linalg.norm(lab(img) - np.median(lab(img), 0), axis=1).reshape(img.shape[:2])
    return cv2.connectedComponents((d > 25).astype(np.uint8))[0] - 1


def test_vocabulary_is_dg_clips():
    assert words.HAND_COLORS == style_prompts.HAND_COLORS and set(words.CONTEXTS) == set(style_prompts.BACKGROUNDS)
    assert set(words.COLOR_WORDS) == set(style_prompts.COLORS) and len(words.COLOR_WORDS) == 19
    assert set(PLAIN_RGB) | set(PATTERNS) == set(words.COLOR_WORDS) and not set(PLAIN_RGB) & set(PATTERNS)


def test_every_word_drawn_and_domains_keep_to_their_words():
    draws = {name: [sample_words(name, np.random.default_rng([name.__len__(), k])) for k in range(1000)] for name in DOMAINS}
    seen = {key: {w[key] for name in DOMAINS for w in draws[name]} for key in words.VOCABULARY}
    for key, vocab in words.VOCABULARY.items():
        assert seen[key] == set(vocab), key  # every word of every column appears
        assert {w[key] for w in draws["texture"]} == set(vocab), key  # texture draws every word by itself
    assert {w["hand_color"] for w in draws["source"]} == set(domains.LIGHT_SKIN)
    assert {w["color"] for w in draws["source"]} == {"green", "white", "gray", "beige"}
    assert {w["background"] for w in draws["source"]} == {"background"}
    assert sum(w["color"] == "green" for w in draws["source"]) > 600
    assert {w["color"] for w in draws["lowlight"]} == set(DIM_COLORS)  # never 'bright', 'white', 'yellow', ...
    assert sum(w["background"] == "room" for w in draws["webcam"]) > 850


def test_style_parameters_agree_with_words():
    for k in range(300):
        s = sample_style("texture", np.random.default_rng(k), 224)
        if s.words["color"] == "bright":
            assert s.exposure.mean() > 1.0
    low = [sample_style("lowlight", np.random.default_rng(k), 224) for k in range(50)]
    assert max(s.exposure.max() for s in low) < 0.6
    assert all(s.sleeve is not None for s in (sample_style("sleeve_clutter", np.random.default_rng(k), 224) for k in range(30)))


def test_auto_white_balance_removes_most_of_the_lights_cast():
    # what reaches the pixels of a white surface is the light's colour times the camera's gains: the camera
    # divides out a share awb of the cast (log scale), then errs by at most white_balance per channel
    for name in ("texture", "webcam", "lowlight"):
        d, before, after = DOMAINS[name], [], []
        for k in range(200):
            s = sample_style(name, np.random.default_rng(k), 224)
            cast = np.log(s.light.ambient / s.light.ambient.mean())  # the light's colour (ambient shares it)
            seen = cast + np.log(s.camera.white_balance)
            before.append(np.ptp(cast))
            after.append(np.ptp(seen))
            bound = (1 - d.awb[0]) * np.ptp(cast) + np.log((1 + d.white_balance) / (1 - d.white_balance)) + 1e-9
            assert np.ptp(seen) <= bound
        assert np.mean(after) < np.mean(before)


@pytest.mark.parametrize("context", ["background", "room"])
def test_background_words_are_true(context):
    for word in words.COLOR_WORDS:
        imgs = [background(word, context, np.random.default_rng([k, 11]), (48, 64), texture=0.6) for k in range(24)]
        if word in PLAIN_RGB:
            classes = [nearest_plain(img) for img in imgs]
            share = [np.mean(c == NAMES.index(word)) for c in classes]
            plurality = np.mean([np.bincount(c, minlength=len(NAMES)).argmax() == NAMES.index(word) for c in classes])
            assert np.mean(share) > (0.75 if context == "background" else 0.45), word
            assert min(share) > (0.4 if context == "background" else 0.12), word
            assert plurality >= (0.95 if context == "background" else 0.8), word
        elif word in ("bright", "dark"):
            lightness = [lab(img)[:, 0].mean() for img in imgs]
            assert (min(lightness) > 70) if word == "bright" else (max(lightness) < 25), word
        elif context == "background":  # patterns and landscapes, seen as backdrops
            for img in (background(word, context, np.random.default_rng([k, 11]), (96, 128)) for k in range(12)):
                top, low = img[:8].reshape(-1, 3).mean(0), img[-6:].reshape(-1, 3).mean(0)
                if word == "dotted":
                    assert blobs(img) >= 8
                elif word == "flower":
                    assert blobs(img) >= 3
                else:
                    assert top[2] > top[0]  # blue sky above
                    assert (low[1] > low[2]) if word == "mountain" else (low[2] > 0.8 * low[0]), word  # grass / water


def test_unknown_words_and_domains_list_the_known_ones():
    with pytest.raises(KeyError, match="unknown synthetic domain 'nope'.*sleeve_clutter"):
        build_dataset("synth", domain="nope")
    with pytest.raises(ValueError, match="unknown color word 'teal'.*sky blue"):
        background("teal", "room", np.random.default_rng(0), 32)
    with pytest.raises(ValueError, match="unknown background word 'garden'.*room"):
        background("red", "garden", np.random.default_rng(0), 32)
    with pytest.raises(ValueError, match="unknown hand_color word 'blue'.*pale yellow"):
        sample_tone("blue", np.random.default_rng(0))


def test_fixed_style_words():
    free = build_dataset("synth", domain="texture", n=2, size=48, seed=2)
    fixed = build_dataset("synth", domain="texture", n=2, size=48, seed=2, style={"color": "flower", "hand_color": "black"})
    assert fixed[1]["style"]["color"] == "flower" and fixed[1]["style"]["hand_color"] == "black"
    assert fixed[1]["style"]["background"] == free[1]["style"]["background"]
    assert np.array_equal(fixed[1]["xyz"], free[1]["xyz"])  # the same sample, only the fixed words change
    with pytest.raises(ValueError, match="unknown style column 'colour'.*hand_color"):
        build_dataset("synth", style={"colour": "red"})
    with pytest.raises(ValueError, match="unknown color word 'teal'"):
        build_dataset("synth_full", style={"color": "teal"})


def test_skin_albedos_are_calibrated():
    def mean_lab(word, part):
        tones = [sample_tone(word, np.random.default_rng(k)) for k in range(200)]
        rgb = np.mean([getattr(t, part) for t in tones], 0) ** (1 / 2.2) * 255
        return lab(rgb[None, None])[0]

    light = {w: mean_lab(w, "back") for w in words.HAND_COLORS}
    assert min(light[w][0] for w in domains.LIGHT_SKIN + ("pale yellow",)) > light["brown"][0] > light["dark brown"][0] > light["black"][0]
    hue = {w: np.degrees(np.arctan2(v[2], v[1])) for w, v in light.items()}  # 0 red .. 90 yellow
    assert hue["peach"] < hue["light beige"] < hue["pale yellow"] and hue["white"] < hue["pale yellow"]
    assert light["peach"][1] > light["pale yellow"][1]  # redder
    for w in words.HAND_COLORS:  # palms are lighter than backs, the more so the darker the skin
        assert mean_lab(w, "palm")[0] > light[w][0]
    assert mean_lab("black", "palm")[0] - light["black"][0] > 2 * (mean_lab("white", "palm")[0] - light["white"][0])
    spread = np.std([sample_tone("brown", np.random.default_rng(k)).back[0] for k in range(200)])
    assert spread > 0.01  # people differ


def test_subsurface_scattering_and_fresnel_highlight():
    light = Light(np.array([[0.0, 0.0, -1.0]]), np.array([[1.0, 1.0, 1.0]]), np.zeros(3), shininess=24.0, wrap=0.3)
    verts = np.array([[0.0, 0.0, 100.0], [0.0, 0.0, 100.0], [0.0, 0.0, 100.0]])
    past = np.array([0.0, np.sqrt(1 - 0.1**2), 0.1])  # 0.1 past the terminator (n . l = -0.1)
    normals = np.stack([np.array([0.0, 0.0, -1.0]), past, past])
    grey = np.full((3, 3), 0.5)
    out = shade(verts, normals, Material(grey, np.zeros(3), np.array([1.0, 1.0, 0.0])), light)
    assert np.allclose(out[0], 0.5)  # facing the light: Lambert, no wrap gain
    assert out[1, 0] > out[1, 1] > 0 and out[1, 1] >= out[1, 2]  # scattered light is red
    assert np.allclose(out[2], 0)  # no scattering: black past the terminator
    facing = shade(verts[:1], normals[:1], Material(np.zeros((1, 3)), np.ones(1), np.zeros(1)), light)
    assert np.allclose(facing, 1.0)  # highlight head-on: full strength, Fresnel factor 1


def test_soft_shadows_have_a_penumbra():
    tri = np.array([[-1, -1], [1, -1], [-1, 1]], float)
    occluder = np.c_[tri * 10, np.full(3, 100.0)]
    receiver = np.c_[tri * 400, np.full(3, 200.0)]
    edge = np.array([[-10.0, -2.0, 200.0]])  # under the occluder's left edge (x = -10)
    verts = np.concatenate([occluder, receiver, edge])
    faces = np.array([[0, 2, 1], [3, 5, 4]])
    hard = lit_fraction(verts, faces, np.array([0.0, 0.0, -1.0]), grid=256)[-1]
    soft = lit_fraction(verts, faces, np.array([0.0, 0.0, -1.0]), grid=256, softness=4.0)[-1]
    assert hard in (0.0, 1.0) and 0.2 < soft < 0.8


def test_sleeve_covers_the_arm_from_its_cuff():
    rings, r = 16, 30.0
    a = np.arange(SIDES) * 2 * np.pi / SIDES
    y = np.r_[-12.0, np.linspace(0, 400, rings - 1)]
    arm = np.stack([r * np.cos(a)[None] + 0 * y[:, None], y[:, None] + 0 * a[None], r * np.sin(a)[None] + 0 * y[:, None]], -1)
    verts = sleeve_vertices(arm.reshape(-1, 3), Sleeve(60.0, np.inf, 5.0, 2.0), np.random.default_rng(0))
    radius = np.hypot(verts[:, 0], verts[:, 2])
    assert verts[:, 1].min() >= 60 - 1e-6  # starts at the cuff
    assert radius.min() >= r + 5 - 1e-6 and radius.max() <= r + 5 + 2 + 1e-6  # thickness plus folds
    band = sleeve_vertices(arm.reshape(-1, 3), Sleeve(20.0, 35.0, 2.0, 0.0), np.random.default_rng(0))
    assert band[:, 1].min() >= 20 - 1e-6 and band[:, 1].max() <= 35 + 1e-6


def test_people_leave_the_rooms_colour_dominant():
    person = (np.array([200.0, 150.0, 120.0]), np.array([40.0, 80.0, 190.0]))  # a blue shirt
    for word in ("red", "white", "yellow"):
        classes = [nearest_plain(background(word, "room", np.random.default_rng([k, 5]), (48, 64), person=person))
                   for k in range(12)]
        assert np.mean([np.mean(c == NAMES.index(word)) for c in classes]) > 0.4, word
    bare = background("gray", "room", np.random.default_rng(1), (48, 64))
    with_person = background("gray", "room", np.random.default_rng(1), (48, 64), person=person)
    changed = (np.abs(bare.astype(int) - with_person.astype(int)).sum(-1) > 30).mean()
    assert 0.05 < changed <= 0.4  # a person is drawn, within its share of the frame (35 % plus blur)


def test_a_near_person_is_large_in_front_of_any_backdrop_and_leaves_half_of_it():
    person = (np.array([200.0, 150.0, 120.0]), np.array([40.0, 80.0, 190.0]))
    for context in ("background", "room"):
        shares = []
        for k in range(8):
            bare = background("white", context, np.random.default_rng([k, 6]), (96, 96))
            near = background("white", context, np.random.default_rng([k, 6]), (96, 96), person=person, near=True)
            far = background("white", context, np.random.default_rng([k, 6]), (96, 96), person=person)
            shares.append((np.abs(bare.astype(int) - near.astype(int)).sum(-1) > 30).mean())
            if context == "background":  # a far person only ever stands in a room
                assert (far == bare).all()
        assert 0.15 < np.mean(shares) and max(shares) <= 0.55, (context, shares)  # half the frame at most
    # a near person only where the domain allows it: never in the FreiHAND-like source domain
    draws = {name: np.mean([sample_style(name, np.random.default_rng([k, 7]), 128).near for k in range(200)])
             for name in ("source", "webcam", "texture")}
    assert draws["source"] == 0 and 0.35 < draws["webcam"] < 0.65 and 0.05 < draws["texture"] < 0.3, draws


def test_camera_effects():
    ramp = np.repeat(np.linspace(0, 255, 64).astype(np.uint8)[None, :, None], 3, 2)
    curved = tone(ramp, 0.4, 1.0)
    assert curved[0, 8, 0] < ramp[0, 8, 0] and curved[0, 56, 0] > ramp[0, 56, 0] and curved[0, 0, 0] == 0
    assert (np.diff(curved[0, :, 0].astype(int)) >= 0).all()  # an S-curve, still monotonic
    grey = tone(np.array([[[200, 40, 40]]], np.uint8), 0.0, 0.0)
    assert grey[0, 0, 0] == grey[0, 0, 1] == grey[0, 0, 2]
    img = np.full((40, 60, 3), 200, np.uint8)
    v = vignette_and_gain(img, 0.5, (1.0, 1.0, 1.0))
    assert v[20, 30].mean() > 195 and v[0, 0].mean() < 0.6 * 200
    wb = vignette_and_gain(img, 0.0, (1.1, 1.0, 0.8))
    assert tuple(wb[5, 5]) == (220, 200, 160)
    soft = soften(np.random.default_rng(0).integers(0, 255, (40, 60, 3)).astype(np.uint8), 0.5)
    assert soft.shape == (40, 60, 3) and soft.std() < 70  # resolution lost


def test_objects_hide_joints_and_leave_the_mask():
    hidden = 0
    for k in range(6):
        rng = np.random.default_rng(k)
        K = sample_intrinsics(rng, 64)
        posed = pose_hand(rng)
        posed = posed.moved(frame_points(posed.hand, K, 64, 0.6))
        style = sample_style("texture", rng, 64)._replace(occluder=True, sleeve=None)
        shot = photograph([limb(posed)], style, K, 64, rng)
        uv = project(posed.joints, K)
        valid = visible(uv, posed.joints[:, 2], shot.cover, 64)
        objects = np.zeros(64 * 64, bool)
        objects[shot.cover.pixel[shot.cover.depth == 0]] = True
        px = np.clip(np.round(uv).astype(int), 0, 63)
        on_object = objects[px[:, 1] * 64 + px[:, 0]]
        assert not (valid & on_object).any()
        assert not (shot.mask.reshape(-1) & objects).any()
        hidden += int(on_object.sum())
    assert hidden > 0  # the objects do cover joints


def test_determinism_per_domain_seed_index():
    for name in DOMAINS:
        a = build_dataset("synth", domain=name, n=3, size=48, seed=4)
        b = build_dataset("synth", domain=name, n=3, size=48, seed=4)
        assert np.array_equal(a[2]["image"], b[2]["image"]) and a[2]["style"] == b[2]["style"], name
        assert not np.array_equal(a[1]["image"], a[2]["image"]), name
