"""Probe: train the detector's side classifier (HandSideNet) alone on hand crops of the detector/cpu frames cache for a
wall-clock budget, printing the palm and turn losses and the turn accuracy every 50 steps; does the turn cue learn at
all at a crop size? (issue 13). Renders the frames cache first if it is missing (about 4 minutes on 2 workers).

    python scripts/side_probe.py 64 420     # crop px, seconds
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from handclip.data import build_dataset
from handclip.detection.side_cues import turn_label
from handclip.engine.config import load_config
from handclip.models.hand_side import HandSideNet, crop_squares


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("size", type=int, help="crop side in px (the detector uses 64)")
    parser.add_argument("seconds", type=float, help="wall-clock budget")
    args = parser.parse_args()
    torch.manual_seed(0)
    cfg = load_config("detector/cpu")["data"]["train"]
    frames = build_dataset(cfg["name"], **{k: v for k, v in cfg.items() if k != "name"})
    loader = DataLoader(frames, batch_size=32, shuffle=True, num_workers=1, drop_last=True)
    net = HandSideNet()
    optimizer = torch.optim.Adam(net.parameters(), 1e-3)
    start, step, history = time.time(), 0, []
    while time.time() - start < args.seconds:
        for batch in loader:
            keep = batch["hand_valid"].bool() & ~batch["ignore"].bool()
            images = batch["image"].permute(0, 3, 1, 2).float() / 255
            crops = crop_squares(images, batch["boxes"][keep].float(), keep.nonzero()[:, 0], args.size)
            palm = batch["palm"][keep].bool()
            turn = turn_label(batch["left"][keep].bool(), palm)
            palm_logit, turn_logit = net(crops)
            loss_palm = F.binary_cross_entropy_with_logits(palm_logit, palm.float())
            loss_turn = F.binary_cross_entropy_with_logits(turn_logit, turn.float())
            optimizer.zero_grad()
            (loss_palm + loss_turn).backward()
            optimizer.step()
            step += 1
            history.append((loss_palm.item(), loss_turn.item(), ((turn_logit > 0) == turn).float().mean().item()))
            if step % 50 == 0:
                palm_mean, turn_mean, accuracy = np.mean(history[-50:], axis=0)
                print(f"size {args.size} step {step} {time.time() - start:.0f}s palm {palm_mean:.3f} "
                      f"turn {turn_mean:.3f} turn_acc {accuracy:.3f}", flush=True)
            if time.time() - start > args.seconds:
                break


if __name__ == "__main__":
    main()
