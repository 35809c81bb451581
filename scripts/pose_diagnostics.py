"""Why a pose model misses on a set: framing and shape of its 2D predictions, one JSON line per set.

For each set (a label of the model's own validation renders, or realdev's lstm2d / hxp3d as
configs/datasets/realdev.yaml frames them): 2D EPE in px at 256 px, the median ratio of the predicted
skeleton's spread to the labelled one's (mean distance of the joints from their centroid: below 1 the
prediction is shrunk towards the crop centre), the labelled keypoint box's longer side as a fraction of the
crop (the framing the model sees), and how often the predicted skeleton turns the labelled one's way on the image
(wrist -> index MCP -> little MCP, the detector's side cue: detection.side_cues.turns_counterclockwise),
split by the labelled view (on these right-hand crops the counter-clockwise turn is the palm towards the
camera) with the share of palm views in the labels and the predictions, the 2D EPE of each digit, and the median angle of the thumb MCP from the wrist -> middle MCP axis on the image
in the labels and in the predictions (a thumb pressed to the index finger reads small).
With --side-confidence (lixel models: CLIP-Hand3D), on sets with hand sides: how often the side whose crop
(as photographed, or mirrored) gives the sharper u/v lixel distributions (higher mean peak probability) is the
labelled side, i.e. whether the right-hand model can tell a left hand from a right one. With --mirror: how often
the crop mirrored keeps the predicted skeleton's turn (a model reading where the thumb is would reverse it).
With --chirality (models trained on both hands, Augment.mirror), on sets with hand sides: each crop as
photographed (left hands not mirrored), the side read from the predicted 3D skeleton
(detection.side_cues.curl_chirality), how often it is the labelled side, and the 2D EPE with no side given.

    python scripts/pose_diagnostics.py clip_hand3d_cpu --sets source lstm2d hxp3d
    python scripts/pose_diagnostics.py runs/X/checkpoints/last.pt --sets lstm2d --margin 2.1
    python scripts/pose_diagnostics.py clip_hand3d_cpu --sets lstm2d --side-confidence
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch

from handclip.data import collate
from handclip.engine.evaluate import build_entry
from handclip.detection.side_cues import curl_chirality, turns_counterclockwise
from handclip.engine.config import load_config
from handclip.skeleton import FINGER_OF_JOINT, FINGERS, WRIST, angles_off_palm_axis, mirror_K, mirror_uv
from handclip.zoo import load_model



def spread(uv: np.ndarray) -> np.ndarray:
    """Mean distance of each skeleton's joints from their centroid (N,)."""
    return np.linalg.norm(uv - uv.mean(1, keepdims=True), axis=-1).mean(1)


THUMB_MCP = 2
DIGITS = {"wrist": [WRIST],
          **{name: [k for k, f in enumerate(FINGER_OF_JOINT) if f == i] for i, name in enumerate(FINGERS)}}


def entry_of(label: str, config: dict, margin: float | None) -> dict:
    """The dataset entry of `label`: realdev's framing for lstm2d / hxp3d, else the model's own renders."""
    entries = load_config("datasets/realdev")["data"]["val"] + list(config["data"].get("val") or [])
    found = [dict(e) for e in entries if e.get("label") == label]
    if not found:
        raise SystemExit(f"pose_diagnostics: no set {label!r}; known: {[e.get('label') for e in entries]}")
    if margin is not None:
        found[0]["margin"] = margin
    return found[0]


def lixel_peak(method, image: torch.Tensor) -> torch.Tensor:
    """Mean peak probability of a lixel model's u and v distributions per image (B,): how sharp its reading is."""
    out = method(image)
    return torch.stack([out[axis].softmax(-1).max(-1).values for axis in ("px", "py")]).mean((0, 2))


@torch.no_grad()
def side_from_confidence(method, batch: dict) -> np.ndarray:
    """Per sample, whether the mirrored crop (a left hand's hypothesis) gives sharper u/v lixel distributions than
    the crop as photographed; the reader's crops of left hands are mirrored back first."""
    image = method.prepare_batch(batch)[0]
    left = torch.tensor([side == "left" for side in batch["side"]]).view(-1, 1, 1, 1)
    photographed = torch.where(left, image.flip(-1), image)
    return (lixel_peak(method, photographed.flip(-1)) > lixel_peak(method, photographed)).numpy()


@torch.no_grad()
def photographed(method, batch: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A both-hands model on each crop as photographed (the reader's mirrored left hands mirrored back): whether
    each labelled side is left, whether the predicted skeleton is a left one, and its uv in the reader's (right-hand)
    crop frame."""
    left = np.array([side == "left" for side in batch["side"]])
    flip = torch.from_numpy(left).view(-1, 1, 1, 1)
    size = batch["image"].shape[2]
    K = batch["K"].clone()
    K[left] = mirror_K(K[left], size)
    out = method.predict(batch | {"image": torch.where(flip, batch["image"].flip(2), batch["image"]), "K": K,
                                  "right_hand": np.zeros(len(left), bool)})  # the side is what is read here
    uv = out["uv"].numpy()
    uv[left] = mirror_uv(uv[left], size)
    return left, curl_chirality(out["xyz"].numpy()) < 0, uv


@torch.no_grad()
def turns(palm_label: np.ndarray, palm_pred: np.ndarray) -> dict:
    """How often the predicted turn agrees with the label's, over all, on palm views and on back views (right-hand
    crops: a counter-clockwise turn shows the palm), and the share of palm views in labels and predictions."""
    agree = palm_pred == palm_label
    return {"turn_agrees": float(agree.mean()),
            "turn_agrees_on": {"palm": float(agree[palm_label].mean()) if palm_label.any() else None,
                               "back": float(agree[~palm_label].mean()) if (~palm_label).any() else None},
            "palm_shown": {"label": float(palm_label.mean()), "pred": float(palm_pred.mean())}}


def diagnose(method, entry: dict, batch_size: int = 32, side_confidence: bool = False, mirror: bool = False,
             chirality: bool = False) -> dict:
    """The diagnostics of one set (see the module docstring)."""
    dataset = build_entry(entry)
    pred, label, side_right, kept, chiral, unsided = [], [], [], [], [], []
    for batch in torch.utils.data.DataLoader(dataset, batch_size=batch_size, collate_fn=collate):
        pred.append(method.predict(batch)["uv"].numpy())
        label.append(batch["uv"].numpy())
        if mirror:  # the same crop mirrored: a model that reads where the thumb is turns the other way
            flipped = method.predict(batch | {"image": batch["image"].flip(2)})["uv"].numpy()
            kept.append(turns_counterclockwise(flipped) == turns_counterclockwise(pred[-1]))
        if side_confidence and "side" in batch:
            truth = np.array([side == "left" for side in batch["side"]])
            side_right.append(side_from_confidence(method, batch) == truth)
        if chirality and "side" in batch:
            truth, read, uv = photographed(method, batch)
            chiral.append(np.stack([truth, read], 1))
            unsided.append(uv)
    pred, label = np.concatenate(pred), np.concatenate(label)
    size = float(entry.get("size", 256))
    box = (label.max(1) - label.min(1)).max(1) / size
    error = np.linalg.norm(pred - label, axis=-1) * 256 / size
    return {"set": entry["label"], "n": len(label), "margin": entry.get("margin"),
            "epe_2d_px_at_256": float(error.mean()),
            "epe_2d_by_digit": {name: round(float(error[:, joints].mean()), 2) for name, joints in DIGITS.items()},
            "thumb_mcp_angle_median": {name: round(float(np.median(angles_off_palm_axis(uv, [THUMB_MCP]))), 1)
                                       for name, uv in (("label", label), ("pred", pred))},
            "spread_ratio_median": float(np.median(spread(pred) / spread(label))),
            "keypoint_box_of_crop_median": float(np.median(box)),
            **turns(turns_counterclockwise(label), turns_counterclockwise(pred)),
            **({"side_from_confidence_right": float(np.concatenate(side_right).mean())} if side_right else {}),
            **({"mirrored_keeps_turn": float(np.concatenate(kept).mean())} if kept else {}),
            **(chirality_report(np.concatenate(chiral), np.concatenate(unsided), label, 256 / size) if chiral else {})}


def chirality_report(sides: np.ndarray, uv: np.ndarray, label: np.ndarray, scale: float) -> dict:
    """Side read from the skeleton against the label (columns: labelled left, read left), per labelled side, and
    the 2D EPE (px at 256) of the crops read as photographed."""
    right = sides[:, 0] == sides[:, 1]
    return {"chirality_side_right": float(right.mean()),
            "chirality_side_right_on": {side: float(right[sides[:, 0] == is_left].mean()) if (sides[:, 0] == is_left).any()
                                        else None for side, is_left in (("left", True), ("right", False))},
            "epe_2d_px_at_256_no_side": float((np.linalg.norm(uv - label, axis=-1) * scale).mean())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", help="a shipped model's name, a packed .safetensors or a run's .pt")
    parser.add_argument("--sets", nargs="+", default=["lstm2d", "hxp3d"])
    parser.add_argument("--margin", type=float, help="crop margin in place of the set's (realdev: 1.5)")
    parser.add_argument("--side-confidence", action="store_true", help="also the side read from lixel sharpness")
    parser.add_argument("--mirror", action="store_true",
                        help="also how often the mirrored crop keeps the predicted turn (palm or back read from "
                        "cues a mirror keeps, not from the thumb's side)")
    parser.add_argument("--chirality", action="store_true",
                        help="also the side read from the predicted skeleton of each crop as photographed")
    parser.add_argument("--upright-look", action="store_true",
                        help="read each hand turned upright as well and keep the surer look (handclip.refine)")
    args = parser.parse_args()
    method, config = load_model(args.checkpoint, map_location="cpu")
    if args.upright_look:
        from handclip.refine import UprightLook

        method = UprightLook(method, right_hands=True)  # the readers mirror left hands in
    method.eval()
    for label in args.sets:
        print(json.dumps(diagnose(method, entry_of(label, config, args.margin), side_confidence=args.side_confidence,
                                   mirror=args.mirror, chirality=args.chirality)),
              flush=True)


if __name__ == "__main__":
    main()
