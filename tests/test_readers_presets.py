"""The dataset presets (configs/datasets/*.yaml) resolve and build every entry on the fixtures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from _reader_fixtures import FIXTURES

from handclip.engine.config import PACKAGE_CONFIGS, load_config
from handclip.engine.evaluate import build_entry
from handclip.geometry import project

REAL_PHOTOS = "realdev"  # ../shared/realdev, not a fixture: tested below, skipped where absent
PRESETS = sorted(p.stem for p in (PACKAGE_CONFIGS / "datasets").glob("*.yaml") if p.stem != REAL_PHOTOS)
REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("preset", PRESETS)
def test_preset_entries_build_on_fixtures(preset):
    data = load_config(f"datasets/{preset}")["data"]
    entries = ([data["train"]] if "train" in data else []) + list(data.get("val", []))
    assert entries
    for entry in entries:
        ds = build_entry(dict(entry, root=FIXTURES / entry["name"]))
        s = ds[0]
        assert s["image"].shape == (entry["size"], entry["size"], 3)
        np.testing.assert_allclose(project(s["xyz"], s["K"]), s["uv"], atol=1e-2)
        assert ("roll" in s) == bool(entry.get("augment"))


def test_cross_dataset_preset_is_dg_clip_setting():
    data = load_config("datasets/freihand_to_stb_rhd")["data"]
    assert data["train"]["name"] == "freihand"
    assert [(v["name"], v["protocol"]) for v in data["val"]] == [("stb", "stb"), ("rhd", "rhd")]


def test_realdev_preset_builds_256_px_crops_of_the_real_photos():
    data = load_config(f"datasets/{REAL_PHOTOS}")["data"]
    roots = [REPO / e["root"] for e in data["val"]]
    if not all(r.is_dir() for r in roots):
        pytest.skip(f"real development photos absent ({', '.join(str(r) for r in roots)}): nothing to build")
    for entry, root in zip(data["val"], roots):
        ds = build_entry(dict(entry, root=root))
        s = ds[0]
        assert s["image"].shape == (256, 256, 3)
        span = np.ptp(s["uv"], axis=0).max()  # keypoints' box = labelled box / 1.2, crop = labelled box x 1.5
        assert 256 / 1.5 / 1.2 * 0.95 < span < 256 / 1.5 / 1.2 * 1.05
