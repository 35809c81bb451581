"""f^HPE, DG-CLIP's hand pose estimator at test time: f^H2D's Branch1 (the CPM) followed by f^PP.

This is the whole inference model: it holds no Branch2 and no CLIP weight. Its forward maps a float
image in [0, 1] to the wrist-relative 3D pose in mm and the 2D keypoints in crop pixels; the mm scale
is the buffer `bone_mm` (a middle MCP-PIP bone length, set from the training data by the method).
"""

from __future__ import annotations

import torch
from torch import nn

from handclip.models import heatmap2d
from handclip.models.cpm import CPM, STRIDE, TABLE1_REFINE_CONVS
from handclip.models.poseprior import PosePrior


class HandPoseEstimator(nn.Module):
    """Image (B, 3, S, S) in [0, 1] -> xyz (B, 21, 3) mm wrist-relative, uv (B, 21, 2) crop pixels."""

    def __init__(self, input_size: int = 256, width: float = 1.0, bone_mm: float = 30.0,
                 refine_convs=TABLE1_REFINE_CONVS, norm: bool = False, linear_heads: bool = False):
        super().__init__()
        if input_size % STRIDE:
            raise ValueError(f"DG-CLIP input_size must be a multiple of 8, got {input_size}")
        self.input_size = int(input_size)
        self.heatmap_size = self.input_size // STRIDE
        self.cpm = CPM(width, refine_convs, norm, linear_heads)
        self.poseprior = PosePrior(self.heatmap_size, width)
        self.register_buffer("bone_mm", torch.tensor(float(bone_mm)))

    def run(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        """Every intermediate the losses need: stage heatmaps, layer-11 features, canonical pose,
        rotation and the composed bone-normalised pose 'xyz_n'."""
        heatmaps, feat11 = self.cpm(image - 0.5)  # Zimmermann & Brox input normalisation
        xyz_c, R = self.poseprior(heatmaps[-1])
        return {"heatmaps": heatmaps, "feat11": feat11, "xyz_c": xyz_c, "R": R,
                "xyz_n": PosePrior.compose(xyz_c, R)}

    def read(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        """'xyz' (mm), 'uv' (crop pixels) and each joint's 'confidence': the peak of its last-stage heatmap (the
        target Gaussian's peak is 1; linear heads can overshoot, so clamped to [0, 1])."""
        out = self.run(image)
        heatmaps = out["heatmaps"][-1]
        return {"xyz": out["xyz_n"] * self.bone_mm, "uv": heatmap2d.decode(heatmaps, STRIDE),
                "confidence": heatmaps.flatten(2).amax(-1).clamp(0, 1)}

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.read(image)
        return out["xyz"], out["uv"]
