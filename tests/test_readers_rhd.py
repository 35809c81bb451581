"""RHD reader on the fixture built from mmpose's three real RHD renders (tests/fixtures/rhd)."""

from __future__ import annotations

import pickle

import cv2
import numpy as np
import pytest
from _reader_fixtures import FIXTURES, assert_plausible_hand, copy_fixture

from handclip.data import build_dataset, collate
from handclip.data.io import MalformedDataError
from handclip.data.rhd import RHD
from handclip.geometry import project
from handclip.skeleton import to_canonical

ROOT = FIXTURES / "rhd"


def test_labels_reproject_onto_labelled_pixels_before_and_after_mirroring():
    ds = RHD(ROOT, split="evaluation")
    for i in range(len(ds)):
        raw = ds.load_raw(i)
        assert np.abs(project(raw["xyz"], raw["K"]) - raw["uv_label"]).max() < 0.5
        right = ds.right_hand(raw)
        assert np.abs(project(right["xyz"], right["K"]) - right["uv_label"]).max() < 0.5


def test_dominant_hand_from_mask_and_left_hands_mirrored():
    ds = RHD(ROOT, split="evaluation")
    assert [ds.load_raw(i)["side"] for i in range(len(ds))] == ["left", "left", "right"]  # mmpose hand_type
    raw = ds.load_raw(0)
    right = ds.right_hand(raw)
    np.testing.assert_array_equal(right["image"], raw["image"][:, ::-1])
    np.testing.assert_allclose(right["xyz"][:, 0], -raw["xyz"][:, 0])
    # mirroring swaps the thumb and little finger along x
    sample = ds[0]
    assert sample["side"] == "left"
    assert np.sign(sample["xyz"][4, 0] - sample["xyz"][20, 0]) == -np.sign(raw["xyz"][4, 0] - raw["xyz"][20, 0])


def test_mask_pixels_decide_the_dominant_hand(tmp_path):
    root = copy_fixture("rhd", tmp_path)
    mask_path = root / "evaluation" / "mask" / "00111.png"
    mask = cv2.imread(str(mask_path), cv2.IMREAD_UNCHANGED)
    mask[:100, :] = 20  # a large right-hand region now outweighs the labelled left hand
    cv2.imwrite(str(mask_path), mask)
    ds = RHD(root, split="evaluation")
    assert ds.load_raw(0)["side"] == "right"
    np.testing.assert_allclose(ds.load_raw(0)["xyz"], to_canonical(ds.anno[111]["xyz"], "rhd", offset=21))


def test_crop_keeps_projection_and_joint_order():
    ds = build_dataset("rhd", root=ROOT, split="evaluation", size=256)
    for i in range(len(ds)):
        s = ds[i]
        assert s["image"].shape == (256, 256, 3) and s["image"].dtype == np.uint8
        np.testing.assert_allclose(project(s["xyz"], s["K"]), s["uv"], atol=1e-3)
        assert (s["uv"] > 0).all() and (s["uv"] < 256).all()
        assert_plausible_hand(s["xyz"])


def test_visibility_becomes_valid_in_canonical_order(tmp_path):
    root = copy_fixture("rhd", tmp_path)
    path = root / "evaluation" / "anno_evaluation.pickle"
    anno = pickle.loads(path.read_bytes())
    anno[111]["uv_vis"][4, 2] = 0  # RHD left-hand index 4 = thumb MCP = canonical slot 1
    path.write_bytes(pickle.dumps(anno))
    valid = RHD(root, split="evaluation")[0]["valid"]
    assert not valid[1] and valid.sum() == 20


def test_both_hands_counts_the_invisible_ones():
    ds = RHD(ROOT, split="evaluation", hand="both")
    assert len(ds) == 3  # each fixture image's second hand has no visible keypoint
    assert ds.skipped == {"hands with no visible keypoint": 3}


def test_collate_batches_samples():
    ds = RHD(ROOT, split="evaluation", size=64)
    batch = collate([ds[i] for i in range(3)])
    assert batch["image"].shape == (3, 64, 64, 3) and batch["xyz"].shape == (3, 21, 3)
    assert batch["side"] == ["left", "left", "right"]




def test_label_array_of_wrong_shape(tmp_path):
    root = copy_fixture("rhd", tmp_path)
    path = root / "evaluation" / "anno_evaluation.pickle"
    anno = pickle.loads(path.read_bytes())
    anno[1111]["xyz"] = anno[1111]["xyz"][:21]
    path.write_bytes(pickle.dumps(anno))
    with pytest.raises(MalformedDataError, match=r"anno_evaluation\.pickle: entry 1111 'xyz' has shape \(21, 3\), expected \(42, 3\)"):
        RHD(root, split="evaluation")
