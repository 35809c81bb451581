"""Separable Gaussian blur of image or map batches, one sigma per item: the normal augmentation's blur and DARK's
smoothing of heatmaps before decoding share it."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def gaussian_blur(x: torch.Tensor, sigma: torch.Tensor | float, radius: int, mode: str = "replicate") -> torch.Tensor:
    """x (B, C, H, W), every channel of item b convolved with a normalised Gaussian of sigma[b] (or one sigma for
    all) cut at `radius` cells each way, borders padded by `mode` (F.pad's 'replicate', 'reflect', ...)."""
    b, c, h, w = x.shape
    sigma = torch.as_tensor(sigma, device=x.device, dtype=x.dtype).expand(b)
    t = torch.arange(-radius, radius + 1, device=x.device, dtype=x.dtype)
    k = torch.exp(-(t.view(1, -1) ** 2) / (2 * sigma.view(-1, 1) ** 2))
    k = (k / k.sum(1, keepdim=True)).repeat_interleave(c, 0)  # (B*C, 2 radius + 1)
    y = x.reshape(1, b * c, h, w)
    y = F.conv2d(F.pad(y, (radius, radius, 0, 0), mode=mode), k.view(b * c, 1, 1, -1), groups=b * c)
    y = F.conv2d(F.pad(y, (0, 0, radius, radius), mode=mode), k.view(b * c, 1, -1, 1), groups=b * c)
    return y.reshape(b, c, h, w)
