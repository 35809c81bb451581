"""DG-CLIP's losses (paper Eqs. 1-4): L = l1 L^Heat + l2 L^Pose + l3 L^Con, plus the PosePrior's own
supervision of Zimmermann & Brox (canonical coordinates with pose_loss, the viewpoint with viewpoint_loss).

L^Con forms, with d(a, b) = ||a - b||_1 over the 128 encoding dimensions and m the margin:
  'printed' (Eq. 4 as printed):  d(e1', e2') - max(m, d(e1', e_neg))
  'hinge'   (the usual margin loss): d(e1', e2') + max(0, m - d(e1', e_neg))
The default is 'hinge': the printed form is unbounded below (its negative term rewards pushing e_neg
away without limit, so it can dominate the other losses), while the hinge stops at the margin.
"""

from __future__ import annotations

import torch

CONTRASTIVE_FORMS = ("hinge", "printed")


def heatmap_loss(pred: list[torch.Tensor] | torch.Tensor, target: torch.Tensor, valid: torch.Tensor | None = None) -> torch.Tensor:
    """L^Heat: squared error summed over each map's pixels, averaged over stages, valid joints and batch
    (summing over pixels keeps a Gaussian target's error near pi sigma^2, comparable to L^Pose)."""
    stages = pred if isinstance(pred, (list, tuple)) else [pred]
    w = torch.ones(target.shape[:2], device=target.device) if valid is None else valid.float()
    count = w.sum().clamp(min=1.0)
    total = sum((((p - target) ** 2).sum((-1, -2)) * w).sum() / count for p in stages)
    return total / len(stages)


def pose_loss(pred: torch.Tensor, target: torch.Tensor, valid: torch.Tensor | None = None) -> torch.Tensor:
    """L^Pose: mean squared error over valid joints' coordinates (B, J, 3)."""
    w = torch.ones(target.shape[:2], device=target.device) if valid is None else valid.float()
    return (((pred - target) ** 2).sum(-1) * w).sum() / (3 * w.sum().clamp(min=1.0))


def viewpoint_loss(pred: torch.Tensor, target: torch.Tensor, valid: torch.Tensor | None = None) -> torch.Tensor:
    """Squared error of viewpoint rotations (B, 3, 3), mean over the 9 entries of the valid (B,) samples."""
    w = torch.ones(target.shape[0], device=target.device) if valid is None else valid.float()
    return (((pred - target) ** 2).sum((-1, -2)) * w).sum() / (9 * w.sum().clamp(min=1.0))


@torch.no_grad()
def hardest_negatives(pred_heatmaps: torch.Tensor, gt_heatmaps: torch.Tensor) -> torch.Tensor:
    """Index (B,) of each anchor's negative: the other batch sample whose GT heatmaps are farthest
    (squared L2 over all maps) from the anchor's predicted heatmaps. Needs a batch of at least 2."""
    b = pred_heatmaps.shape[0]
    if b < 2:
        raise ValueError("hardest_negatives needs a batch of at least 2 samples")
    dist = torch.cdist(pred_heatmaps.reshape(b, -1).float(), gt_heatmaps.reshape(b, -1).float()) ** 2
    dist.fill_diagonal_(float("-inf"))
    return dist.argmax(dim=1)


def contrastive_loss(anchor: torch.Tensor, positive: torch.Tensor, negative: torch.Tensor,
                     form: str = "hinge", margin: float = 0.5) -> torch.Tensor:
    """L^Con averaged over the batch; anchor e1', positive e2', negative e_neg, each (B, D)."""
    d_pos = (anchor - positive).abs().sum(-1)
    d_neg = (anchor - negative).abs().sum(-1)
    if form == "hinge":
        loss = d_pos + torch.clamp(margin - d_neg, min=0.0)
    elif form == "printed":
        loss = d_pos - torch.clamp(d_neg, min=margin)
    else:
        raise ValueError(f"unknown contrastive form {form!r}; choose one of {CONTRASTIVE_FORMS}")
    return loss.mean()
