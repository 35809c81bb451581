"""FreiHAND reader on the fixture built from mmpose's eight real FreiHAND images (tests/fixtures/freihand)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from _reader_fixtures import FIXTURES, copy_fixture

from handclip.data import build_dataset
from handclip.data.freihand import FreiHAND
from handclip.data.io import MalformedDataError, MissingDataError, load_image, load_json_array
from handclip.geometry import project

ROOT = FIXTURES / "freihand"
POSES = (355, 17620)  # mmpose ids of the fixture's label rows 0 and 1


def test_labels_reproject_onto_mmpose_2d_labels(mmpose_fixtures):
    meta = json.loads((mmpose_fixtures / "freihand" / "test_freihand.json").read_text())
    uv = {a["image_id"]: np.reshape(a["keypoints"], (21, 3))[:, :2] for a in meta["annotations"]}
    ds = FreiHAND(ROOT, split="training")
    assert len(ds) == 8
    for i in range(len(ds)):
        raw = ds.load_raw(i)
        version, label = divmod(i, 2)
        original = POSES[label] + version * 32560  # mmpose file name of this image
        np.testing.assert_array_equal(raw["image"], load_image(mmpose_fixtures / "freihand" / f"{original:08d}.jpg"))
        assert np.abs(project(raw["xyz"], raw["K"]) - uv[original]).max() < 0.5


def test_label_index_is_image_index_mod_n_and_versions_select_blocks():
    ds = FreiHAND(ROOT, split="training", versions=("hom", "auto"))
    assert len(ds) == 4
    assert [ds.image_id(i) for i in range(4)] == [2, 3, 6, 7]
    assert [ds[i]["label_index"] for i in range(4)] == [0, 1, 0, 1]
    with pytest.raises(ValueError, match="versions"):
        FreiHAND(ROOT, split="training", versions="colour")


def test_units_verts_mano_and_mask():
    xyz_m = np.asarray(json.loads((ROOT / "training_xyz.json").read_text()))
    mano = np.asarray(json.loads((ROOT / "training_mano.json").read_text())).reshape(2, 61)
    s = build_dataset("freihand", root=ROOT, split="training", size=224, mask=True)[1]
    np.testing.assert_allclose(s["xyz"], xyz_m[1] * 1000, atol=1e-3)  # full-image crop at 224: no change
    assert s["verts"].shape == (778, 3) and np.abs(s["verts"]).max() > 100  # mm, not m
    np.testing.assert_allclose(s["mano"], mano[1], atol=1e-6)
    assert s["mask"].shape == (224, 224) and set(np.unique(s["mask"])) == {0, 1}
    np.testing.assert_allclose(project(s["xyz"], s["K"]), s["uv"], atol=1e-3)


def test_keypoint_crop_rescales_intrinsics():
    full = FreiHAND(ROOT, split="training", size=224)[0]
    tight = FreiHAND(ROOT, split="training", size=256, crop="keypoints", margin=1.2)[0]
    np.testing.assert_allclose(full["xyz"], tight["xyz"], atol=1e-4)
    np.testing.assert_allclose(project(tight["xyz"], tight["K"]), tight["uv"], atol=1e-3)
    span = tight["uv"].max(0) - tight["uv"].min(0)
    assert np.isclose(span.max(), 256 / 1.2, atol=0.5)  # the longer keypoint extent fills 1/margin of the crop


def test_evaluation_with_and_without_labels(tmp_path):
    labelled = FreiHAND(ROOT, split="evaluation")
    assert len(labelled) == 2 and labelled[0]["valid"].all()
    np.testing.assert_allclose(labelled[0]["scale"], np.linalg.norm(labelled[0]["xyz"][9] - labelled[0]["xyz"][10]), rtol=1e-5)
    root = copy_fixture("freihand", tmp_path)
    for stem in ("xyz", "verts"):
        (root / f"evaluation_{stem}.json").unlink()
    ds = FreiHAND(root, split="evaluation")
    s = ds[1]
    assert np.isnan(s["xyz"]).all() and not s["valid"].any() and "verts" not in s
    assert s["image"].shape == (224, 224, 3)
    with pytest.raises(ValueError, match="needs labels"):
        FreiHAND(root, split="evaluation", crop="keypoints")[0]



def test_missing_verts_file_suggests_reading_without(tmp_path):
    root = copy_fixture("freihand", tmp_path)
    (root / "training_verts.json").unlink()
    with pytest.raises(MissingDataError, match=r"training_verts\.json.*verts=False"):
        FreiHAND(root, split="training")
    assert len(FreiHAND(root, split="training", verts=False)) == 8



def test_label_array_of_wrong_shape(tmp_path):
    root = copy_fixture("freihand", tmp_path)
    xyz = json.loads((root / "training_xyz.json").read_text())
    (root / "training_xyz.json").write_text(json.dumps([x[:20] for x in xyz]))
    with pytest.raises(MalformedDataError, match=r"training_xyz\.json: xyz has shape \(2, 20, 3\), expected \(2, 21, 3\)"):
        FreiHAND(root, split="training")
    (root / "training_xyz.json").write_text("[[1, 2")
    with pytest.raises(MalformedDataError, match=r"training_xyz\.json: not valid JSON"):
        FreiHAND(root, split="training")


def test_streamed_vertices_file_checks_its_shape(tmp_path):
    root = copy_fixture("freihand", tmp_path)
    verts = np.asarray(json.loads((root / "training_verts.json").read_text()))
    for chunk in (7, 1000, 1 << 20):  # chunk boundaries fall inside numbers
        np.testing.assert_array_equal(load_json_array(root / "training_verts.json", (None, 778, 3), "verts", chunk), verts)
    (root / "training_verts.json").write_text(json.dumps(verts.transpose(0, 2, 1).tolist()))  # (2, 3, 778)
    with pytest.raises(MalformedDataError, match=r"training_verts\.json: verts has 4668 numbers nested 3 deep \(778 in the first row\), expected shape \(2, 778, 3\)"):
        FreiHAND(root, split="training")
    (root / "training_verts.json").write_text(json.dumps(verts.tolist())[:-9])  # truncated download
    with pytest.raises(MalformedDataError, match=r"training_verts\.json: verts has unbalanced brackets: truncated"):
        FreiHAND(root, split="training")


def test_missing_version_block_fails_early_naming_it(tmp_path):
    root = copy_fixture("freihand", tmp_path)
    (root / "training" / "rgb" / "00000007.jpg").unlink()
    with pytest.raises(MissingDataError, match=r"00000007\.jpg', the last image of version 'auto'; choose the versions"):
        FreiHAND(root, split="training")
    assert len(FreiHAND(root, split="training", versions=("gs", "hom", "sample"))) == 6
