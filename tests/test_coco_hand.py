"""The COCO hand-keypoint reader, its protocols and `handclip eval` on it: real photos of ../shared/realdev
(skipped where absent) and COCO files written here around the committed FreiHAND fixture photos."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from _reader_fixtures import FIXTURES

from handclip import cli
from handclip.data import build_dataset
from handclip.data.io import MalformedDataError, MissingDataError
from handclip.engine.checkpoint import load_model, save_checkpoint
from handclip.evaluator import Evaluator
from handclip.geometry import project
from handclip.methods import build

REALDEV = Path(os.environ.get("HANDCLIP_REALDEV", Path(__file__).resolve().parents[2] / "shared" / "realdev"))
FREIHAND_RGB = FIXTURES / "freihand" / "training" / "rgb"


@pytest.fixture(scope="module")
def realdev() -> Path:
    """The real development sets; tests needing them are skipped where they are absent."""
    if not (REALDEV / "hxp3d" / "annotations.json").is_file():
        pytest.skip(f"real development sets not found at {REALDEV} (set HANDCLIP_REALDEV)")
    return REALDEV


def crop_of_labels(uv, bbox, size: int, margin: float = 1.25) -> np.ndarray:
    """Labelled pixels in the square crop of side margin x max(w, h) around the box centre, resized to `size`."""
    x, y, w, h = bbox
    side = margin * max(w, h)
    centre = np.array([x + w / 2 - 0.5, y + h / 2 - 0.5])
    return (np.asarray(uv, np.float64) - centre + side / 2) * size / side - 0.5


def test_hxp3d_joint_cam_projects_onto_its_keypoints(realdev):
    coco = json.loads((realdev / "hxp3d" / "annotations.json").read_text())
    ds = build_dataset("coco_hand", root=realdev / "hxp3d", size=256)
    assert len(ds) == len(coco["annotations"]) == 35 and ds.has_3d and ds.default_protocol == "coco_3d"
    for i, ann in enumerate(coco["annotations"]):
        raw = ds.load_raw(i)
        keypoints = np.array(ann["keypoints"]).reshape(21, 3)[:, :2]
        assert np.abs(project(raw["xyz"], raw["K"]) - keypoints).max() < 1.0
    for i in (0, 17, 34):  # the crop keeps it: crop K projects the crop's xyz onto the labels moved by the crop
        sample, ann = ds[i], coco["annotations"][i]
        expected = crop_of_labels(np.array(ann["keypoints"]).reshape(21, 3)[:, :2], ann["bbox"], 256)
        assert np.abs(project(sample["xyz"].astype(np.float64), sample["K"].astype(np.float64)) - expected).max() < 1.0
        assert sample["side"] == "right" and sample["box_side"] == pytest.approx(256 / 1.25)


def test_lstm2d_crops_carry_the_2d_labels_and_mirror_left_hands(realdev):
    coco = json.loads((realdev / "lstm2d" / "annotations.json").read_text())
    ds = build_dataset("coco_hand", ann_file=realdev / "lstm2d" / "annotations.json", img_dir=realdev / "lstm2d", size=128)
    assert len(ds) == 944 and not ds.has_3d and ds.default_protocol == "coco_2d"
    sides = [a["hand_side"] for a in coco["annotations"]]
    for i in (sides.index("left"), sides.index("right")):
        sample, ann, width = ds[i], coco["annotations"][i], coco["images"][i]["width"]
        assert coco["images"][i]["id"] == ann["image_id"] == sample["image_id"] and sample["side"] == ann["hand_side"]
        uv = np.array(ann["keypoints"]).reshape(21, 3)[:, :2]
        x, y, w, h = ann["bbox"]
        if ann["hand_side"] == "left":  # mirrored image: u -> W - 1 - u, the box with it
            uv[:, 0], x = width - 1 - uv[:, 0], width - x - w
        np.testing.assert_allclose(sample["uv"], crop_of_labels(uv, (x, y, w, h), 128), atol=1e-3)
        assert sample["image_px"] * 128 == pytest.approx(1.25 * max(w, h), rel=1e-4)  # the crop spans 1.25 x the box
        assert np.isnan(sample["xyz"]).all() and sample["valid"].all() and (sample["visibility"] == 2).all()
        # the pixels follow: at every label the crop shows the (mirrored) photo's colour (median gap 2-3 levels
        # here; 41 with the photo left unmirrored)
        photo = ds.load_raw(i)["image"]
        photo = photo[:, ::-1] if ann["hand_side"] == "left" else photo
        at_labels = photo[tuple(np.round(uv[:, ::-1]).astype(int).T)].astype(int)
        in_crop = sample["image"][tuple(np.round(sample["uv"][:, ::-1]).astype(int).T)].astype(int)
        assert np.median(np.abs(at_labels - in_crop).max(1)) < 10


def coco_file(path: Path, annotations: list[dict], images=None) -> Path:
    """A COCO keypoints file over the FreiHAND fixture photos (224 x 224)."""
    images = images or [{"id": k, "file_name": f"rgb/{k:08d}.jpg", "width": 224, "height": 224} for k in range(2)]
    path.write_text(json.dumps({"images": images, "annotations": annotations, "categories": [{"id": 1, "name": "hand"}]}))
    return path


def keypoints(v: int = 2) -> list[float]:
    """21 labelled keypoints on a diagonal inside the 224 x 224 photo, visibility v."""
    return [c for k in range(21) for c in (60.0 + 5 * k, 50.0 + 6 * k, float(v))]


def test_wholebody_hands_sides_and_unlabelled_hands(tmp_path):
    annotations = [
        {"image_id": 0, "bbox": [0, 0, 224, 224], "lefthand_kpts": keypoints(), "lefthand_box": [55, 45, 110, 130],
         "lefthand_valid": True, "righthand_kpts": [0.0] * 63, "righthand_box": [0, 0, 0, 0], "righthand_valid": False},
        {"image_id": 1, "keypoints": keypoints(), "bbox": [55, 45, 110, 130]},  # no hand_side: the `side` argument
        {"image_id": 1, "keypoints": keypoints(0), "bbox": [55, 45, 110, 130], "hand_side": "left"},  # unlabelled
    ]
    ds = build_dataset("coco_hand", ann_file=coco_file(tmp_path / "hands.json", annotations), img_dir=FIXTURES / "freihand" / "training", size=64, side="left")
    assert len(ds) == 2 and [ds[i]["side"] for i in range(2)] == ["left", "left"]
    assert ds.skipped == {"hands with no labelled keypoint": 1}
    np.testing.assert_allclose(ds[0]["uv"], ds[1]["uv"], atol=1e-5)  # same labels and box, either format
    kp = build_dataset("coco_hand", ann_file=tmp_path / "hands.json", img_dir=FIXTURES / "freihand" / "training", size=64, crop="keypoints")
    uv = kp[1]["uv"]
    assert uv.min() >= 0 and uv.max() <= 63 and (uv.max(0) - uv.min(0)).max() == pytest.approx(64 / 1.25, abs=0.01)


@pytest.mark.parametrize("change, message", [
    (lambda a: a.pop("bbox"), r"annotations\[0\] lacks key\(s\) \['bbox'\]"),
    (lambda a: a.update(keypoints=[1.0] * 60), r"annotations\[0\] keypoints has shape \(60,\), expected \(63\)"),
    (lambda a: a.update(image_id=7), "refers to image_id 7, not in images"),
    (lambda a: a.update(hand_side="both"), "hand_side must be one of"),
    (lambda a: a.update(bbox=[10, 10, 0, 20]), "width and height must be positive"),
    (lambda a: a.update(joint_cam=[[0.0, 0.0, 500.0]] * 21), "has joint_cam but the image has no cam_param"),
])
def test_malformed_annotations_name_the_file_and_entry(tmp_path, change, message):
    annotation = {"image_id": 0, "keypoints": keypoints(), "bbox": [55, 45, 110, 130]}
    change(annotation)
    path = coco_file(tmp_path / "broken.json", [annotation])
    with pytest.raises(MalformedDataError, match=rf"broken\.json: .*{message}"):
        build_dataset("coco_hand", ann_file=path, img_dir=FIXTURES / "freihand" / "training")


def test_missing_or_unreadable_annotation_files_are_named(tmp_path):
    with pytest.raises(MissingDataError, match=r"coco_hand: missing file '.*nowhere.annotations\.json'"):
        build_dataset("coco_hand", root=tmp_path / "nowhere")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(MalformedDataError, match=r"bad\.json: not valid JSON"):
        build_dataset("coco_hand", ann_file=tmp_path / "bad.json", img_dir=tmp_path)
    with pytest.raises(MalformedDataError, match=r"empty\.json: no annotation with labelled hand keypoints"):
        build_dataset("coco_hand", ann_file=coco_file(tmp_path / "empty.json", []), img_dir=tmp_path)


def test_box_protocol_by_hand():
    gt = {"uv": np.zeros((1, 21, 2)), "valid": np.arange(21)[None] < 20, "box_side": np.array([100.0])}
    errors = np.where(np.arange(21) < 10, 10.0, 30.0)  # px: 10 joints at 0.1 of the box, 10 (+ 1 unlabelled) at 0.3
    pred = {"uv": np.stack([errors, np.zeros(21)], -1)[None]}
    evaluator = Evaluator("coco_2d")
    evaluator.process(pred, gt)
    m = evaluator.compute()["metrics"]
    assert m["epe_2d"] == pytest.approx(20.0) and m["epe_2d_box"] == pytest.approx(0.2)
    assert m["epe_2d_box_pck_0.2"] == pytest.approx(0.5) and "mpjpe" not in m and "epe_2d_image" not in m
    evaluator = Evaluator("coco_2d")  # a crop drawn at 2x the photo: the photo's pixels halve every error
    evaluator.process(pred, {**gt, "image_px": np.array([0.5])})
    assert evaluator.compute()["metrics"]["epe_2d_image"] == pytest.approx(10.0)
    gt3 = {**gt, "xyz": np.tile(np.arange(63.0).reshape(1, 21, 3), (1, 1, 1))}
    pred3 = {**pred, "xyz": gt3["xyz"] * 2}  # twice as large: PA-MPJPE 0, MPJPE the wrist-relative gap
    evaluator = Evaluator("coco_3d")
    evaluator.process(pred3, gt3)
    m = evaluator.compute()["metrics"]
    offsets = np.linalg.norm(gt3["xyz"][0] - gt3["xyz"][0, :1], axis=-1)
    assert m["pa_mpjpe"] == pytest.approx(0.0, abs=1e-6) and m["mpjpe"] == pytest.approx(offsets.mean())


@pytest.fixture(scope="module")
def mean_pose_ckpt(tmp_path_factory):
    """A mean_pose checkpoint (the mean is image-blind, so any crop gives the same joints)."""
    torch.manual_seed(0)
    method = build("mean_pose", input_size=64)
    path = tmp_path_factory.mktemp("ckpt") / "checkpoints" / "last.pt"
    save_checkpoint({"model": method.state_dict(), "config": {"method": {"name": "mean_pose", "input_size": 64}}}, path)
    return path


def test_eval_command_on_hxp3d_reports_2d_and_3d(realdev, mean_pose_ckpt, tmp_path, capsys):
    out = tmp_path / "eval"
    assert cli.main(["eval", "--checkpoint", str(mean_pose_ckpt), "--dataset", "coco_hand", "--root",
                     str(realdev / "hxp3d"), "--out", str(out), "--batch-size", "64"]) == 0
    results = json.loads((out / "coco_hand-hxp3d" / "metrics.json").read_text())
    assert results["protocol"] == "coco_3d" and results["num_samples"] == 35
    assert {"epe_2d", "epe_2d_box_pck_0.2", "epe_2d_auc_zb_2d_px", "mpjpe", "pa_mpjpe"} <= set(results["metrics"])
    assert (out / "coco_hand-hxp3d" / "pck.png").is_file()


def test_eval_write_pred_writes_freihand_pred_json(mean_pose_ckpt, tmp_path, capsys):
    root = tmp_path / "freihand"
    shutil.copytree(FIXTURES / "freihand", root)
    pred = tmp_path / "pred.json"
    args = ["eval", "--checkpoint", str(mean_pose_ckpt), "--dataset", "freihand", "--root", str(root),
            "--out", str(tmp_path / "eval"), "--write-pred", str(pred)]
    assert cli.main(args) == 0
    xyz, verts = json.loads(pred.read_text())
    mean = load_model(mean_pose_ckpt).predict({"image": torch.zeros(1, 64, 64, 3, dtype=torch.uint8)})["xyz"][0]
    assert np.array(xyz).shape == (2, 21, 3) and np.array(verts).shape == (2, 21, 3)  # no mesh: the joints stand in
    np.testing.assert_allclose(np.array(xyz)[1], mean.detach().numpy() / 1000.0, atol=1e-6)  # metres
    assert "verts hold its 21 joints" in capsys.readouterr().out
    assert cli.main(args) == 1 and "exists" in capsys.readouterr().err  # never overwritten
    pred.unlink()
    assert cli.main(args[:-2] + ["--split", "training", "--write-pred", str(pred)]) == 1
    assert "evaluation split" in capsys.readouterr().err and not pred.exists()
