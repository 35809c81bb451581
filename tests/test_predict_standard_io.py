"""Predict's standard inputs and outputs on the committed real FreiHAND photos: a COCO boxes file in, COCO
keypoint results out (read back by the coco_hand reader), mesh files, the mesh overlay, H.264 / mp4v video."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from _reader_fixtures import FIXTURES

from handclip import cli
from handclip.api import Predictor
from handclip.commands.predict import predict_images
from handclip.data import build_dataset
from handclip.data.synth.mesh import GLTF_TO_VIEW, keypoints, load_template
from handclip.mesh.files import load_obj, save_mesh
from handclip.methods.base import Method
from handclip.video import MP4V_NOTE, VideoWriter
from handclip.viz.mesh_overlay import draw_mesh, weak_perspective

PHOTOS = FIXTURES / "freihand" / "training" / "rgb"
SCALE, SHIFT = 0.2, (32.0, 50.0)  # crop px per mm and crop px of the wrist for the template hand
CONFIDENCE = torch.linspace(0.1, 0.9, 21)  # the template hand's per-joint confidence


def template_hand() -> tuple[np.ndarray, np.ndarray]:
    """The renderer's rest-pose hand, palm to the camera, wrist at the origin: joints (21, 3), verts (V, 3), mm."""
    t = load_template()
    xyz = keypoints(t.rest_world) @ GLTF_TO_VIEW.T
    verts = t.vertices.astype(np.float64) @ GLTF_TO_VIEW.T
    return xyz - xyz[:1], verts - xyz[:1]


class TemplateHand(Method):
    """Test method predicting the template hand for every image: a mesh method with known counts."""

    input_size = 64

    def predict(self, batch):
        xyz, verts = (torch.as_tensor(a, dtype=torch.float32) for a in template_hand())
        uv = xyz[:, :2] * SCALE + torch.tensor(SHIFT)
        b = len(batch["image"])
        return {"xyz": xyz.expand(b, -1, -1), "uv": uv.expand(b, -1, -1), "verts": verts.expand(b, -1, -1),
                "confidence": CONFIDENCE.expand(b, -1)}


def boxes_file(path: Path) -> Path:
    """Two boxes on photo 0 (the second a left hand), photo 1 listed without boxes, photo 2 not listed."""
    images = [{"id": 10, "file_name": "rgb/00000000.jpg"}, {"id": 11, "file_name": "00000001.jpg"},
              {"id": 12, "file_name": "elsewhere.jpg"}]
    annotations = [{"image_id": 10, "bbox": [20, 30, 100, 120], "score": 0.9},
                   {"image_id": 10, "bbox": [110, 40, 90, 90], "hand_side": "left", "score": 0.6}]
    path.write_text(json.dumps({"images": images, "annotations": annotations}))
    return path


def test_boxes_in_coco_results_out_and_back_through_the_reader(tmp_path, capsys):
    photos = tmp_path / "photos"
    photos.mkdir()
    for k in range(3):
        shutil.copy(PHOTOS / f"{k:08d}.jpg", photos)
    out = tmp_path / "out"
    out.mkdir()
    files = sorted(photos.iterdir())
    boxes = boxes_file(tmp_path / "boxes.json")
    predict_images(Predictor(TemplateHand(), device="cpu"), files, None, False, out, boxes=boxes, coco=True)
    two = json.loads((out / "00000000.json").read_text())["hands"]
    assert [h["side"] for h in two] == ["right", "left"] and [h["score"] for h in two] == [0.9, 0.6]
    assert [h["box"] for h in two] == [[20, 30, 100, 120], [110, 40, 90, 90]]
    for hand in two:  # each hand's keypoints lie in the square crop around its own box
        x, y, w, h = hand["box"]
        centre, half = np.array([x + w / 2, y + h / 2]), max(w, h) / 2
        assert (np.abs(np.array(hand["uv"]) - centre) <= half).all()
    assert json.loads((out / "00000001.json").read_text()) == {"image": str(files[1]), "hands": []}
    absent = json.loads((out / "00000002.json").read_text())
    assert absent["hands"] == [] and "no entry in" in absent["note"]
    assert "1 image(s) have no entry in" in capsys.readouterr().out
    assert (out / "00000000.png").is_file() and not list(out.glob("*_hand*.png"))  # one picture, both hands
    assert not (out / "00000001.png").exists()  # no hand, no overlay
    results = json.loads((out / "coco_keypoints.json").read_text())
    assert [r["image_id"] for r in results] == [10, 10] and [r["bbox"] for r in results] == [h["box"] for h in two]
    for r, hand in zip(results, two):
        kp = np.array(r["keypoints"]).reshape(21, 3)
        np.testing.assert_allclose(kp[:, :2], hand["uv"], atol=0.006)
        np.testing.assert_allclose(kp[:, 2], CONFIDENCE.numpy(), atol=1e-4)  # each joint's score: its confidence
        np.testing.assert_allclose(hand["confidence"], CONFIDENCE.numpy(), atol=1e-3)
        assert r["category_id"] == 1 and r["score"] == hand["score"]
    # round trip: the results under `annotations` beside the boxes file's images read as a coco_hand set
    round_trip = tmp_path / "round_trip.json"
    round_trip.write_text(json.dumps({"images": json.loads(boxes.read_text())["images"], "annotations": results}))
    ds = build_dataset("coco_hand", ann_file=round_trip, img_dir=photos, size=64)
    assert len(ds) == 2 and [ds.load_raw(i)["side"] for i in range(2)] == ["right", "left"]
    for i, hand in enumerate(two):
        np.testing.assert_allclose(ds.load_raw(i)["uv_label"], hand["uv"], atol=0.006)


@pytest.mark.parametrize("left", [False, True])
def test_saved_obj_reloads_with_the_mesh_counts(tmp_path, left):
    template = load_template()
    out = tmp_path / "out"
    out.mkdir()
    predict_images(Predictor(TemplateHand(), device="cpu"), [PHOTOS / "00000000.jpg"], None, left, out, mesh_format="obj")
    verts, faces = load_obj(out / "00000000.obj")
    assert verts.shape == template.vertices.shape and faces.shape == template.faces.shape == (2314, 3)
    expected = template_hand()[1] * ([-1, 1, 1] if left else 1)  # left hands come back mirrored
    np.testing.assert_allclose(verts, expected, atol=1e-3)
    np.testing.assert_array_equal(faces, template.faces[:, ::-1] if left else template.faces)  # winding kept outward
    assert (out / "00000000.png").is_file()


def test_obj_of_points_and_polygons(tmp_path):
    path = save_mesh(tmp_path / "points.obj", np.eye(3))
    verts, faces = load_obj(path)
    assert verts.shape == (3, 3) and faces.shape == (0, 3)
    (tmp_path / "quad.obj").write_text("v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nf 1/1 2/2 3/3 -1/4\n")
    np.testing.assert_array_equal(load_obj(tmp_path / "quad.obj")[1], [[0, 1, 2], [0, 2, 3]])


def test_ply_and_glb_through_trimesh(tmp_path):
    trimesh = pytest.importorskip("trimesh")
    verts, faces = template_hand()[1], load_template().faces
    for fmt, scale in (("ply", 1.0), ("glb", 1e-3)):
        mesh = trimesh.load(save_mesh(tmp_path / f"hand.{fmt}", verts, faces), force="mesh", process=False)
        assert len(mesh.vertices) == len(verts) and len(mesh.faces) == len(faces)
        np.testing.assert_allclose(mesh.bounds, np.array([verts.min(0), verts.max(0)]) * scale, rtol=1e-4, atol=1e-6)


def test_mesh_overlay_covers_the_projected_mesh():
    xyz, verts = template_hand()
    s, t = 0.5, np.array([100.0, 140.0])
    pred = {"xyz": xyz, "uv": xyz[:, :2] * s + t, "verts": verts}
    fitted_s, fitted_t = weak_perspective(pred["xyz"], pred["uv"])
    assert fitted_s == pytest.approx(s) and fitted_t == pytest.approx(t)
    black = np.zeros((160, 200, 3), np.uint8)
    covered = draw_mesh(black, pred, load_template().faces).any(-1)
    uv = verts[:, :2] * s + t
    rows, cols = np.nonzero(covered)
    assert cols.min() >= uv[:, 0].min() - 1.5 and cols.max() <= uv[:, 0].max() + 1.5
    assert rows.min() >= uv[:, 1].min() - 1.5 and rows.max() <= min(uv[:, 1].max() + 1.5, 159)
    assert covered.sum() > 0.25 * np.ptp(cols) * np.ptp(rows)
    # the left hand (mirrored mesh, joints and pixels) covers the mirrored pixels, whatever its winding
    mirror = np.array([-1.0, 1.0, 1.0])
    left = {"xyz": xyz * mirror, "uv": np.c_[199 - pred["uv"][:, 0], pred["uv"][:, 1]], "verts": verts * mirror}
    covered_left = draw_mesh(black, left, load_template().faces).any(-1)
    assert (covered_left != covered[:, ::-1]).mean() < 0.005


def test_video_writer_h264_with_pyav_else_mp4v(tmp_path):
    import cv2

    writer = VideoWriter(tmp_path / "clip.mp4", 10.0, (75, 51))  # odd sizes: H.264 pads to even
    for k in range(4):
        writer.write(np.full((51, 75, 3), 60 * k, np.uint8))
    writer.close()
    has_av = importlib.util.find_spec("av") is not None
    assert (writer.codec, writer.note) == (("h264", "") if has_av else ("mp4v", MP4V_NOTE))
    assert cv2.VideoCapture(str(tmp_path / "clip.mp4")).get(cv2.CAP_PROP_FRAME_COUNT) == 4


@pytest.mark.parametrize("extra, message", [
    (["--boxes", "boxes.json"], "apply to images, not to a video"),
    (["--format", "coco"], "apply to images, not to a video"),
])
def test_video_refuses_image_only_outputs(tmp_path, capsys, extra, message):
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"")
    assert cli.main(["predict", str(video), "--checkpoint", str(tmp_path / "none.pt"), *extra]) == 1
    assert message in capsys.readouterr().err


def test_boxes_file_problems_are_one_line(tmp_path, capsys):
    image = str(PHOTOS / "00000000.jpg")
    args = ["predict", image, "--checkpoint", str(tmp_path / "none.pt"), "--out", str(tmp_path / "out")]
    assert cli.main(args + ["--boxes", str(tmp_path / "missing.json")]) == 1
    assert "--boxes: no such file" in capsys.readouterr().err
    assert cli.main(args + ["--boxes", str(boxes_file(tmp_path / "b.json")), "--box", "1,2,3,4"]) == 1
    assert "not both" in capsys.readouterr().err
    if importlib.util.find_spec("trimesh") is None:
        assert cli.main(args + ["--save-mesh", "ply"]) == 1
        assert "needs trimesh" in capsys.readouterr().err
