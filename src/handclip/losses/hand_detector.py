"""Losses of the hand detector (CenterNet, Zhou et al. 2019): penalty-reduced focal loss on the centre heatmap,
L1 on offset and log size at the centres, and a binary cross-entropy on the side around each centre."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def centre_focal_loss(logits: torch.Tensor, target: torch.Tensor, weight: torch.Tensor, alpha: float = 2.0,
                      beta: float = 4.0) -> torch.Tensor:
    """Focal loss of heat logits (B, G, G) against Gaussian targets (peaks exactly 1), per-cell `weight`,
    normalised by the number of centres (at least 1)."""
    positive = (target >= 1.0).float()
    p = torch.sigmoid(logits)
    pos = positive * (1 - p) ** alpha * F.logsigmoid(logits)
    neg = (1 - positive) * (1 - target) ** beta * p**alpha * F.logsigmoid(-logits)
    return -((pos + neg) * weight).sum() / positive.sum().clamp(min=1.0)


def centre_l1(pred: torch.Tensor, index: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean L1 between the regression maps (B, C, G, G) read at each hand's flat cell index (B, M) and
    target (B, M, C), over the masked hands (B, M) and channels."""
    b, c = pred.shape[:2]
    at = pred.reshape(b, c, -1).gather(2, index[:, None].expand(-1, c, -1)).transpose(1, 2)
    m = mask[..., None].float()
    return ((at - target).abs() * m).sum() / (m.sum() * c).clamp(min=1.0)


def side_loss(logits: torch.Tensor, target: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Weighted binary cross-entropy of side logits (B, G, G) against 1 = left, averaged over the weight."""
    bce = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    return (bce * weight).sum() / weight.sum().clamp(min=1e-6)
