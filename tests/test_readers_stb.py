"""STB reader on the fixture made from mmpose's real RHD renders re-shot into STB's cameras (tests/fixtures/stb)."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from _reader_fixtures import FIXTURES, assert_plausible_hand, copy_fixture
from scipy.io import loadmat, savemat

from handclip.data import build_dataset
from handclip.data.io import MalformedDataError, MissingDataError, load_image
from handclip.data.stb import STB, sk_depth_to_colour
from handclip.geometry import palm_from_wrist, project
from handclip.skeleton import to_canonical
from handclip.viz.colours import joint_rgb

ROOT = FIXTURES / "stb"


def _colour_at(image: np.ndarray, uv: np.ndarray) -> np.ndarray:
    """Mean colour of a 3x3 patch around each pixel position."""
    blurred = cv2.blur(image.astype(np.float32), (3, 3))
    idx = np.clip(np.round(uv).astype(int), 0, [image.shape[1] - 1, image.shape[0] - 1])
    return blurred[idx[:, 1], idx[:, 0]]


def test_sk_depth_to_colour_matches_rodrigues():
    R, _ = cv2.Rodrigues(np.array([0.00531, -0.01196, 0.00301]))
    x = np.array([[10.0, -20.0, 500.0], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(sk_depth_to_colour(x), x @ R.T + [-24.0381, -0.4563, -1.2326], atol=1e-4)


def test_sk_labels_land_on_the_photographed_joints(mmpose_fixtures):
    """B1Counting frame 0 is mmpose's RHD render 00111 (a left hand) re-shot into the SK camera."""
    meta = json.loads((mmpose_fixtures / "rhd" / "test_rhd.json").read_text())
    rhd_uv = to_canonical(np.asarray(meta["annotations"][0]["keypoints"])[:, :2], "rhd")
    rhd_colour = _colour_at(load_image(mmpose_fixtures / "rhd" / "00111.png"), rhd_uv)
    ds = STB(ROOT, split="test", subset="SK")
    raw = ds.load_raw(0)
    ok = np.abs(_colour_at(raw["image"], project(raw["xyz"], raw["K"]))[1:] - rhd_colour[1:]).mean()
    without_transform = loadmat(ROOT / "labels" / "B1Counting_SK.mat")["handPara"][:, :, 0].T
    wrong = np.abs(_colour_at(raw["image"], project(to_canonical(without_transform, "stb"), raw["K"]))[1:] - rhd_colour[1:]).mean()
    assert ok < 5 and wrong > 3 * ok  # measured: 1.8 vs 18 grey levels


def test_bb_right_view_uses_the_baseline():
    ds = STB(ROOT, split="test", subset="BB")
    assert len(ds) == 4 and [ds.items[i][2] for i in range(2)] == ["left", "right"]
    raw = ds.load_raw(1)  # the right view is a drawing with a disc of the joint's colour on every joint
    uv = np.round(project(raw["xyz"], raw["K"])).astype(int)
    np.testing.assert_array_equal(raw["image"][uv[:, 1], uv[:, 0]], [joint_rgb(k) for k in range(21)])


def test_wrist_estimated_from_palm_and_hand_mirrored():
    ds = STB(ROOT, split="test", subset="SK")
    raw = ds.load_raw(0)
    para = loadmat(ROOT / "labels" / "B1Counting_SK.mat")["handPara"][:, :, 0].T
    palm_colour = sk_depth_to_colour(para[0])
    np.testing.assert_allclose(palm_from_wrist(raw["xyz"], 0.5)[0], palm_colour, atol=1e-6)
    s = ds[0]
    assert s["side"] == "left"
    assert np.sign(s["xyz"][4, 0] - s["xyz"][20, 0]) == -np.sign(raw["xyz"][4, 0] - raw["xyz"][20, 0])
    np.testing.assert_allclose(project(s["xyz"], s["K"]), s["uv"], atol=1e-3)
    for i in range(len(ds)):
        assert_plausible_hand(ds[i]["xyz"])


def test_split_by_sequence():
    test = build_dataset("stb", root=ROOT, split="test", subset="SK", size=224)
    assert [item[0] for item in test.items] == ["B1Counting", "B1Random"]
    with pytest.raises(MissingDataError, match=r"B2Random_SK\.mat"):
        STB(ROOT, split="train")  # the fixture holds only B2Counting of the training sequences
    train = STB(ROOT, sequences=["B2Counting"])
    assert len(train) == 1 and train[0]["sequence"] == "B2Counting"




def test_label_array_of_wrong_shape(tmp_path):
    root = copy_fixture("stb", tmp_path)
    path = root / "labels" / "B1Counting_SK.mat"
    savemat(path, {"handPara": loadmat(path)["handPara"][:, :20]})
    with pytest.raises(MalformedDataError, match=r"B1Counting_SK\.mat: handPara has shape \(3, 20, 1\), expected \(3, 21, N\)"):
        STB(root)
    savemat(path, {"joints": np.zeros(3)})
    with pytest.raises(MalformedDataError, match=r"B1Counting_SK\.mat: missing variable\(s\) \['handPara'\]"):
        STB(root)


def test_missing_view_fails_early(tmp_path):
    root = copy_fixture("stb", tmp_path)
    (root / "images" / "B1Random" / "BB_right_0.png").unlink()
    with pytest.raises(MissingDataError, match=r"missing file .*B1Random[/\\]BB_right_0\.png"):
        STB(root, subset="BB")
    assert len(STB(root, subset="BB", views=("left",))) == 2
