"""Predict (API + command), left-hand mirroring, crop back-mapping, and ONNX export parity."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from handclip import cli
from handclip.api import Predictor, read_image
from handclip.engine.checkpoint import save_checkpoint
from handclip.export import PARITY_TOLERANCE, export_onnx, ort_session, parity
from handclip.methods import build
from handclip.methods.base import Method
from handclip.skeleton import mirror_image, mirror_uv, mirror_xyz



@pytest.fixture
def fixture_image() -> str:
    """A real FreiHAND training image (224x224, from mmpose's samples) in the committed reader fixtures."""
    return str(Path(__file__).parent / "fixtures" / "freihand" / "training" / "rgb" / "00000000.jpg")


class BrightSpot(Method):
    """Test method whose every keypoint is the soft-argmax of image brightness: uv follows the pixels,
    and x of xyz grows with u, so crop, mirroring and back-mapping errors all show."""

    input_size = 64

    def forward(self, image):
        b, _, s, _ = image.shape
        weights = torch.softmax(image.mean(1).reshape(b, -1) * 200.0, -1).reshape(b, s, s)
        grid = torch.arange(s, dtype=image.dtype)
        uv = torch.stack([(weights.sum(1) * grid).sum(-1), (weights.sum(2) * grid).sum(-1)], -1)
        uv = uv[:, None].expand(b, 21, 2)
        xyz = torch.cat([uv - (s - 1) / 2, torch.full_like(uv[..., :1], 500.0)], -1)
        return xyz, uv

    def predict(self, batch):
        xyz, uv = self(batch["image"].permute(0, 3, 1, 2).float() / 255)
        return {"xyz": xyz, "uv": uv}

    def inference_model(self):
        return self


def dot_image(width=200, height=120, at=(150, 40)) -> np.ndarray:
    """Dark image with one bright 3x3 spot centred at pixel `at` (u, v)."""
    image = np.full((height, width, 3), 20, np.uint8)
    u, v = at
    image[v - 1 : v + 2, u - 1 : u + 2] = 255
    return image


@pytest.fixture(scope="module")
def mean_pose_ckpt(tmp_path_factory):
    """A mean_pose checkpoint whose mean is a fixed asymmetric pose inside the crop."""
    torch.manual_seed(0)
    method = build("mean_pose", input_size=64)
    with torch.no_grad():
        method.xyz.uniform_(-1, 1)
        method.xyz[0] = 0
        method.uv.uniform_(-0.9, 0.9)
    path = tmp_path_factory.mktemp("ckpt") / "checkpoints" / "last.pt"
    save_checkpoint({"model": method.state_dict(), "config": {"method": {"name": "mean_pose", "input_size": 64}}}, path)
    return path


def test_predict_command_writes_json_and_png(mean_pose_ckpt, tmp_path, fixture_image):
    out = tmp_path / "pred"
    assert cli.main(["predict", fixture_image, "--checkpoint", str(mean_pose_ckpt), "--out", str(out)]) == 0
    result = json.loads((out / "00000000.json").read_text())
    xyz, uv = np.array(result["xyz"]), np.array(result["uv"])
    assert xyz.shape == (21, 3) and uv.shape == (21, 2)
    height, width = read_image(fixture_image).shape[:2]
    assert (uv >= -0.5).all() and (uv[:, 0] <= width - 0.5).all() and (uv[:, 1] <= height - 0.5).all()
    with Image.open(out / "00000000.png") as png:
        assert png.format == "PNG" and png.size == (width, height)  # the overlay at the image's size, no 3D panel
    assert not (out / "view3d").exists()


def test_predict_command_on_a_video(mean_pose_ckpt, tmp_path, fixture_image):
    import cv2

    frame = cv2.cvtColor(read_image(fixture_image), cv2.COLOR_RGB2BGR)
    video = tmp_path / "clip.mp4"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, frame.shape[1::-1])
    for _ in range(5):
        writer.write(frame)
    writer.release()
    out = tmp_path / "pred"
    assert cli.main(["predict", str(video), "--checkpoint", str(mean_pose_ckpt), "--out", str(out),
                     "--max-frames", "3", "--batch-size", "2"]) == 0
    frames = [json.loads(line) for line in (out / "clip.jsonl").read_text().splitlines()]
    assert [f["frame"] for f in frames] == [0, 1, 2] and np.array(frames[2]["uv"]).shape == (21, 2)
    assert cv2.VideoCapture(str(out / "clip_overlay.mp4")).get(cv2.CAP_PROP_FRAME_COUNT) == 3
    assert (out / "clip.png").is_file()


def test_crop_maps_back_to_original_pixels(mean_pose_ckpt):
    import handclip

    predictor = handclip.load(mean_pose_ckpt, device="cpu")
    box = (40, 30, 100, 80)  # square side 100 centred at (89.5, 69.5), scale 100/64
    [result] = predictor.predict(dot_image(), boxes=box)
    uv_crop = predictor.method.predict({"image": torch.zeros(1, 64, 64, 3, dtype=torch.uint8)})["uv"][0].numpy()
    expected = (uv_crop + 0.5) * 100 / 64 - 0.5 + np.array([40, 20])
    np.testing.assert_allclose(result["uv"], expected, atol=1e-3)


@pytest.mark.parametrize("left", [False, True])
def test_image_dependent_uv_lands_on_the_spot(left):
    image = dot_image(at=(150, 40))
    [result] = Predictor(BrightSpot(), device="cpu").predict(image, boxes=(110, 10, 70, 60), left=left)
    np.testing.assert_allclose(result["uv"], np.tile([150, 40], (21, 1)), atol=1.0)
    assert result["side"] == ("left" if left else "right")


def test_left_flag_mirrors_back_consistently(mean_pose_ckpt, fixture_image):
    import handclip

    image, box = read_image(fixture_image), (30, 20, 150, 170)
    mirrored_box = (image.shape[1] - box[0] - box[2], box[1], box[2], box[3])
    mean_pose = handclip.load(mean_pose_ckpt, device="cpu")
    for predictor in (mean_pose, Predictor(BrightSpot(), device="cpu")):
        [left] = predictor.predict(image, boxes=box, left=True)
        [right] = predictor.predict(mirror_image(image), boxes=mirrored_box, left=False)
        np.testing.assert_allclose(left["uv"], mirror_uv(right["uv"], image.shape[1]), atol=0.05)
        np.testing.assert_allclose(left["xyz"], mirror_xyz(right["xyz"]), atol=0.05)
    # the image-independent mean pose comes back mirrored when flagged left: x negated, y and z kept
    [plain], [left] = mean_pose.predict(image, boxes=box), mean_pose.predict(image, boxes=box, left=True)
    np.testing.assert_allclose(left["xyz"], plain["xyz"] * [-1, 1, 1], atol=1e-5)
    assert np.abs(plain["xyz"][:, 0]).max() > 1.0


def test_predict_rejects_bad_input(mean_pose_ckpt, tmp_path):
    import handclip

    predictor = handclip.load(mean_pose_ckpt, device="cpu")
    with pytest.raises(FileNotFoundError, match="missing.jpg"):
        predictor.predict(str(tmp_path / "missing.jpg"))
    with pytest.raises(ValueError, match="box"):
        predictor.predict(dot_image(), boxes=(0, 0, 0, 10))
    with pytest.raises(ValueError, match="2 entries for 1 images"):
        predictor.predict(dot_image(), left=[True, False])


@pytest.mark.parametrize("which", ["bright_spot", "mean_pose", "dg_clip_baseline"])
def test_onnx_matches_pytorch(which, mean_pose_ckpt, tmp_path):
    from handclip.engine.checkpoint import load_model

    torch.manual_seed(0)
    method = {
        "bright_spot": BrightSpot,
        "mean_pose": lambda: load_model(mean_pose_ckpt),
        "dg_clip_baseline": lambda: build("dg_clip_baseline", input_size=64, width=0.25),  # CPM + PosePrior, tiny
    }[which]().eval()
    path, names = export_onnx(method, tmp_path / "model.onnx", exporter="torchscript")
    diffs = parity(method, ort_session(path, threads=1), names, batch=3)  # exported at batch 2: dynamic batch
    assert set(diffs) == set(names) and max(d["max_abs"] for d in diffs.values()) <= PARITY_TOLERANCE


def test_export_command_reports_parity(mean_pose_ckpt, tmp_path, capsys):
    onnx_path = tmp_path / "mean_pose.onnx"
    assert cli.main(["export", "--checkpoint", str(mean_pose_ckpt), "--onnx", str(onnx_path), "--threads", "1",
                     "--speed-batches", ""]) == 0
    out = capsys.readouterr().out
    assert onnx_path.is_file() and "parity: max abs diff 0 " in out
