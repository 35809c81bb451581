"""Scoring a hand detector on labelled photos (COCO boxes with optional hand_side, e.g. ../shared/realdev).

Per image the labelled hands are matched to the detections (each label to its best-overlapping detection
kept at the operating min_score): 'found' means IoU >= 0.5, 'side' that the matched detection's side equals
the label's. The precision/recall curve ranks every detection above a low floor by score; a detection is a
true positive when it overlaps a not-yet-matched label by IoU >= 0.5 (greedy by score, as in COCO/VOC),
so unlabelled hands that are truly in a picture count as false positives.
"""

from __future__ import annotations

import numpy as np

from handclip.detection.boxes import iou_matrix

IOU_HIT = 0.5


def match_image(labels: list[dict], detections: list[dict], min_score: float) -> list[dict]:
    """Per label {'iou': best IoU with a detection scoring >= min_score (0 when none), 'found', 'sided' (the
    label gives a side), 'side_ok' (None unless sided and found), 'score'} for one image."""
    kept = [d for d in detections if d["score"] >= min_score]
    out = []
    for label in labels:
        if not kept:
            out.append({"iou": 0.0, "found": False, "sided": label.get("side") is not None, "side_ok": None,
                        "score": None})
            continue
        ious = iou_matrix([label["box"]], [d["box"] for d in kept])[0]
        best = int(np.argmax(ious))
        found = bool(ious[best] >= IOU_HIT)
        side = label.get("side")
        out.append({"iou": float(ious[best]), "found": found, "score": kept[best]["score"], "sided": side is not None,
                    "side_ok": None if side is None or not found else kept[best]["side"] == side})
    return out


def greedy_hits(label_boxes: list, boxes: list) -> list[bool]:
    """Per detected box of one image, best score first: whether it overlaps a not-yet-matched labelled box by
    IoU >= IOU_HIT (greedy, as COCO/VOC match)."""
    taken = np.zeros(len(label_boxes), bool)
    hits = []
    for box in boxes:
        hit = False
        if len(label_boxes):
            ious = iou_matrix([box], label_boxes)[0]
            ious[taken] = -1.0
            best = int(np.argmax(ious))
            if ious[best] >= IOU_HIT:
                taken[best], hit = True, True
        hits.append(hit)
    return hits


def precision_recall(labels: list[list[dict]], detections: list[list[dict]]) -> dict:
    """{'score', 'precision', 'recall'} lists over every detection ranked by score, and 'ap' (area under the
    interpolated curve, all points) of all images' labels and detections."""
    scored = []
    for ls, dets in zip(labels, detections):
        dets = sorted(dets, key=lambda d: -d["score"])
        scored += zip((d["score"] for d in dets), greedy_hits([label["box"] for label in ls], [d["box"] for d in dets]))
    ranked = sorted(scored, key=lambda r: -r[0])
    total = sum(len(ls) for ls in labels)
    hits = [hit for _, hit in ranked]
    tp = np.cumsum(hits)
    precision = tp / np.arange(1, len(hits) + 1) if hits else np.zeros(0)
    recall = tp / max(total, 1) if hits else np.zeros(0)
    envelope = np.maximum.accumulate(precision[::-1])[::-1] if hits else np.zeros(0)
    steps = np.diff(np.r_[0.0, recall])
    return {"score": [round(r[0], 4) for r in ranked], "precision": precision.round(4).tolist(),
            "recall": recall.round(4).tolist(), "ap": float((steps * envelope).sum())}


def summarise(matches: list[list[dict]], curve: dict, min_score: float) -> dict:
    """The set's figures: labelled hands, found fraction (IoU >= 0.5), mean best IoU, side accuracy over all
    labelled sides (a missed hand counts wrong) and over the found ones, AP, and precision/recall at min_score."""
    flat = [m for ms in matches for m in ms]
    scores = np.array(curve["score"])
    at = int((scores >= min_score).sum())
    out = {"hands": len(flat), "found": float(np.mean([m["found"] for m in flat])) if flat else 0.0,
           "mean_iou": float(np.mean([m["iou"] for m in flat])) if flat else 0.0, "ap": curve["ap"],
           "min_score": min_score,
           "precision_at_min_score": curve["precision"][at - 1] if at else None,
           "recall_at_min_score": curve["recall"][at - 1] if at else 0.0}
    sided = [m for m in flat if m["sided"]]
    if sided:
        out["side_correct"] = float(np.mean([m["side_ok"] is True for m in sided]))
        judged = [m["side_ok"] for m in sided if m["side_ok"] is not None]
        out["side_correct_of_found"] = float(np.mean(judged)) if judged else None
    return out
