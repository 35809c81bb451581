"""Crops with roll (handclip.data.crop) and augmentation (handclip.data.transforms) keep labels exact."""

from __future__ import annotations

import json

import numpy as np
import pytest
from _reader_fixtures import FIXTURES

from handclip.data.crop import crop_hand, full_box
from handclip.data.io import MalformedDataError
from handclip.data.rhd import RHD
from handclip.data.transforms import Augment
from handclip.geometry import apply_affine, bone_length, crop_image, crop_K, project

K = np.array([[500.0, 0, 160], [0, 500.0, 120], [0, 0, 1]])
XYZ = np.array([[10.0, 20, 400], [-30, 5, 420], [25, -40, 380]])
BOX = (150.0, 130.0, 90.0)


def _coordinate_image(h: int = 240, w: int = 320) -> np.ndarray:
    """A float image whose pixel (v, u) holds (u, v, 0)."""
    v, u = np.mgrid[:h, :w].astype(np.float32)
    return np.dstack([u, v, np.zeros_like(u)])


def test_unrolled_crop_equals_geometry_crop():
    image = (np.random.default_rng(0).random((240, 320, 3)) * 255).astype(np.uint8)
    c = crop_hand(image, K, XYZ, BOX, 64)
    np.testing.assert_allclose(c["K"], crop_K(K, BOX, 64), atol=1e-4)
    np.testing.assert_array_equal(c["image"], crop_image(image, BOX, 64)[0])


@pytest.mark.parametrize("angle", [0.0, 35.0, -120.0])
def test_warp_affine_intrinsics_and_points_agree(angle):
    c = crop_hand(_coordinate_image(), K, XYZ, BOX, 48, angle)
    # every crop pixel holds the original pixel it came from; the affine maps it back onto itself
    v, u = np.mgrid[8:40, 8:40]
    source = c["image"][8:40, 8:40, :2].reshape(-1, 2)
    np.testing.assert_allclose(apply_affine(source, c["affine"]), np.c_[u.ravel(), v.ravel()], atol=1e-2)
    np.testing.assert_allclose(project(c["xyz"], c["K"]), apply_affine(project(XYZ, K), c["affine"]), atol=1e-6)
    np.testing.assert_allclose(c["xyz"][:, 2], XYZ[:, 2])  # a roll keeps depths
    np.testing.assert_allclose(np.linalg.norm(c["xyz"][0] - c["xyz"][1]), np.linalg.norm(XYZ[0] - XYZ[1]))
    np.testing.assert_allclose(c["K"][2], [0, 0, 1], atol=1e-12)


def test_full_box_resizes_whole_image_with_pixel_centres():
    c = crop_hand(_coordinate_image(224, 224), K, XYZ, full_box(224, 224), 448)
    # doubling: crop pixel 2u + 0.5 sits on source pixel u
    np.testing.assert_allclose(apply_affine(np.array([[0.0, 0.0], [223.0, 10.0]]), c["affine"]), [[0.5, 0.5], [446.5, 20.5]])


def test_augmented_samples_keep_labels_consistent():
    ds = RHD(FIXTURES / "rhd", size=128, augment={"rotation": 90.0, "hue": 0.1})
    plain = RHD(FIXTURES / "rhd", size=128)
    for i in range(len(ds)):
        s, p = ds[i], plain[i]
        np.testing.assert_allclose(project(s["xyz"], s["K"]), s["uv"], atol=1e-3)
        np.testing.assert_allclose(bone_length(s["xyz"], (0, 9)), bone_length(p["xyz"], (0, 9)), rtol=1e-5)
        assert abs(s["roll"]) <= 90.0 and s["image"].dtype == np.uint8


def test_mirror_augmentation_turns_hands_into_the_other_side_with_exact_labels():
    import torch

    from handclip.detection.side_cues import curl_chirality

    plain = RHD(FIXTURES / "rhd", size=96)
    still = {"scale": [1.0, 1.0], "shift": 0.0, "rotation": 0.0, "brightness": 0.0, "contrast": 0.0, "saturation": 0.0}
    never, always = (RHD(FIXTURES / "rhd", size=96, augment=still | {"mirror": m}) for m in (0.0, 1.0))
    torch.manual_seed(0)
    for i in range(len(plain)):
        p, n, m = plain[i], never[i], always[i]
        np.testing.assert_allclose(n["xyz"], p["xyz"], atol=1e-4)
        np.testing.assert_array_equal(m["image"], p["image"][:, ::-1])
        np.testing.assert_allclose(m["xyz"][:, 0], -p["xyz"][:, 0], atol=1e-4)
        np.testing.assert_allclose(m["uv"][:, 0], 95 - p["uv"][:, 0], atol=1e-3)
        np.testing.assert_allclose(project(m["xyz"], m["K"]), m["uv"], atol=1e-3)
        assert np.sign(curl_chirality(m["xyz"])) == -np.sign(curl_chirality(p["xyz"]))
    half = RHD(FIXTURES / "rhd", size=96, augment=still | {"mirror": 0.5})
    lefts = sum(curl_chirality(half[i % len(half)]["xyz"]) < 0 for i in range(40))
    assert 8 <= lefts <= 32


def test_hand_tilt_turns_hands_upright():
    from handclip.data.crop import hand_tilt

    uv = np.zeros((21, 2))
    for direction, tilt in (((0, -1), 0.0), ((1, 0), -90.0), ((-1, 0), 90.0), ((1, -1), -45.0)):
        uv[9] = direction  # the middle MCP from a wrist at the origin (image y points down)
        assert hand_tilt(uv) == pytest.approx(tilt)
    uv[9] = (0, 1)  # upside down: a half turn either way
    assert abs(hand_tilt(uv)) == pytest.approx(180.0)
    uv[9] = np.nan
    assert hand_tilt(uv) == 0.0


def test_upright_augmentation_stands_the_hand_up_with_exact_labels():
    import torch

    from handclip.data.crop import hand_tilt

    still = {"scale": [1.0, 1.0], "shift": 0.0, "rotation": 0.0, "brightness": 0.0, "contrast": 0.0, "saturation": 0.0}
    plain, always = (RHD(FIXTURES / "rhd", size=96, augment=still | {"upright": u}) for u in (0.0, 1.0))
    torch.manual_seed(0)
    assert max(abs(hand_tilt(plain[i]["uv"])) for i in range(len(plain))) > 20  # the fixtures' hands lean
    for i in range(len(always)):
        s, p = always[i], plain[i]
        assert abs(hand_tilt(s["uv"])) < 1e-3 and s["roll"] == pytest.approx(hand_tilt(p["uv"]), abs=1e-3)
        np.testing.assert_allclose(project(s["xyz"], s["K"]), s["uv"], atol=1e-3)
        np.testing.assert_allclose(bone_length(s["xyz"], (0, 9)), bone_length(p["xyz"], (0, 9)), rtol=1e-5)
    aug = Augment(rotation=10.0, upright=0.5)
    rng = np.random.default_rng(0)
    rolls = np.array([aug.geometry((0.0, 0.0, 10.0), rng, tilt=120.0)[1] for _ in range(400)])
    turned = np.abs(rolls - 120) <= 10
    assert (turned | (np.abs(rolls) <= 10)).all() and 0.4 < turned.mean() < 0.6


def test_augment_ranges_and_identity():
    aug = Augment(scale=(0.5, 2.0), shift=0.1, rotation=10.0)
    rng = np.random.default_rng(0)
    for _ in range(50):
        (cx, cy, side), angle = aug.geometry((100.0, 50.0, 40.0), rng)
        assert 20 <= side <= 80 and abs(cx - 100) <= 0.1 * side + 1e-9 and abs(cy - 50) <= 0.1 * side + 1e-9 and abs(angle) <= 10
    image = (np.random.default_rng(1).random((8, 8, 3)) * 255).astype(np.uint8)
    still = Augment(brightness=0, contrast=0, saturation=0, hue=0).colour(image, rng)
    np.testing.assert_allclose(still.astype(int), image.astype(int), atol=1)
    grey = np.full((4, 4, 3), 128, np.uint8)
    darker = Augment(brightness=0, contrast=0, saturation=0, gamma=[2.0, 2.0]).colour(grey, rng)
    assert (darker == 64).all()  # 255 (128 / 255) ** 2 = 64.25
    gammas = Augment.from_config({"brightness": 0, "contrast": 0, "saturation": 0, "gamma": [0.5, 2.0]})
    values = [gammas.colour(grey, rng)[0, 0, 0] for _ in range(200)]
    assert 64 <= min(values) < 100 and 160 < max(values) <= 181  # g in [0.5, 2]: 255 (128/255) ** g in [64, 180.7]
    assert Augment.from_config(None) is None and Augment.from_config(True) == Augment()
    assert Augment.from_config({"scale": [0.8, 1.2]}).scale == (0.8, 1.2)
    with pytest.raises(ValueError, match="unknown augmentation keys"):
        Augment.from_config({"rotate": 10})


def test_given_boxes_match_keypoint_crops_including_mirrored_hands(tmp_path):
    plain = RHD(FIXTURES / "rhd", size=96, margin=1.3)
    boxes = []
    for i in range(len(plain)):
        raw = plain.load_raw(i)  # original side: boxes are given before mirroring
        uv = project(raw["xyz"], raw["K"])
        lo, hi = uv.min(0), uv.max(0)
        boxes.append([lo[0] + 0.5, lo[1] + 0.5, *(hi - lo)])  # pixel-edge [x, y, w, h]
    path = tmp_path / "boxes.json"
    path.write_text(json.dumps(boxes))
    boxed = RHD(FIXTURES / "rhd", size=96, margin=1.3, crop="box", boxes=path)
    for i in range(len(plain)):
        np.testing.assert_allclose(boxed[i]["K"], plain[i]["K"], atol=1e-3)
        np.testing.assert_allclose(boxed[i]["image"], plain[i]["image"], atol=1)
    with pytest.raises(ValueError, match="go together"):
        RHD(FIXTURES / "rhd", crop="box")
    path.write_text(json.dumps([b[:3] for b in boxes]))
    with pytest.raises(MalformedDataError, match=r"boxes\.json: boxes has shape \(3, 3\), expected \(N, 4\)"):
        RHD(FIXTURES / "rhd", crop="box", boxes=path)
