"""The dataset presets (configs/datasets/*.yaml) resolve and build every entry on the fixtures."""

from __future__ import annotations

import numpy as np
import pytest
from _reader_fixtures import FIXTURES

from handclip.engine.config import PACKAGE_CONFIGS, load_config
from handclip.engine.evaluate import build_entry
from handclip.geometry import project

PRESETS = sorted(p.stem for p in (PACKAGE_CONFIGS / "datasets").glob("*.yaml"))


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
