"""Every real-dataset reader fed a wrong root, another dataset's folder, a missing label file or a truncated
image: the error names the file and the problem (label arrays of the wrong shape: per-reader test files)."""

from __future__ import annotations

import re

import pytest
from _reader_fixtures import FIXTURES, copy_fixture, truncate

from handclip.data import build_dataset
from handclip.data.io import MalformedDataError, MissingDataError

# name -> (what the root error calls it, a file its layout lists, another dataset's fixture and the
# file this reader then misses, (label file to delete, kwargs), (image to truncate, sample index))
CASES = {
    "freihand": ("FreiHAND", "training_xyz.json", ("rhd", "evaluation_K.json"), ("training_xyz.json", {"split": "training"}), ("evaluation/rgb/00000001.jpg", 1)),
    "rhd": ("RHD", "anno_evaluation.pickle", ("freihand", "evaluation/anno_evaluation.pickle"), ("training/anno_training.pickle", {"split": "training"}), ("evaluation/color/01111.png", 1)),
    "stb": ("STB", "labels/<seq>_SK.mat", ("rhd", "labels/B1Counting_SK.mat"), ("labels/B1Random_BB.mat", {"subset": "BB"}), ("images/B1Random/SK_color_0.png", 1)),
    "realworld": ("real-world test set", "params.mat", ("stb", "params.mat"), ("pose_gt.mat", {}), ("images/00001.jpg", 1)),
}


@pytest.mark.parametrize("name", CASES)
def test_wrong_root_names_the_folder_and_the_layout(name, tmp_path):
    label, listed, _, _, _ = CASES[name]
    with pytest.raises(MissingDataError, match=rf"(?s){re.escape(label)} root .*nowhere.*{re.escape(listed)}"):
        build_dataset(name, root=tmp_path / "nowhere")


@pytest.mark.parametrize("name", CASES)
def test_folder_of_another_dataset_names_the_missing_file(name):
    other, missing = CASES[name][2]
    with pytest.raises(MissingDataError, match=rf"missing .*file '.*{re.escape(missing)}'"):
        build_dataset(name, root=FIXTURES / other)


@pytest.mark.parametrize("name", CASES)
def test_missing_label_file(name, tmp_path):
    rel, kwargs = CASES[name][3]
    root = copy_fixture(name, tmp_path)
    (root / rel).unlink()
    with pytest.raises(MissingDataError, match=rf"missing .*file '.*{re.escape(rel.split('/')[-1])}'"):
        build_dataset(name, root=root, **kwargs)


@pytest.mark.parametrize("name", CASES)
def test_truncated_image(name, tmp_path):
    rel, index = CASES[name][4]
    root = copy_fixture(name, tmp_path)
    truncate(root / rel)
    ds = build_dataset(name, root=root)
    with pytest.raises(MalformedDataError, match=rf"{re.escape(rel.split('/')[-1])}: cannot decode image, truncated or corrupt"):
        ds[index]
