"""A tiny registered dataset for the engine tests: random hands whose draws use the global RNGs.

Drawing the noise from numpy's and torch's global generators makes a resumed run match the
uninterrupted one only if the engine restores those generators exactly.
"""

from __future__ import annotations

import numpy as np
import torch

from handclip.data import register


@register("engine_toy")
class ToyHands(torch.utils.data.Dataset):
    """n samples of an 8x8 image, 21 joints around a fixed hand, plus global-RNG noise; `nan` poisons xyz."""

    def __init__(self, n: int = 40, seed: int = 0, nan: bool = False, noise: bool = True):
        rng = np.random.default_rng(seed)
        self.xyz = (rng.normal(0, 30, (n, 21, 3)) + [0, 0, 500]).astype(np.float32)
        self.uv = rng.uniform(0, 8, (n, 21, 2)).astype(np.float32)
        self.nan, self.noise = nan, noise

    def __len__(self) -> int:
        return len(self.xyz)

    def __getitem__(self, i: int) -> dict:
        xyz = self.xyz[i]
        if self.noise:
            xyz = xyz + np.random.normal(0, 1, (21, 3)).astype(np.float32) + torch.rand(21, 3).numpy()
        if self.nan:
            xyz = xyz * np.float32("nan")
        return {"image": np.zeros((8, 8, 3), np.uint8), "K": np.eye(3, dtype=np.float32), "xyz": xyz,
                "uv": self.uv[i], "valid": np.ones(21, bool), "index": i}


def toy_config(**train) -> dict:
    """A resolved-style config training mean_pose on engine_toy; `train` entries override the defaults."""
    return {
        "method": {"name": "mean_pose", "input_size": 8},
        "data": {"train": {"name": "engine_toy", "n": 40, "seed": 0},
                 "val": [{"name": "engine_toy", "n": 8, "seed": 1, "label": "toy"}]},
        "train": {"epochs": 2, "batch_size": 4, "seed": 3, "log_every": 1, "val_every": 1,
                  "optimizer": {"name": "adam", "lr": 0.05},
                  "scheduler": {"name": "step", "step_size": 1, "gamma": 0.5}} | train,
    }
