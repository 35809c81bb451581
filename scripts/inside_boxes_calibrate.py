"""How far inside a better box do the detector's true second hands and its false boxes lie? Calibrates NMS_INSIDE.

Renders held-out full frames of the detector's domains (seed 777: no recipe trains on it), runs the detector at the
operating point (MAX_HANDS, MIN_SCORE) with IoU-only NMS, and marks each box a hit (IoU >= 0.5 with a not-yet-matched
rendered hand) or a false one. For every box after an image's best it takes the largest share of its area inside a
better-scoring kept box, and prints one JSON line: for each threshold, the hits and false boxes that share would drop.
The same for the labelled photos of `--sets` (../shared/realdev), to be read after the threshold is chosen on renders.

    python scripts/inside_boxes_calibrate.py --sets lstm2d hxp3d
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np
import torch
from hand_check_calibrate import held_out_frames  # scripts/ is on the path when a script runs

from handclip.api import read_image
from handclip.commands.eval_detector import labelled_set
from handclip.detection import detector as detection
from handclip.detection.boxes import inside_matrix
from handclip.detection.evaluate import greedy_hits

THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9)


def inside_shares(detector, images: list[np.ndarray], truths: list[list]) -> tuple[np.ndarray, np.ndarray]:
    """Per box after each image's best: whether it is a hit, and its largest area share inside a better box."""
    hit, share = [], []
    for start in range(0, len(images), 16):
        found = detector.detect(images[start:start + 16], detection.MAX_HANDS, detection.MIN_SCORE)
        for truth, hands in zip(truths[start:start + 16], found):
            boxes = np.array([hand["box"] for hand in hands]).reshape(-1, 4)
            hits = greedy_hits(truth, list(boxes))
            inside = inside_matrix(boxes, boxes)
            for i in range(1, len(hands)):
                hit.append(hits[i])
                share.append(float(inside[i, :i].max()))
    return np.array(hit, bool), np.array(share)


def table(hit: np.ndarray, share: np.ndarray) -> dict:
    """Second boxes, hits and false ones, and what each threshold drops of them."""
    return {"second_boxes": len(hit), "hits": int(hit.sum()), "false": int((~hit).sum()),
            "dropped": {t: {"hits": int((share[hit] > t).sum()), "false": int((share[~hit] > t).sum())}
                        for t in THRESHOLDS}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--detector", default=None, help="detector name or file (default: the shipped one)")
    parser.add_argument("--n", type=int, default=400, help="held-out frames rendered (400)")
    parser.add_argument("--seed", type=int, default=777, help="their seed (777: no recipe trains on it)")
    parser.add_argument("--sets", nargs="*", default=[], help="realdev sets to report after calibrating")
    parser.add_argument("--realdev", type=Path, default=Path(os.environ.get("HANDCLIP_REALDEV", "../shared/realdev")))
    args = parser.parse_args()
    torch.set_grad_enabled(False)
    detector = detection.load_detector(args.detector, device="cpu")
    detector.inside = None  # IoU-only NMS: every box the rule would judge
    frames = held_out_frames(args.n, args.seed)
    samples = [frames[i] for i in range(len(frames))]
    truths = [[box for box, valid in zip(s["boxes"], s["hand_valid"]) if valid] for s in samples]
    report = {"renders": {"frames": args.n, "seed": args.seed,
                          **table(*inside_shares(detector, [s["image"] for s in samples], truths))}}
    for name in args.sets:
        label, images = labelled_set(name, args.realdev)
        report[label] = table(*inside_shares(detector, [read_image(path) for path, _ in images],
                                             [[hand["box"] for hand in labels] for _, labels in images]))
    print(json.dumps(report))


if __name__ == "__main__":
    main()
