"""Probe: train the detector's side classifier (HandSideNet) alone on hand crops of the detector/cpu frames cache for a
wall-clock budget, printing the palm and turn losses and the turn accuracy every 50 steps; does the turn cue learn at
all at a crop size? (issue 13). Renders the frames cache first if it is missing (about 4 minutes on 2 workers).

    python scripts/side_probe.py 64 420     # crop px, seconds
"""
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader
from handclip.engine.config import load_config
from handclip.data import build_dataset
from handclip.models.hand_side import HandSideNet, crop_squares
from handclip.detection.side_cues import turn_label
torch.manual_seed(0)
size = int(sys.argv[1]); seconds = float(sys.argv[2])
cfg = load_config("detector/cpu")["data"]["train"]
ds = build_dataset(cfg["name"], **{k: v for k, v in cfg.items() if k != "name"})
dl = DataLoader(ds, batch_size=32, shuffle=True, num_workers=1, drop_last=True)
net = HandSideNet(); opt = torch.optim.Adam(net.parameters(), 1e-3)
t0 = time.time(); step = 0; hist = []
while time.time() - t0 < seconds:
    for b in dl:
        keep = b["hand_valid"].bool() & ~b["ignore"].bool()
        x = b["image"].permute(0, 3, 1, 2).float() / 255
        crops = crop_squares(x, b["boxes"][keep].float(), keep.nonzero()[:, 0], size)
        palm_l = b["palm"][keep].bool(); turn_l = turn_label(b["left"][keep].bool(), palm_l)
        p, t = net(crops)
        lp = F.binary_cross_entropy_with_logits(p, palm_l.float()); lt = F.binary_cross_entropy_with_logits(t, turn_l.float())
        opt.zero_grad(); (lp + lt).backward(); opt.step(); step += 1
        hist.append((lp.item(), lt.item(), ((t > 0) == turn_l).float().mean().item()))
        if step % 50 == 0:
            h = np.array(hist[-50:]).mean(0); print(f"size {size} step {step} {time.time()-t0:.0f}s palm {h[0]:.3f} turn {h[1]:.3f} turn_acc {h[2]:.3f}", flush=True)
        if time.time() - t0 > seconds: break
