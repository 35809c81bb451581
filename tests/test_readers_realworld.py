"""Reader of the real-world set of Ge et al. on the fixture cut from mmpose's left-hand RHD renders."""

from __future__ import annotations

import json

import numpy as np
import pytest
from _reader_fixtures import FIXTURES, assert_plausible_hand, copy_fixture
from scipy.io import loadmat, savemat

from handclip.data import build_dataset
from handclip.data.io import MalformedDataError
from handclip.data.realworld import RealWorld
from handclip.geometry import project
from handclip.skeleton import to_canonical

ROOT = FIXTURES / "realworld"


def test_crop_intrinsics_follow_the_authors_formula():
    ds = RealWorld(ROOT)
    fx, fy, u0, v0 = ds.cam[0]
    x, y, w, _ = ds.bbox[0]
    K = ds.load_raw(0)["K"]
    np.testing.assert_allclose(K, [[fx * 256 / w, 0, (u0 - x) * 256 / w], [0, fy * 256 / w, (v0 - y) * 256 / w], [0, 0, 1]])


def test_labels_reproject_onto_mmpose_2d_labels(mmpose_fixtures):
    """Crop i is RHD render i (both left hands); its 2D labels map into the crop by (u - x) 256 / w."""
    meta = json.loads((mmpose_fixtures / "rhd" / "test_rhd.json").read_text())
    ds = RealWorld(ROOT)
    for i in range(len(ds)):
        x, y, w, _ = ds.bbox[i]
        uv = to_canonical(np.asarray(meta["annotations"][i]["keypoints"])[:, :2], "rhd")
        raw = ds.load_raw(i)
        assert np.abs(project(raw["xyz"], raw["K"]) - (uv - [x, y]) * 256 / w).max() < 0.5


def test_centimetres_to_mm_left_hands_mirrored_and_mesh():
    pose_cm = loadmat(ROOT / "pose_gt.mat")["pose_gt"]
    ds = build_dataset("realworld", root=ROOT, size=224)
    for i in range(len(ds)):
        s = ds[i]
        assert s["side"] == "left" and s["image"].shape == (224, 224, 3)
        np.testing.assert_allclose(s["xyz"] * [-1, 1, 1], pose_cm[i] * 10, atol=1e-3)  # full crop: only mirrored
        np.testing.assert_allclose(project(s["xyz"], s["K"]), s["uv"], atol=1e-3)
        assert_plausible_hand(s["xyz"])
        assert s["verts"].shape == (778, 3)
        np.testing.assert_allclose(s["verts"][0], s["xyz"][0], atol=1e-2)  # the stand-in mesh starts at the wrist
    assert "verts" not in RealWorld(ROOT, verts=False)[0]




def test_label_array_of_wrong_shape(tmp_path):
    root = copy_fixture("realworld", tmp_path)
    savemat(root / "pose_gt.mat", {"pose_gt": np.zeros((2, 20, 3))})
    with pytest.raises(MalformedDataError, match=r"pose_gt\.mat: pose_gt has shape \(2, 20, 3\), expected \(2, 21, 3\)"):
        RealWorld(root)


def test_set_as_distributed_without_meshes(tmp_path):
    """The authors ship the meshes separately: real_hand_3D_mesh/ holds only a README, and samples have no verts."""
    root = copy_fixture("realworld", tmp_path)
    for obj in (root / "real_hand_3D_mesh").glob("*.obj"):
        obj.unlink()
    (root / "real_hand_3D_mesh" / "README.txt").write_text("meshes: a separate download\n")
    ds = RealWorld(root)
    assert ds.mesh_dir is None and "verts" not in ds[0] and ds[1]["xyz"].shape == (21, 3)
