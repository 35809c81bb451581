"""Would pose NMS help? Drops, per threshold and visiting order, of the hits and false boxes the default pipeline keeps.

Pose NMS (as mmpose's OKS-NMS and AlphaPose's pose NMS do for people) drops a detected hand whose skeleton lies on a
better hand's skeleton as a second reading of it. On the webcam photos a box on the face beside a hand reads that hand
(its pose square holds it), and box NMS cannot see it: the two boxes barely overlap. Runs the detector and the pose
model with its hand check as `handclip predict` does on held-out rendered frames (seed 777) and on `--sets`
(../shared/realdev), marks each kept box a hit (IoU >= 0.5 with a not-yet-matched hand) or a false one, then replays
pose NMS over each image's boxes, visiting them best detector score first or surest pose first (mean joint
confidence), a box going when its mean joint distance to a kept box's skeleton, over that skeleton's longer side, is
under the threshold. One JSON line. Measured, not adopted (docs/detector.md, stop 23).

    python scripts/pose_nms_probe.py --sets lstm2d hxp3d
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np
import torch
from hand_check_calibrate import held_out_frames  # scripts/ is on the path when a script runs

import handclip
from handclip.api import read_image
from handclip.commands.eval_detector import labelled_set
from handclip.detection import detector as detection
from handclip.detection.evaluate import greedy_hits

THRESHOLDS = (0.1, 0.2, 0.3, 0.5)
ORDERS = {"score": lambda hand: -hand["score"], "confidence": lambda hand: -float(np.mean(hand["confidence"]))}


def skeleton_distance(uv, reference) -> float:
    """Mean joint distance of skeleton `uv` (J, 2) from `reference` (J, 2) over the longer side of the reference's
    keypoint box: 0 for the same skeleton, about 1 for a hand beside it."""
    uv, reference = np.asarray(uv, np.float64), np.asarray(reference, np.float64)
    size = float((reference.max(0) - reference.min(0)).max())
    return float(np.linalg.norm(uv - reference, axis=-1).mean() / max(size, 1e-6))


def kept_by_nms(hands: list[dict], threshold: float, order) -> list[int]:
    """Indices of the hands pose NMS keeps, visiting them in `order`."""
    kept: list[int] = []
    for i in sorted(range(len(hands)), key=lambda i: order(hands[i])):
        if all(skeleton_distance(hands[i]["uv"], hands[j]["uv"]) >= threshold for j in kept):
            kept.append(i)
    return kept


def replay(predictor, images: list[np.ndarray], truths: list[list]) -> dict:
    """Kept boxes, hits and false ones, and per order and threshold the hits and false boxes pose NMS drops."""
    per_image = []
    for start in range(0, len(images), 16):
        chunk = images[start:start + 16]
        found = predictor.detector.detect(chunk, detection.MAX_HANDS, detection.MIN_SCORE)
        for truth, hands in zip(truths[start:start + 16], predictor.pose_hands(chunk, found)):
            per_image.append((hands, greedy_hits(truth, [hand["box"] for hand in hands])))
    hits = sum(sum(h) for _, h in per_image)
    boxes = sum(len(h) for _, h in per_image)
    report = {"boxes": boxes, "hits": hits, "false": boxes - hits, "dropped": {}}
    for name, order in ORDERS.items():
        for threshold in THRESHOLDS:
            kept = [(hit, kept_by_nms(hands, threshold, order)) for hands, hit in per_image]
            kept_hits = sum(sum(hit[i] for i in k) for hit, k in kept)
            kept_boxes = sum(len(k) for _, k in kept)
            report["dropped"][f"{name} {threshold}"] = {"hits": hits - kept_hits,
                                                        "false": boxes - hits - (kept_boxes - kept_hits)}
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="pose model name or file (default: the default model)")
    parser.add_argument("--n", type=int, default=400, help="held-out frames rendered (400)")
    parser.add_argument("--seed", type=int, default=777, help="their seed (777: no recipe trains on it)")
    parser.add_argument("--sets", nargs="*", default=[], help="realdev sets to replay too")
    parser.add_argument("--realdev", type=Path, default=Path(os.environ.get("HANDCLIP_REALDEV", "../shared/realdev")))
    args = parser.parse_args()
    torch.set_grad_enabled(False)
    predictor = handclip.load(args.model, device="cpu")
    frames = held_out_frames(args.n, args.seed)
    samples = [frames[i] for i in range(len(frames))]
    report = {"renders": {"frames": args.n, "seed": args.seed, **replay(
        predictor, [s["image"] for s in samples],
        [[box for box, valid in zip(s["boxes"], s["hand_valid"]) if valid] for s in samples])}}
    for name in args.sets:
        label, images = labelled_set(name, args.realdev)
        report[label] = replay(predictor, [read_image(path) for path, _ in images],
                               [[hand["box"] for hand in labels] for _, labels in images])
    print(json.dumps(report))


if __name__ == "__main__":
    main()
