"""Which of the side's two cues does a detector's side classifier read on real photos? (issue 13)

On every lstm2d hand (../shared/realdev, the photo as taken: 256x256 frames are the detector's canvas), at its
labelled box: the classifier's palm and turn answers against the labels' (turn from the labelled 2D wrist, index
MCP and little MCP: handclip.detection.side_cues.turns_counterclockwise; palm = side XOR turn), and the side
they give. One JSON line.

    python scripts/side_cues_realdev.py hand_detector_cpu
    python scripts/side_cues_realdev.py runs/detector_cpu_side/checkpoints/last.pt
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from handclip.api import read_image
from handclip.data.coco_hand import coco_hands
from handclip.data.io import load_json
from handclip.detection.side_cues import turns_counterclockwise
from handclip.engine.config import load_config
from handclip.zoo import load_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("detector", help="a shipped detector's name, a packed .safetensors or a run's .pt")
    args = parser.parse_args()
    method, _ = load_model(args.detector, map_location="cpu")
    if getattr(method, "side_net", None) is None:
        raise SystemExit(f"side_cues_realdev: {args.detector} has no side crop classifier (side_crop: 0)")
    method.eval()
    root = Path(next(e["root"] for e in load_config("datasets/realdev")["data"]["val"] if e["label"] == "lstm2d"))
    hands = coco_hands(load_json(root / "annotations.json"), root / "annotations.json")
    palm_logit, turn_logit = [], []
    for start in range(0, len(hands), 64):
        chunk = hands[start:start + 64]
        images = torch.from_numpy(np.stack([read_image(root / h["image"]["file_name"]) for h in chunk]))
        boxes = torch.tensor(np.stack([h["bbox"] for h in chunk]), dtype=torch.float32)
        with torch.no_grad():
            p, t = method.side_logits(method.to_float(images), boxes, torch.arange(len(chunk)))
        palm_logit += p.tolist()
        turn_logit += t.tolist()
    turn = turns_counterclockwise(np.stack([h["kpts"][:, :2] for h in hands]))
    left = np.array([h["side"] == "left" for h in hands])
    palm_pred, turn_pred = np.array(palm_logit) > 0, np.array(turn_logit) > 0
    palm = left != turn
    print(json.dumps({"detector": args.detector, "hands": len(left),
                      "palm_towards_camera": round(float(palm.mean()), 4),
                      "palm_right": round(float((palm_pred == palm).mean()), 4),
                      "turn_right": round(float((turn_pred == turn).mean()), 4),
                      "side_right": round(float(((palm_pred != turn_pred) == left).mean()), 4)}))


if __name__ == "__main__":
    main()
