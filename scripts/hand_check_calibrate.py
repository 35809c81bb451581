"""The hand check's threshold for a pose model, calibrated on held-out renders, never on the photos it is judged on.

Renders full frames of the detector's domains from a seed no recipe trains on, runs the detector (min_score, max_hands
as predict) and the pose model on every box as `handclip predict` does, and marks each box a hit (IoU >= 0.5 with a
not-yet-matched rendered hand) or a false one. The threshold is the mean joint confidence that keeps `--keep` of the
hits; it is printed as JSON with the confidence quantiles of hits and false boxes, ready for
`handclip pack --min-confidence`.

    python scripts/hand_check_calibrate.py --model runs/X/checkpoints/last.pt --keep 0.98

With --second-look the confidences are those of the two looks predict blends at a box its first look is unsure of
(handclip.refine.SecondLook, every box read both ways): `handclip pack --min-confidence-second-look`.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch

import handclip
from handclip.api import Predictor
from handclip.data import build_dataset
from handclip.detection import detector as detection
from handclip.detection.evaluate import greedy_hits
from handclip.engine.config import load_config
from handclip.refine import SecondLook


def hits_and_confidences(predictor, frames, batch_size: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """Per kept box over all frames: whether it is a hit, and its pose's mean joint confidence."""
    hit, conf = [], []
    for start in range(0, len(frames), batch_size):
        chunk = [frames[i] for i in range(start, min(len(frames), start + batch_size))]
        images = [sample["image"] for sample in chunk]
        found = predictor.detector.detect(images, detection.MAX_HANDS, detection.MIN_SCORE)
        posed = predictor.pose_hands(images, found, min_confidence=0.0)
        for sample, hands in zip(chunk, posed):  # hands best score first
            truth = [box for box, valid in zip(sample["boxes"], sample["hand_valid"]) if valid]
            hit += greedy_hits(truth, [hand["box"] for hand in hands])
            conf += [float(np.mean(hand["confidence"])) for hand in hands]
    return np.array(hit, bool), np.array(conf)


def held_out_frames(n: int, seed: int):
    """`n` rendered full frames of the shipped detector's domain mixture from `seed` (777: no recipe trains on it)."""
    domains = load_config("detector/cpu")["data"]["train"]["domains"]
    return build_dataset("synth_full_cache", domains=domains, n=n, seed=seed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="a lixel pose model (name or file) as predict loads it")
    parser.add_argument("--detector", default="auto", help="detector name or file (default: the shipped one)")
    parser.add_argument("--keep", type=float, default=0.98, help="share of the rendered hits the threshold keeps")
    parser.add_argument("--n", type=int, default=400, help="held-out frames rendered (400)")
    parser.add_argument("--seed", type=int, default=777, help="their seed (777: no recipe trains on it)")
    parser.add_argument("--upright-look", action="store_true", help="calibrate the model read with the second look")
    parser.add_argument("--look-around", action="store_true", help="calibrate the model read with five looks blended")
    parser.add_argument("--second-look", action="store_true",
                        help="calibrate the blend of the first look and the mirrored upright one (a model that reads "
                        "either hand)")
    args = parser.parse_args()
    torch.set_grad_enabled(False)
    predictor = handclip.load(args.model, device="cpu", detector=args.detector, upright_look=args.upright_look,
                              look_around=args.look_around,
                              min_confidence=0.0)
    if args.second_look:
        if not predictor.reads_side:
            parser.error(f"--second-look: {args.model} reads right hands only; the second look is its mirror image")
        predictor = Predictor(SecondLook(predictor.method), detector=predictor.detector, reads_side=True)
    hit, conf = hits_and_confidences(predictor, held_out_frames(args.n, args.seed))
    threshold = float(np.quantile(conf[hit], 1 - args.keep))
    quantiles = (0.02, 0.05, 0.25, 0.5)
    print(json.dumps({"model": args.model, "frames": args.n, "seed": args.seed, "boxes": len(hit),
                      "hits": int(hit.sum()), "false": int((~hit).sum()), "keep": args.keep,
                      "second_look": args.second_look, "min_confidence": round(threshold, 4),
                      "hit_confidence_quantiles": {q: round(float(np.quantile(conf[hit], q)), 4) for q in quantiles},
                      "false_confidence_quantiles": {q: round(float(np.quantile(conf[~hit], q)), 4) for q in quantiles}
                      if (~hit).any() else {},
                      "false_dropped": float((conf[~hit] < threshold).mean()) if (~hit).any() else None}))


if __name__ == "__main__":
    main()
