"""COCO files around `handclip predict`: hand boxes in, keypoint results out.

Boxes: a COCO file (images[] with file_name, annotations[] with image_id and bbox [x, y, w, h], optional
hand_side and score; COCO-WholeBody's lefthand_box / righthand_box also work), matched to input images
by base file name. Results: COCO keypoint results, one per hand: image_id, category_id, keypoints
[u, v, score] x 21 in image pixels, score, bbox, plus hand_side. Put under `annotations` beside the boxes
file's `images`, they form a file the coco_hand reader reads. A joint's score is the method's confidence in it
(1 for a method that gives none); a hand's score is its box's (1 without a boxes file)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from handclip.data.coco_hand import coco_hands
from handclip.data.io import MalformedDataError, load_json

CATEGORY_HAND = 1


def load_boxes(path, default_side: str | None = "right") -> dict[str, dict]:
    """Base file name -> {'image_id', 'hands': [{'box', 'side', 'score'}]} for every image of a COCO file
    (images without annotations get no hands). Sides default to `default_side` (None: not known)."""
    coco = load_json(path)
    hands = coco_hands(coco, path, default_side, keypoints=False)
    images: dict[str, dict] = {}
    for image in coco["images"]:
        name = Path(image["file_name"]).name
        if name in images and images[name]["image_id"] != image["id"]:
            raise MalformedDataError(f"{path}: two images are named {name!r}; boxes are matched by file name")
        images[name] = {"image_id": image["id"], "hands": []}
    for hand in hands:
        x, y, w, h = hand["bbox"]
        if w <= 0 or h <= 0:
            raise MalformedDataError(f"{path}: a box of {hand['image']['file_name']} has width or height <= 0: {hand['bbox'].tolist()}")
        images[Path(hand["image"]["file_name"]).name]["hands"].append(
            {"box": [float(x), float(y), float(w), float(h)], "side": hand["side"], "score": hand["score"]})
    return images


def keypoint_result(image_id, result: dict, score: float = 1.0) -> dict:
    """One COCO keypoint result from a Predictor result (uv in image px, box, side, optional confidence)."""
    uv = np.asarray(result["uv"], np.float64)
    scores = np.asarray(result.get("confidence", np.ones(len(uv))), np.float64).reshape(-1, 1)
    keypoints = np.concatenate([np.round(uv, 2), np.round(scores, 4)], 1)
    return {"image_id": image_id, "category_id": CATEGORY_HAND, "keypoints": keypoints.ravel().tolist(),
            "score": float(score), "bbox": [round(float(v), 2) for v in result["box"]], "hand_side": result["side"]}


def write_results(path, results: list[dict]) -> Path:
    """Write COCO keypoint results (a JSON list) to `path`."""
    path = Path(path)
    path.write_text(json.dumps(results))
    return path
