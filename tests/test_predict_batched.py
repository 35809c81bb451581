"""predict on a folder: hands of several images in one forward pass give the one-by-one results, each file
keeps its own (a broken file in a batch included); one JSON and one overlay PNG per image, the 3D view on
request; the ordered thread map keeps order, bounds its look-ahead and passes errors on."""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from _reader_fixtures import FIXTURES
from PIL import Image

from handclip import cli
from handclip.api import read_image
from handclip.engine.checkpoint import build_method, save_checkpoint
from handclip.predict_stream import predict_stream
from handclip.prefetch import ordered_map

torch.set_num_threads(1)  # as predict does on 2 cores: two threads spin on each other on a busy machine
PHOTOS = sorted((FIXTURES / "freihand" / "training" / "rgb").glob("*.jpg"))[:5]
CONFIG = {"method": {"name": "dg_clip_baseline", "input_size": 64, "width": 0.25}}  # CPM + PosePrior, tiny


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    """A tiny convolutional DG-CLIP baseline with random weights: batching could change its numbers."""
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("model") / "tiny.pt"
    save_checkpoint({"model": build_method(CONFIG).state_dict(), "config": CONFIG}, path)
    return path


@pytest.fixture
def photos(tmp_path) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    for photo in PHOTOS:
        shutil.copy(photo, folder)
    return folder


def one_by_one(checkpoint: Path, files: list[Path]) -> list[dict]:
    """Each file predicted alone (batch 1), as predict did before batching."""
    import handclip

    predictor = handclip.load(checkpoint, device="cpu", batch_size=1, detector=None)
    return [predictor.predict(read_image(path))[0] for path in files]


def test_batched_stream_equals_one_by_one_and_skips_a_broken_file(checkpoint, photos):
    import handclip

    broken = photos / "00000001b.jpg"  # sorts between two good photos, inside the first batch of 3
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    files = sorted(photos.iterdir())
    predictor = handclip.load(checkpoint, device="cpu", batch_size=3, detector=None)
    whole = {"box": None, "side": "right", "score": 1.0}
    items = list(predict_stream(predictor, files, lambda path: [whole]))
    assert [item.path for item in items] == files
    assert [item.error is not None for item in items] == [path == broken for path in files]
    good = [item for item in items if item.error is None]
    for item, alone in zip(good, one_by_one(checkpoint, [item.path for item in good])):
        assert len(item.results) == 1
        # batched convolutions round differently; the heatmap decoding's Newton step (DARK) can lift that to 1e-4 px
        for key, atol in (("xyz", 1e-4), ("uv", 1e-3)):
            np.testing.assert_allclose(item.results[0][key], alone[key], rtol=0, atol=atol)
    uvs = [item.results[0]["uv"] for item in good]
    assert min(np.abs(a - b).max() for a, b in zip(uvs, uvs[1:])) > 1e-3  # photos differ: a mix-up would show


def test_command_writes_one_json_and_png_per_image(checkpoint, photos, tmp_path, capsys):
    out = tmp_path / "out"
    assert cli.main(["predict", str(photos), "--checkpoint", str(checkpoint), "--out", str(out), "--detector", "none",
                     "--batch-size", "2", "--device", "cpu"]) == 0
    stems = [p.stem for p in PHOTOS]
    assert sorted(p.name for p in out.iterdir()) == sorted([f"{s}.json" for s in stems] + [f"{s}.png" for s in stems])
    assert f"wrote {2 * len(stems)} files" in capsys.readouterr().out
    for photo, alone in zip(PHOTOS, one_by_one(checkpoint, PHOTOS)):
        record = json.loads((out / f"{photo.stem}.json").read_text())
        assert record["image"] == str(photos / photo.name) and record["side"] == "right"
        for key in ("xyz", "uv"):  # the JSON rounds to 3 decimals
            np.testing.assert_allclose(record[key], alone[key], rtol=0, atol=5e-4 + 1e-4)
        with Image.open(out / f"{photo.stem}.png") as png:
            overlay = np.asarray(png.convert("RGB"))
        image = read_image(photo)
        assert overlay.shape == image.shape and (overlay != image).any(axis=-1).mean() > 0.001  # skeleton drawn


def test_view3d_writes_the_3d_figure(checkpoint, tmp_path):
    out = tmp_path / "out"
    assert cli.main(["predict", str(PHOTOS[0]), "--checkpoint", str(checkpoint), "--out", str(out), "--detector",
                     "none", "--view3d", "--device", "cpu"]) == 0
    with Image.open(out / "view3d" / f"{PHOTOS[0].stem}.png") as figure:
        assert figure.format == "PNG" and figure.size == (900, 450)  # overlay beside the 3D view, 9 x 4.5 in at 100 dpi
        pixels = np.asarray(figure.convert("RGB"))
    assert (pixels[:, 450:] != 255).any(axis=-1).mean() > 0.01  # the right half holds the 3D plot, not blank
    assert (out / f"{PHOTOS[0].stem}.png").is_file() and (out / f"{PHOTOS[0].stem}.json").is_file()


def test_ordered_map_keeps_order_bounds_look_ahead_and_raises():
    started, lock = [], threading.Lock()

    def slow_for_early(k: int) -> int:
        with lock:
            started.append(k)
        time.sleep(0.02 if k % 3 == 0 else 0.0)  # later items finish first
        return k * k

    results = ordered_map(slow_for_early, range(20), workers=3, ahead=4)
    assert next(results) == 0
    assert max(started) <= 3  # nothing beyond the look-ahead of 4 was started
    assert list(results) == [k * k for k in range(1, 20)]

    def fail_at_2(k: int) -> int:
        if k == 2:
            raise ValueError("item 2")
        return k

    got = []
    with pytest.raises(ValueError, match="item 2"):
        for value in ordered_map(fail_at_2, range(10), ahead=3):
            got.append(value)
    assert got == [0, 1]
