"""predict names its outputs uniquely when stems collide (hand.jpg and hand.png) and warns, in one line,
when a box reaches past the image."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from handclip import cli
from handclip.commands.predict import output_stems
from handclip.engine.checkpoint import save_checkpoint
from handclip.methods import build


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("model") / "model.pt"
    save_checkpoint({"model": build("mean_pose", input_size=32).state_dict(),
                     "config": {"method": {"name": "mean_pose", "input_size": 32}}}, path)
    return path


def test_output_stems_never_collide():
    files = [Path(n) for n in ("a/hand.jpg", "a/hand.png", "a/hand_jpg.png", "a/other.PNG", "a/hand.JPG")]
    stems = output_stems(files)
    assert stems[Path("a/other.PNG")] == "other" and stems[Path("a/hand.png")] == "hand_png"
    assert stems[Path("a/hand.jpg")] == "hand_jpg" and stems[Path("a/hand_jpg.png")] == "hand_jpg_2"
    assert stems[Path("a/hand.JPG")] == "hand_jpg_3" and len(set(stems.values())) == len(files)


def test_same_stem_images_keep_both_outputs(model, tmp_path, capsys):
    images = tmp_path / "images"
    images.mkdir()
    for suffix in ("jpg", "png"):
        Image.fromarray(np.full((40, 30, 3), 100, np.uint8)).save(images / f"hand.{suffix}")
    out = tmp_path / "pred"
    assert cli.main(["predict", str(images), "--checkpoint", str(model), "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["hand_jpg.json", "hand_jpg.png", "hand_png.json", "hand_png.png"]
    assert json.loads((out / "hand_png.json").read_text())["image"].endswith("hand.png")
    assert "wrote 4 files" in capsys.readouterr().out


def test_box_past_the_image_warns_in_one_line(model, tmp_path, capsys):
    image = tmp_path / "hand.png"
    Image.fromarray(np.full((40, 30, 3), 100, np.uint8)).save(image)
    assert cli.main(["predict", str(image), "--checkpoint", str(model), "--out", str(tmp_path / "p"),
                     "--box", "20,10,30,20"]) == 0
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == ["handclip predict: warning: box (20.0, 10.0, 30.0, 20.0) reaches past the 30x40 image; "
                     "the part outside is black in the crop"]


def test_a_second_run_into_the_same_out_refuses_to_replace_the_first_ones_outputs(model, tmp_path, capsys):
    image = tmp_path / "hand.png"
    Image.fromarray(np.full((40, 30, 3), 100, np.uint8)).save(image)
    other = tmp_path / "other.png"
    Image.fromarray(np.full((40, 30, 3), 50, np.uint8)).save(other)
    out = tmp_path / "pred"
    assert cli.main(["predict", str(image), "--checkpoint", str(model), "--out", str(out)]) == 0
    first = (out / "hand.json").read_bytes()
    capsys.readouterr()
    assert cli.main(["predict", str(image), "--checkpoint", str(model), "--out", str(out), "--box", "0,0,20,20"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "hand.json" in err and "--overwrite" in err
    assert (out / "hand.json").read_bytes() == first  # nothing of the first run was touched
    assert cli.main(["predict", str(other), "--checkpoint", str(model), "--out", str(out)]) == 0  # new inputs: fine
    assert cli.main(["predict", str(image), "--checkpoint", str(model), "--out", str(out), "--box", "0,0,20,20",
                     "--overwrite"]) == 0
    assert (out / "hand.json").read_bytes() != first
