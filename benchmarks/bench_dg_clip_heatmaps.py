"""DG-CLIP training cost per heatmap size: seconds per forward + backward of f^HPE on a batch, per CPU option.

The paper's heatmaps are 32x32 (256 px input, stride 8). On CPU the options are the paper's input at a
small channel width, or a 128 px input with the CPM's third max-pooling left out (stride 4); the former
16x16 setting (128 px, stride 8) is timed beside them. Each step is f^HPE's forward (CPM + PosePrior),
L^Heat + L^Pose against Gaussian targets, and the backward pass (Branch2 and CLIP are left out: their cost
does not depend on the heatmap size). Prints one JSON document (and writes it with --out); on a busy
machine read s_per_batch_cpu (process CPU time), which approximates an idle machine's one-thread wall time.

    python benchmarks/bench_dg_clip_heatmaps.py --threads 1 --batch 16
"""

from __future__ import annotations

import argparse
import os
import platform
from pathlib import Path

import torch
from _output import emit

from handclip import timing
from handclip.losses.dg_clip import heatmap_loss, pose_loss
from handclip.models import heatmap2d
from handclip.models.hpe import HandPoseEstimator

# (input px, channel width, stride): stride 4 drops the third 2x2 max-pooling of Table 1 (layer 11)
OPTIONS = ((128, 0.125, 8), (256, 0.125, 8), (256, 0.0625, 8), (128, 0.125, 4))


def build(size: int, width: float, stride: int) -> HandPoseEstimator:
    """f^HPE whose heatmaps are size / stride cells wide."""
    hpe = HandPoseEstimator(input_size=size * 8 // stride, width=width)  # the PosePrior reads size/stride maps
    if stride == 4:
        hpe.cpm.backbone[-1] = torch.nn.Identity()  # layer 11's max-pooling
    return hpe


def seconds_per_step(size: int, width: float, stride: int, batch: int, min_seconds: float) -> dict:
    """Median seconds of one forward + backward of L^Heat + L^Pose, and the heatmap size."""
    torch.manual_seed(0)
    hpe = build(size, width, stride)
    image = torch.rand(batch, 3, size, size)
    cells = size // stride
    uv = torch.rand(batch, 21, 2) * (size - 1)
    target = heatmap2d.encode(uv, cells, stride, 1.0)
    xyz = torch.randn(batch, 21, 3)

    def step():
        hpe.zero_grad(set_to_none=True)
        out = hpe.run(image)
        (heatmap_loss(out["heatmaps"], target) + pose_loss(out["xyz_n"], xyz)).backward()

    with torch.no_grad():
        if hpe.run(image[:1])["heatmaps"][-1].shape[-1] != cells:
            raise RuntimeError(f"{size} px at stride {stride} should give {cells}x{cells} heatmaps")

    rate = timing.images_per_second(step, batch, min_seconds=min_seconds, max_iters=10)
    return {"input": size, "width": width, "stride": stride, "heatmap": f"{cells}x{cells}",
            "params": sum(p.numel() for p in hpe.parameters()),
            "s_per_batch_wall": round(batch / rate["wall"], 3), "s_per_batch_cpu": round(batch / rate["cpu"], 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--min-seconds", type=float, default=10.0)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    load_before = os.getloadavg()[0]
    rows = [seconds_per_step(*option, args.batch, args.min_seconds) for option in OPTIONS]
    # on a shared machine wall time stretches with the load; process CPU time is the idle one-thread cost
    emit({"benchmark": "dg_clip f^HPE forward+backward per batch", "threads": args.threads, "batch": args.batch,
          "torch": torch.__version__, "machine": platform.processor() or platform.machine(),
          "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)], "options": rows}, args.out)


if __name__ == "__main__":
    main()
