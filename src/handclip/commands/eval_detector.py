"""`handclip eval-detector`: a hand detector on labelled real photos (COCO boxes, hand_side): found, side, P/R."""

from __future__ import annotations

import argparse
import json
import os
from functools import partial
from pathlib import Path

HELP = "score a hand detector on COCO-labelled photos (default ../shared/realdev hxp3d, lstm2d): box IoU, side, P/R PNG"
CURVE_FLOOR = 0.01  # detections down to this score trace the precision/recall curve
CURVE_HANDS = 10  # and up to this many per image
CURVE_POINTS = 200  # points of each curve kept in the JSON


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--detector", help="a hand_detector checkpoint .pt, a packed .safetensors or a shipped "
                        "detector's name (default: the shipped one)")
    parser.add_argument("--pose", help="a pose model (name or file) that reads either hand as photographed: each "
                        "hand's side is then its skeleton's chirality, as predict gives it (default: the detector's)")
    parser.add_argument("--upright-look", action="store_true",
                        help="--pose: read each hand turned upright as well and keep the surer look (predict --upright-look)")
    parser.add_argument("--look-around", action="store_true",
                        help="--pose: read each hand five ways around upright (and mirrored, for a model that reads "
                        "either hand) and blend the looks (predict --look-around)")
    parser.add_argument("--second-look", action=argparse.BooleanOptionalAction, default=True,
                        help="--pose: with the shipped hand check and one look, read a box the check is unsure of again, "
                        "mirrored and turned upright, and keep it where the two looks blended are sure enough (the "
                        "model's min_confidence_second_look; handclip.refine.SecondLook)")
    parser.add_argument("--min-confidence", type=float, default=None,
                        help="--pose: the hand check, as predict's (default: the pose model's calibrated value, 0 for "
                        "files); every box of the curve is then posed and the boxes it drops are left out")
    parser.add_argument("--sets", nargs="+", default=["hxp3d", "lstm2d"], metavar="SET",
                        help="folders holding annotations.json (COCO boxes, optional hand_side) and the images it "
                        "names: a path, or a name under --realdev (default: hxp3d lstm2d)")
    parser.add_argument("--realdev", type=Path, default=Path(os.environ.get("HANDCLIP_REALDEV", "../shared/realdev")),
                        help="folder of the named sets (default: $HANDCLIP_REALDEV, else ../shared/realdev)")
    parser.add_argument("--min-score", type=float, default=None, help="operating score threshold (default: predict's, 0.3)")
    parser.add_argument("--max-hands", type=int, default=2, help="hands kept per image at the operating point (2)")
    parser.add_argument("--out", type=Path, default=Path("detector_eval"),
                        help="output folder: summary.json and precision_recall.png (default: detector_eval)")
    parser.add_argument("--device", choices=["cpu", "cuda"], help="default: cuda when present")
    parser.add_argument("--batch-size", type=int, default=16)


def labelled_set(name: str, realdev: Path):
    """(label, [(image path, [labels {'box', 'side'}])]) of one COCO set folder."""
    from handclip.data.coco_hand import coco_hands
    from handclip.data.io import load_json, require_dir, require_file

    folder = require_dir(Path(name) if Path(name).is_dir() else realdev / name, "detector evaluation set",
                         "  annotations.json (COCO: images[], annotations[] with bbox, optional hand_side), images")
    ann = require_file(folder / "annotations.json", "detector evaluation set", "  annotations.json")
    coco = load_json(ann)
    sided = any("hand_side" in a or "lefthand_box" in a for a in coco.get("annotations", []))
    by_image: dict = {}
    for hand in coco_hands(coco, ann, keypoints=False):
        by_image.setdefault(hand["image"]["id"], (hand["image"], []))[1].append(
            {"box": [float(v) for v in hand["bbox"]], "side": hand["side"] if sided else None})
    images = []
    for image, labels in by_image.values():
        path = folder / image["file_name"]
        images.append((path if path.is_file() else folder / "images" / Path(image["file_name"]).name, labels))
    return folder.name, images


def _posed(predictor, max_hands: int, min_score: float, images: list, curve_hands: int, floor: float) -> list[list[dict]]:
    """The detector's boxes for the curve, the hands kept at the operating point (max_hands, min_score: the only
    ones whose side is judged) with their side read from the pose model's skeleton (Predictor.hands). With a hand
    check (the predictor's min_confidence) every box is posed and those it drops are gone from curve and all."""
    found = predictor.detector.detect(images, curve_hands, floor)
    if predictor.min_confidence > 0:
        return [[{k: hand[k] for k in ("box", "score", "side")} for hand in hands]
                for hands in predictor.pose_hands(images, found)]
    kept = predictor.pose_hands(images, [[d for d in dets[:max_hands] if d["score"] >= min_score] for dets in found])
    return [[{k: hand[k] for k in ("box", "score", "side")} for hand in hands] + dets[len(hands):]
            for hands, dets in zip(kept, found)]


def run(args: argparse.Namespace) -> int:
    import numpy as np
    from tqdm import tqdm

    from handclip import preflight
    from handclip.api import read_image
    from handclip.detection import detector as detection
    from handclip.detection.evaluate import match_image, precision_recall, summarise
    from handclip.viz.precision_recall import plot_precision_recall
    from handclip.zoo import default_detector

    min_score = detection.MIN_SCORE if args.min_score is None else args.min_score
    if not 0 <= min_score <= 1 or args.max_hands < 1:
        raise ValueError(f"--min-score must be in [0, 1] and --max-hands >= 1, got {min_score} and {args.max_hands}")
    preflight.out_folder(args.out)
    preflight.at_least(args.batch_size, 1, "--batch-size")
    sets = [labelled_set(name, args.realdev) for name in args.sets]
    if args.pose:
        import handclip

        predictor = handclip.load(args.pose, device=args.device, batch_size=args.batch_size,
                                  detector=args.detector or "auto", upright_look=args.upright_look,
                                  look_around=args.look_around,
                                  min_confidence="auto" if args.min_confidence is None else args.min_confidence,
                                  second_look=args.second_look)
        if not predictor.reads_side:
            raise ValueError(f"--pose {args.pose}: the model was trained on right hands only and reads no side; give a "
                             "model trained with mirrored crops (augment.mirror)")
        detect = partial(_posed, predictor, args.max_hands, min_score)
    else:
        detect = detection.load_detector(args.detector, device=args.device, batch_size=args.batch_size).detect
    summaries, curves = {}, {}
    for label, images in sets:
        found = []
        for start in tqdm(range(0, len(images), args.batch_size), desc=f"detect {label}", unit="batch"):
            chunk = [read_image(path) for path, _ in images[start:start + args.batch_size]]
            found += detect(chunk, CURVE_HANDS, CURVE_FLOOR)
        labels = [ls for _, ls in images]
        matches = [match_image(ls, dets[:args.max_hands], min_score) for ls, dets in zip(labels, found)]
        curve = precision_recall(labels, found)
        summaries[label] = summarise(matches, curve, min_score)
        n = len(curve["score"])
        keep = np.unique(np.linspace(0, n - 1, min(n, CURVE_POINTS)).round().astype(int)) if n else []
        curves[label] = {"ap": curve["ap"], **{k: [curve[k][i] for i in keep] for k in ("score", "precision", "recall")}}
    args.out.mkdir(parents=True, exist_ok=True)
    summary = {"detector": str(args.detector or default_detector()), "side_from": args.pose or "detector",
               "upright_look": bool(args.pose and args.upright_look),
               "look_around": bool(args.pose and args.look_around),
               "min_confidence": predictor.min_confidence if args.pose else 0.0,
               "second_look": predictor.second_look if args.pose else 0.0, "iou_hit": 0.5,
               "max_hands": args.max_hands, "sets": summaries, "curves": curves}
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    png = plot_precision_recall(curves, summaries, args.out / "precision_recall.png")
    for label, s in summaries.items():
        side = (f", side right {s['side_correct']:.1%} of all ({s['side_correct_of_found'] or 0:.1%} of found)"
                if "side_correct" in s else "")
        print(f"{label}: {s['hands']} hands, found (IoU >= 0.5) {s['found']:.1%}, mean IoU {s['mean_iou']:.2f}, "
              f"AP {s['ap']:.3f}{side}")
    print(f"wrote {args.out / 'summary.json'} and {png}")
    return 0
