"""The `mean_pose` reference method: every image gets the training set's mean wrist-relative pose.

Every results table carries it as its first row (a method that does not beat it has learned nothing
from the image), and the engine's tests train it because it is tiny. Its two parameters start at the
first training batch's mean (averaged over DDP ranks) and are then fitted by the ordinary training
loop with a squared-error loss, whose minimiser is the training-set mean.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import nn

from handclip.methods import register
from handclip.methods.base import Method

NUM_JOINTS = 21


@register("mean_pose")
class MeanPose(Method):
    """Mean wrist-relative 3D pose (mm) and mean 2D pose in the crop (px), independent of the image."""

    def __init__(self, input_size: int = 256, mm_scale: float = 100.0):
        super().__init__()
        self.input_size = int(input_size)
        self.mm_scale = float(mm_scale)
        # normalised units keep both parameters near 1 so one learning rate suits both
        self.xyz = nn.Parameter(torch.zeros(NUM_JOINTS, 3))  # wrist-relative, in units of mm_scale
        self.uv = nn.Parameter(torch.zeros(NUM_JOINTS, 2))  # crop px from the centre, in half-crops
        self.register_buffer("started", torch.zeros((), dtype=torch.bool))

    def _normalised_targets(self, batch: dict) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Wrist-relative xyz and centred uv in the parameters' units, with the valid mask (B, 21, 1)."""
        xyz = batch["xyz"].float()
        rel = (xyz - xyz[:, :1]) / self.mm_scale
        half = self.input_size / 2.0
        uv = (batch["uv"].float() - (half - 0.5)) / half
        valid = batch.get("valid")
        valid = torch.ones(xyz.shape[:2], dtype=torch.bool, device=xyz.device) if valid is None else valid.bool()
        valid = valid & valid[:, :1]  # a joint relative to an unlabelled wrist tells nothing
        return rel, uv, valid.unsqueeze(-1).float()

    @torch.no_grad()
    def _start_at_batch_mean(self, rel: torch.Tensor, uv: torch.Tensor, w: torch.Tensor) -> None:
        """Set both parameters to the per-joint mean of the first batch (all ranks agree under DDP)."""
        sums = torch.cat([(rel * w).sum(0), (uv * w).sum(0), w.sum(0)], dim=1)  # (21, 6)
        if dist.is_available() and dist.is_initialized():
            dist.all_reduce(sums)
        mean = sums[:, :5] / sums[:, 5:].clamp(min=1.0)
        self.xyz.copy_(mean[:, :3])
        self.uv.copy_(mean[:, 3:])
        self.started.fill_(True)

    def training_step(self, batch: dict) -> dict[str, torch.Tensor]:
        """Masked mean squared error of the two parameters to the batch's poses."""
        rel, uv, w = self._normalised_targets(batch)
        if not self.started:
            self._start_at_batch_mean(rel, uv, w)
        count = w.sum().clamp(min=1.0)
        loss_xyz = (((self.xyz - rel) ** 2) * w).sum() / (3 * count)
        loss_uv = (((self.uv - uv) ** 2) * w).sum() / (2 * count)
        return {"loss": loss_xyz + loss_uv, "loss_xyz": loss_xyz.detach(), "loss_uv": loss_uv.detach()}

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, 3, S, S) float image -> xyz (B, 21, 3) mm wrist-relative, uv (B, 21, 2) crop px."""
        batch = image.shape[0]
        half = self.input_size / 2.0
        xyz = (self.xyz * self.mm_scale).unsqueeze(0).expand(batch, -1, -1)
        uv = (self.uv * half + (half - 0.5)).unsqueeze(0).expand(batch, -1, -1)
        return xyz, uv

    @torch.no_grad()
    def predict(self, batch: dict) -> dict[str, torch.Tensor]:
        """The mean pose for every image of the batch."""
        image = batch["image"].permute(0, 3, 1, 2).float() / 255.0
        xyz, uv = self(image)
        return {"xyz": xyz, "uv": uv}

    def inference_model(self) -> nn.Module:
        """Itself: its forward takes the float image and ignores the pixels."""
        return self
