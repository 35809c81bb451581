"""Which extra look tells hands from false boxes? The hand check with every look of --look-around, alone and in pairs.

Runs the shipped detector and the default pose model (no hand check) on held-out rendered frames (seed 777) and on
`--sets` (../shared/realdev), marks each box a hit or a false one as eval-detector does, and reads every box's crop in
the eleven looks of --look-around (the first; upright; upright turned +-15 degrees; zoomed 1.15 and 0.87; the five
again on the mirrored crop). For each subset of looks, their confidences blended as refine._blend does (confidence^5 /
confidence^4 per joint), the threshold keeping 95 % of the rendered hits (as scripts/hand_check_calibrate.py), and the
hits and false boxes it keeps on every set; then the cascade predict uses (handclip.refine.SecondLook): the first
look decides outside [min_confidence, the pair's threshold), the pair inside. One JSON line. Measured in stop 26
(docs/detector.md, "A second look where the check is unsure").

    python scripts/second_look_probe.py --sets lstm2d hxp3d
"""

from __future__ import annotations

import argparse
import json
import os
import warnings
from pathlib import Path

import numpy as np
import torch
from hand_check_calibrate import held_out_frames  # scripts/ is on the path when a script runs

import handclip
from handclip.api import read_image
from handclip.commands.eval_detector import labelled_set
from handclip.data.crop import hand_tilt
from handclip.detection import detector as detection
from handclip.detection.evaluate import greedy_hits
from handclip.refine import AROUND, mirror_view, read_turned

LOOKS = ["first"] + [f"{side}{name}" for side in ("", "mirrored ") for name in
                     ("upright", "upright +15", "upright -15", "upright zoom 1.15", "upright zoom 0.87")]
SUBSETS = [[0], [0, 1], [0, 2], [0, 3], [0, 4], [0, 5], [0, 6], [0, 1, 6], list(range(11))]
KEEP = 0.95


def looks_of(predictor, images: list, truths: list) -> tuple[np.ndarray, np.ndarray]:
    """(hit per box, confidences (boxes, 11 looks, 21 joints)) of the detector's boxes on images."""
    method, hits, confidences = predictor.method, [], []
    for start in range(0, len(images), 16):
        chunk = images[start:start + 16]
        found = predictor.detector.detect(chunk, detection.MAX_HANDS, detection.MIN_SCORE)
        for image, truth, boxes in zip(chunk, truths[start:start + 16], found):
            hits += greedy_hits(truth, [hand["box"] for hand in boxes])
            if not boxes:
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                crops = [predictor.crop(image, detection.pose_box(hand["box"]), None) for hand in boxes]
            pictures = np.stack([c["image"] for c in crops])
            Ks = np.stack([c["K"] for c in crops]).astype(np.float64)
            first = method.predict({"image": torch.from_numpy(pictures), "K": torch.from_numpy(Ks).float()})
            looks = [first["confidence"].numpy()]
            for view, intrinsics, uv in ((pictures, Ks, first["uv"].double().numpy()),
                                         mirror_view(pictures, Ks, first["uv"].double().numpy())):
                tilts = [hand_tilt(u) for u in uv]
                for turn, zoom in ((0.0, 1.0), *AROUND):
                    looks.append(read_turned(method, view, intrinsics, [t + turn for t in tilts], zoom,
                                             ["uv", "confidence"])["confidence"])
            confidences.append(np.stack(looks, 1))
    return np.array(hits, bool), np.concatenate(confidences)


def blend(confidences: np.ndarray, looks: list[int]) -> np.ndarray:
    """Mean joint confidence of the looks blended as refine._blend weighs them."""
    c = confidences[:, looks].clip(1e-6)
    return ((c ** 5).sum(1) / (c ** 4).sum(1)).mean(-1)


def kept(hit: np.ndarray, keep: np.ndarray) -> dict:
    """Hits and false boxes kept, and the precision among the kept."""
    return {"hits": int((keep & hit).sum()), "false": int((keep & ~hit).sum()),
            "precision": round(float((keep & hit).sum() / max(keep.sum(), 1)), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=400, help="held-out frames rendered (400)")
    parser.add_argument("--seed", type=int, default=777, help="their seed (777: no recipe trains on it)")
    parser.add_argument("--sets", nargs="*", default=[], help="realdev sets scored too")
    parser.add_argument("--realdev", type=Path, default=Path(os.environ.get("HANDCLIP_REALDEV", "../shared/realdev")))
    args = parser.parse_args()
    torch.set_grad_enabled(False)
    predictor = handclip.load(None, device="cpu", min_confidence=0.0)
    frames = held_out_frames(args.n, args.seed)
    samples = [frames[i] for i in range(len(frames))]
    data = {"renders": looks_of(predictor, [s["image"] for s in samples],
                                [[b for b, v in zip(s["boxes"], s["hand_valid"]) if v] for s in samples])}
    for name in args.sets:
        label, images = labelled_set(name, args.realdev)
        data[label] = looks_of(predictor, [read_image(path) for path, _ in images],
                               [[hand["box"] for hand in labels] for _, labels in images])
    hit_r, conf_r = data["renders"]
    report = {"frames": args.n, "seed": args.seed, "keep": KEEP, "boxes": {k: len(h) for k, (h, _) in data.items()},
              "hits": {k: int(h.sum()) for k, (h, _) in data.items()}, "subsets": [], "cascade": []}
    floor = float(np.quantile(blend(conf_r, [0])[hit_r], 1 - KEEP))
    for looks in SUBSETS:
        threshold = float(np.quantile(blend(conf_r, looks)[hit_r], 1 - KEEP))
        report["subsets"].append({"looks": [LOOKS[i] for i in looks], "threshold": round(threshold, 4),
                                  **{k: kept(h, blend(c, looks) >= threshold) for k, (h, c) in data.items()}})
        if len(looks) == 2:  # the cascade: the pair read only where the first look is unsure
            row = {"looks": [LOOKS[i] for i in looks], "floor": round(floor, 4), "threshold": round(threshold, 4)}
            for k, (h, c) in data.items():
                first, pair = blend(c, [0]), blend(c, looks)
                unsure = (first >= floor) & (first < threshold)
                row[k] = {**kept(h, (first >= threshold) | (unsure & (pair >= threshold))),
                          "read_twice": round(float(unsure.mean()), 3)}
            report["cascade"].append(row)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
