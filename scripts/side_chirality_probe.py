"""Probe: how well the side read from a pose model's skeleton (side_cues.curl_chirality) names real hands, given the
labelled box (no detector), and where it fails: by the chirality's magnitude, by gesture, and with the mirrored crop's
reading as a second opinion (issue 13's side target). lstm2d only: its labels carry hand_side.

    python scripts/side_chirality_probe.py --out docs/detector_side_chirality.json
"""
from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

import handclip
from handclip.api import mirror_image, read_image
from handclip.detection.detector import pose_box
from handclip.detection.side_cues import curl_chirality

BINS = (0, 40, 80, 120, 160, 200, np.inf)  # |chirality| in the skeleton's units (mm-scaled joints)


def readings(model: str, root: Path, batch: int) -> dict:
    """Chirality and mean confidence of every labelled hand read as photographed and mirrored, with its label."""
    ann = json.loads((root / "annotations.json").read_text())
    images = {i["id"]: i for i in ann["images"]}
    predictor = handclip.load(model, device="cpu", detector=None)
    rows = defaultdict(list)
    hands = [a for a in ann["annotations"] if a.get("hand_side") in ("left", "right")]
    for start in tqdm(range(0, len(hands), batch), desc="hands", unit="batch"):
        chunk = hands[start:start + batch]
        crops = [predictor.crop(read_image(root / images[a["image_id"]]["file_name"]), pose_box(a["bbox"]), None)
                 for a in chunk]
        mirrored = [dict(c, image=np.ascontiguousarray(mirror_image(c["image"]))) for c in crops]
        for key, outs in (("", predictor.predict_crops(crops)), ("mirrored_", predictor.predict_crops(mirrored))):
            rows[key + "chirality"] += [float(curl_chirality(o["xyz"])) for o in outs]
            rows[key + "confidence"] += [float(np.mean(o["confidence"])) for o in outs]
        rows["left"] += [a["hand_side"] == "left" for a in chunk]
        rows["gesture"] += [Path(images[a["image_id"]]["file_name"]).name[:6] for a in chunk]
    return {k: np.asarray(v) for k, v in rows.items()}


def summary(r: dict) -> dict:
    """Accuracies of one look, of the mirrored look's vote and of their confidence-weighted sum, and where it fails."""
    left = r["left"]
    one = r["chirality"] < 0
    # the mirrored crop shows the other hand: its skeleton's chirality, negated, votes for the photographed side
    mirror_vote = -r["mirrored_chirality"]
    agree = np.sign(r["chirality"]) == np.sign(mirror_vote)
    weighted = r["chirality"] * r["confidence"] + mirror_vote * r["mirrored_confidence"]
    size = np.abs(r["chirality"])
    by_size = {}
    for lo, hi in zip(BINS[:-1], BINS[1:]):
        m = (size >= lo) & (size < hi)
        if m.any():
            by_size[f"{lo}-{hi}"] = {"hands": int(m.sum()), "right_side": round(float((one[m] == left[m]).mean()), 3)}
    gestures = defaultdict(list)
    for g, ok in zip(r["gesture"], one == left):
        gestures[g].append(ok)
    worst = sorted(((float(np.mean(v)), g, len(v)) for g, v in gestures.items()))[:5]
    return {
        "hands": int(len(left)), "left_hands": int(left.sum()),
        "one_look": round(float((one == left).mean()), 3),
        "one_look_left_recall": round(float(one[left].mean()), 3),
        "one_look_right_recall": round(float((~one[~left]).mean()), 3),
        "sum_of_signs_with_mirror": round(float(((r["chirality"] + mirror_vote < 0) == left).mean()), 3),
        "confidence_weighted_with_mirror": round(float(((weighted < 0) == left).mean()), 3),
        "looks_disagree": round(float((~agree).mean()), 3),
        "one_look_where_looks_disagree": round(float((one[~agree] == left[~agree]).mean()), 3),
        "one_look_by_abs_chirality": by_size,
        "worst_gestures": [{"gesture": g, "hands": n, "right_side": round(a, 3)} for a, g, n in worst],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="a pose model that reads either hand (default: the default)")
    parser.add_argument("--root", type=Path, default=Path("../shared/realdev/lstm2d"))
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--out", type=Path, help="write the summary JSON here")
    parser.add_argument("--force", action="store_true", help="replace an existing --out")
    args = parser.parse_args()
    if args.out and args.out.exists() and not args.force:
        raise SystemExit(f"{args.out} exists: give another --out, or --force to replace it")
    if not (args.root / "annotations.json").is_file():
        raise SystemExit(f"{args.root}/annotations.json is missing: give --root, the lstm2d folder of ../shared/realdev")
    torch.set_num_threads(1)
    report = {"model": args.model or "default", "root": str(args.root), **summary(readings(args.model, args.root,
                                                                                            args.batch))}
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
