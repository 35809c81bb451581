"""Full-frame scenes for a hand detector: boxes, scales, sides, determinism, export round trip."""

from __future__ import annotations

import json

import numpy as np
import pytest

from handclip.cli import main as cli_main
from handclip.data import build_dataset
from handclip.data.io import MalformedDataError
from handclip.data.synth.frame import BOX_FRACTION
from handclip.detection.boxes import iou_matrix
from handclip.data.synth.scene import pose_hand
from handclip.geometry import project

W, H = 320, 240


def chirality(xyz: np.ndarray) -> float:
    """Signed volume of (index MCP, little MCP, thumb MCP) about the wrist: > 0 on every right hand."""
    return float(np.linalg.det(np.stack([xyz[5] - xyz[0], xyz[17] - xyz[0], xyz[2] - xyz[0]])))


@pytest.fixture(scope="module")
def frames():
    data = build_dataset("synth_full", domain="texture", n=10, width=W, seed=0, mask=True)
    return [data[i] for i in range(len(data))]


def test_right_hands_have_positive_chirality():
    assert all(chirality(pose_hand(np.random.default_rng(k)).joints) > 0 for k in range(50))


def test_boxes_hold_every_joint_at_realistic_scales(frames):
    counts = []
    for f in frames:
        assert f["image"].shape == (H, W, 3) and f["mask"].shape == (H, W)
        counts.append(len(f["hands"]))
        for hand in f["hands"]:
            x, y, w, h = hand["box"]
            assert np.allclose(project(hand["xyz"].astype(float), f["K"].astype(float)), hand["uv"], atol=1e-3)
            assert (hand["uv"] >= [x, y]).all() and (hand["uv"] <= [x + w, y + h]).all()  # every joint in its box
            assert x >= 0 and y >= 0 and x + w <= W - 1 and y + h <= H - 1
            assert BOX_FRACTION[0] <= w / W <= BOX_FRACTION[1]
            assert hand["valid"].any() and f["mask"][int(y):int(y + h) + 1, int(x):int(x + w) + 1].any()
        if len(f["hands"]) == 2:
            assert iou_matrix(f["hands"][0]["box"], f["hands"][1]["box"])[0, 0] <= 0.2 + 1e-6
    assert set(counts) == {1, 2}


def test_left_hands_are_mirrored_right_hands(frames):
    sides = [h["side"] for f in frames for h in f["hands"]]
    assert set(sides) == {"left", "right"}
    for f in frames:
        for hand in f["hands"]:
            assert (chirality(hand["xyz"]) > 0) == (hand["side"] == "right")
    left = build_dataset("synth_full", domain="source", n=3, width=W, seed=1, side="left")
    assert {h["side"] for i in range(3) for h in left[i]["hands"]} == {"left"}


def test_frames_are_deterministic_and_sized():
    a = build_dataset("synth_full", domain="lowlight", n=2, width=W, height=200, seed=3)
    b = build_dataset("synth_full", domain="lowlight", n=2, width=W, height=200, seed=3)
    assert np.array_equal(a[1]["image"], b[1]["image"]) and a[1]["image"].shape == (200, W, 3)
    assert np.array_equal(a[1]["hands"][0]["box"], b[1]["hands"][0]["box"])
    with pytest.raises(ValueError, match="width"):
        build_dataset("synth_full", width=800)


def test_full_frame_export_round_trip(tmp_path):
    out = tmp_path / "full"
    assert cli_main(["synth", "--frame", "full", "--domain", "webcam", "--n", "3", "--size", str(W), "--out", str(out)]) == 0
    meta = json.loads((out / "annotations.json").read_text())
    assert meta["frame"] == "full" and meta["height"] == H and (out / "contact_sheet.png").is_file()
    folder = build_dataset("synth_full_folder", root=str(out))
    live = build_dataset("synth_full", domain="webcam", n=3, width=W)
    for i in range(3):
        a, b = folder[i], live[i]
        assert np.array_equal(a["image"], b["image"]) and a["style"] == b["style"]
        assert [h["side"] for h in a["hands"]] == [h["side"] for h in b["hands"]]
        for ha, hb in zip(a["hands"], b["hands"]):
            assert np.allclose(ha["box"], hb["box"], atol=1e-3) and np.array_equal(ha["valid"], hb["valid"])
    with pytest.raises(MalformedDataError, match="full frames.*synth_full_folder"):
        build_dataset("synth_folder", root=str(out))
