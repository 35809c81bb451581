"""The pre-rendered training cache: same pixels and labels as on-the-fly renders, refuses foreign folders."""

import numpy as np
import pytest

from handclip.data import build_dataset
from handclip.data.synth.cache import split_counts
from handclip.geometry import project


def test_split_counts_sum_and_proportions():
    counts = split_counts({"source": 1, "texture": 2}, 10)
    assert counts == {"source": 3, "texture": 7} or counts == {"source": 4, "texture": 6}
    assert sum(split_counts({"source": 0.3, "texture": 0.3, "lowlight": 0.4}, 11).values()) == 11
    with pytest.raises(KeyError, match="known"):
        split_counts({"nowhere": 1}, 4)
    with pytest.raises(ValueError, match="weights"):
        split_counts({}, 4)


def test_cache_matches_renderer_and_reloads(tmp_path):
    spec = dict(name="synth_cache", root=tmp_path / "c", domains={"source": 1, "texture": 1}, n=4, size=64,
                render_size=64, seed=3, workers=1)
    ds = build_dataset(**spec)
    live = build_dataset("synth", domain="texture", n=2, size=64, seed=3)
    s, r = ds[3], live[1]  # the second texture sample
    assert s["domain"] == "texture"
    assert np.array_equal(s["image"], r["image"])
    np.testing.assert_allclose(s["xyz"], r["xyz"], atol=1e-4)
    np.testing.assert_allclose(s["uv"], project(s["xyz"], s["K"]), atol=1e-3)
    mtime = (tmp_path / "c" / "images.npy").stat().st_mtime_ns
    build_dataset(**spec)  # same settings: read back, not re-rendered
    assert (tmp_path / "c" / "images.npy").stat().st_mtime_ns == mtime
    with pytest.raises(FileExistsError, match="other settings"):
        build_dataset(**(spec | {"n": 6}))


def test_cache_augmentation_keeps_labels_consistent(tmp_path):
    ds = build_dataset("synth_cache", root=tmp_path / "c", domains={"source": 1}, n=2, size=48, render_size=64,
                       workers=1, augment={"rotation": 40.0, "scale": [0.8, 1.2]})
    s = ds[0]
    assert s["image"].shape == (48, 48, 3)
    np.testing.assert_allclose(s["uv"], project(s["xyz"], s["K"]), atol=1e-3)


def test_default_root_is_keyed_by_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("HANDCLIP_CACHE", str(tmp_path))
    a = build_dataset("synth_cache", domains={"source": 1}, n=2, size=32, render_size=32, workers=1)
    b = build_dataset("synth_cache", domains={"source": 1}, n=3, size=32, render_size=32, workers=1)
    assert a.root.parent == b.root.parent == tmp_path / "synth" and a.root != b.root
    assert len(a) == 2 and len(b) == 3


def test_an_interrupted_render_is_started_again(tmp_path):
    root = tmp_path / "c"
    root.mkdir()
    (root / "images.partial.npy").write_bytes(b"half written")  # what a killed render leaves
    ds = build_dataset("synth_cache", root=root, domains={"source": 1}, n=2, size=32, render_size=32, workers=1)
    assert len(ds) == 2 and not list(root.glob("*.partial.npy"))
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not an unfinished cache"):
        build_dataset("synth_cache", root=tmp_path / "other", domains={"source": 1}, n=2, size=32, render_size=32,
                      workers=1)
    assert (tmp_path / "other" / "notes.txt").read_text() == "mine"
