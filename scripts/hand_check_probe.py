"""Can a pose model tell the detector's hands from its false boxes (faces, sleeves)? One JSON line per set.

Runs the detector on realdev's frames (operating min_score and max_hands), marks each kept box a hit (IoU >= 0.5
with a not-yet-matched labelled hand, best score first) or a false box, and reads every box's square crop with a
lixel pose model (CLIP-Hand3D): its confidence is the mean peak probability of the u and v lixel distributions,
the better of the crop and its mirror. Images without a labelled hand are left out. Prints the ROC AUC of that confidence (of the detector's score, and of
their product) between hits and false boxes, and the precision and recall left after dropping boxes under a confidence that
keeps 95 % of the hits (or under --threshold).

    python scripts/hand_check_probe.py --model clip_hand3d_cpu --sets lstm2d hxp3d
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np
import torch
from pose_diagnostics import lixel_peak  # scripts/ is on the path when a script runs

from handclip.api import load, read_image
from handclip.commands.eval_detector import labelled_set
from handclip.detection import detector as detection
from handclip.detection.evaluate import greedy_hits


def auc(positive: np.ndarray, negative: np.ndarray) -> float:
    """P(a random hit outscores a random false box), ties counted half."""
    if not len(positive) or not len(negative):
        return float("nan")
    diff = positive[:, None] - negative[None, :]
    return float((diff > 0).mean() + 0.5 * (diff == 0).mean())


@torch.no_grad()
def confidence(predictor, crops: list[np.ndarray]) -> np.ndarray:
    """Mean peak probability of the u/v lixel distributions, the better of each crop and its mirror."""
    method = predictor.method
    batch = {"image": torch.from_numpy(np.stack(crops)), "K": torch.eye(3).expand(len(crops), 3, 3)}
    image = method.prepare_batch(batch)[0]
    return torch.maximum(lixel_peak(method, image), lixel_peak(method, image.flip(-1))).numpy()


def probe(predictor, images: list, min_score: float, max_hands: int, threshold: float | None = None) -> dict:
    """Hits and false boxes of one set with their detector scores and pose confidences."""
    hit, score, conf = [], [], []
    for path, labels in images:
        picture = read_image(path)
        found = predictor.detector.detect([picture], max_hands, min_score)[0] if labels else []
        hit += greedy_hits([label["box"] for label in labels], [det["box"] for det in found])
        score += [det["score"] for det in found]
        if found:
            crops = [predictor.crop(picture, detection.pose_box(det["box"]))["image"] for det in found]
            conf.append(confidence(predictor, crops))
    hands = sum(len(labels) for _, labels in images)
    if not hit:
        return {"hands": hands, "boxes": 0}
    hit, score, conf = np.array(hit), np.array(score), np.concatenate(conf)
    cut = float(np.quantile(conf[hit], 0.05)) if threshold is None else threshold
    kept = conf >= cut
    return {"hands": hands, "boxes": len(hit), "hits": int(hit.sum()), "false": int((~hit).sum()),
            "auc_confidence": auc(conf[hit], conf[~hit]), "auc_detector_score": auc(score[hit], score[~hit]),
            "auc_product": auc((score * conf)[hit], (score * conf)[~hit]),
            "precision": float(hit.mean()), "recall": float(hit.sum() / hands),
            "confidence_cut" if threshold is not None else "confidence_cut_keeping_95pct_hits": cut,
            "precision_after_cut": float(hit[kept].mean()), "recall_after_cut": float(hit[kept].sum() / hands),
            "false_boxes_dropped": float(1 - (kept & ~hit).sum() / max((~hit).sum(), 1))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="a lixel pose model (name or file; default: the default model)")
    parser.add_argument("--detector", default="auto", help="detector name or file (default: the shipped one)")
    parser.add_argument("--sets", nargs="+", default=["lstm2d", "hxp3d"])
    parser.add_argument("--threshold", type=float, help="cut here (e.g. calibrated on renders by "
                        "scripts/hand_check_calibrate.py) instead of where 95 %% of the hits stay")
    parser.add_argument("--realdev", type=Path, default=Path(os.environ.get("HANDCLIP_REALDEV", "../shared/realdev")))
    args = parser.parse_args()
    predictor = load(args.model, device="cpu", detector=args.detector)
    for name in args.sets:
        label, images = labelled_set(name, args.realdev)
        print(json.dumps({"set": label, **probe(predictor, images, detection.MIN_SCORE, detection.MAX_HANDS,
                                                args.threshold)}), flush=True)


if __name__ == "__main__":
    main()
