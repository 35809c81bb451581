"""Scoring a hand detector: matching labels to detections, the precision/recall curve and AP on hand-computed
cases, and `handclip eval-detector` writing its JSON and figure for a folder of labelled photos."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from handclip import cli
from handclip.detection.evaluate import match_image, precision_recall, summarise
from handclip.engine.checkpoint import save_checkpoint
from handclip.methods import build

torch.set_num_threads(1)


def det(box, score, side="right") -> dict:
    return {"box": box, "score": score, "side": side}


def test_match_uses_the_best_overlap_above_min_score_and_judges_its_side():
    label = {"box": [0, 0, 10, 10], "side": "left"}
    dets = [det([0, 0, 10, 10], 0.2, "left"), det([5, 0, 10, 10], 0.9, "right")]
    [low] = match_image([label], dets, min_score=0.1)  # the exact box wins: IoU 1
    assert low == {"iou": 1.0, "found": True, "sided": True, "side_ok": True, "score": 0.2}
    [high] = match_image([label], dets, min_score=0.5)  # only the shifted box is left: IoU 50 / 150
    assert high["iou"] == pytest.approx(1 / 3) and not high["found"] and high["side_ok"] is None
    [none] = match_image([{"box": [0, 0, 10, 10], "side": None}], [], 0.3)
    assert none["iou"] == 0.0 and not none["found"] and not none["sided"]


def test_precision_recall_by_hand():
    labels = [[{"box": [0, 0, 10, 10]}], [{"box": [50, 50, 20, 20]}], []]
    found = [[det([0, 0, 10, 10], 0.9), det([1, 0, 10, 10], 0.8)],  # the second repeats a matched hand: false
             [det([0, 0, 5, 5], 0.7)], [det([3, 3, 4, 4], 0.6)]]  # image 2 misses; image 3 has no hand
    curve = precision_recall(labels, found)
    assert curve["score"] == [0.9, 0.8, 0.7, 0.6]
    assert curve["precision"] == pytest.approx([1, 0.5, 1 / 3, 0.25], abs=1e-4)
    assert curve["recall"] == [0.5, 0.5, 0.5, 0.5] and curve["ap"] == pytest.approx(0.5)
    matches = [match_image(ls, ds, 0.75) for ls, ds in zip(labels, found)]
    s = summarise(matches, curve, 0.75)
    assert s["hands"] == 2 and s["found"] == 0.5 and s["precision_at_min_score"] == 0.5 and s["recall_at_min_score"] == 0.5
    assert "side_correct" not in s  # no label gives a side


def test_side_accuracy_counts_missed_hands_as_wrong():
    labels = [[{"box": [0, 0, 10, 10], "side": "left"}], [{"box": [0, 0, 10, 10], "side": "right"}],
              [{"box": [0, 0, 10, 10], "side": "right"}]]
    found = [[det([0, 0, 10, 10], 0.9, "left")], [det([0, 0, 10, 10], 0.9, "left")], []]
    matches = [match_image(ls, ds, 0.3) for ls, ds in zip(labels, found)]
    s = summarise(matches, precision_recall(labels, found), 0.3)
    assert s["side_correct"] == pytest.approx(1 / 3) and s["side_correct_of_found"] == 0.5


def test_eval_detector_command_writes_summary_and_figure(tmp_path, capsys):
    folder = tmp_path / "set"
    (folder / "images").mkdir(parents=True)
    for i in (1, 2):
        Image.fromarray(np.full((60, 80, 3), 90 * i, np.uint8)).save(folder / "images" / f"{i}.jpg")
    coco = {"images": [{"id": i, "file_name": f"images/{i}.jpg", "width": 80, "height": 60} for i in (1, 2)],
            "annotations": [{"id": i, "image_id": i, "bbox": [10, 10, 30, 20], "hand_side": "left"} for i in (1, 2)]}
    (folder / "annotations.json").write_text(json.dumps(coco))
    ckpt = save_checkpoint({"model": build("hand_detector", input_size=64, width=0.25, neck=16).state_dict(),
                            "config": {"method": {"name": "hand_detector", "input_size": 64, "width": 0.25, "neck": 16}}},
                           tmp_path / "det.pt")
    out = tmp_path / "eval"
    assert cli.main(["eval-detector", "--detector", str(ckpt), "--sets", str(folder), "--out", str(out),
                     "--min-score", "0"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    s = summary["sets"]["set"]
    assert s["hands"] == 2 and 0 <= s["found"] <= 1 and 0 <= s["side_correct"] <= 1 and s["min_score"] == 0
    assert (out / "precision_recall.png").stat().st_size > 1000 and "set: 2 hands" in capsys.readouterr().out


def test_eval_detector_takes_each_side_from_a_pose_model_reading_either_hand(tmp_path, monkeypatch, capsys):
    from handclip.data.synth.scene import pose_hand
    from handclip.detection.detector import HandDetector
    from handclip.skeleton import mirror_xyz

    folder = tmp_path / "set"
    (folder / "images").mkdir(parents=True)
    Image.fromarray(np.full((60, 80, 3), 90, np.uint8)).save(folder / "images" / "1.jpg")
    coco = {"images": [{"id": 1, "file_name": "images/1.jpg", "width": 80, "height": 60}],
            "annotations": [{"id": 1, "image_id": 1, "bbox": [10, 10, 30, 20], "hand_side": "left"}]}
    (folder / "annotations.json").write_text(json.dumps(coco))
    detector = {"name": "hand_detector", "input_size": 64, "width": 0.25, "neck": 16}
    ckpt = save_checkpoint({"model": build(**detector).state_dict(), "config": {"method": detector}}, tmp_path / "det.pt")
    # the detector finds the labelled box and calls it a right hand
    monkeypatch.setattr(HandDetector, "detect", lambda self, images, max_hands, min_score:
                        [[{"box": [10.0, 10.0, 30.0, 20.0], "score": 0.9, "side": "right"}] for _ in images])

    def pose_model(xyz, mirror: float):
        method = build("mean_pose", input_size=32)
        with torch.no_grad():
            method.xyz.copy_(torch.as_tensor((xyz - xyz[0]) / method.mm_scale, dtype=torch.float32))
        config = {"method": {"name": "mean_pose", "input_size": 32}, "data": {"train": {"augment": {"mirror": mirror}}}}
        return save_checkpoint({"model": method.state_dict(), "config": config}, tmp_path / f"pose{mirror}.pt")

    left = mirror_xyz(pose_hand(np.random.default_rng(0)).joints)
    sides = {}
    both = str(pose_model(left, 0.5))
    for name, extra in (("detector", []), ("pose", ["--pose", both]), ("look", ["--pose", both, "--upright-look"]),
                        ("around", ["--pose", both, "--look-around"])):
        out = tmp_path / name
        assert cli.main(["eval-detector", "--detector", str(ckpt), "--sets", str(folder), "--out", str(out), *extra]) == 0
        summary = json.loads((out / "summary.json").read_text())
        sides[name] = (summary["side_from"], summary["sets"]["set"]["side_correct"], summary["upright_look"],
                       summary["look_around"])
    assert sides["detector"] == ("detector", 0.0, False, False) and sides["pose"][1:] == (1.0, False, False)
    assert sides["look"][1:] == (1.0, True, False)  # the turned look's skeleton, turned back, keeps its side
    assert sides["around"][1:] == (1.0, False, True)  # so do the five looks blended
    capsys.readouterr()
    assert cli.main(["eval-detector", "--detector", str(ckpt), "--sets", str(folder), "--out", str(tmp_path / "r"),
                     "--pose", str(pose_model(left, 0.0))]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "right hands only" in err, err
