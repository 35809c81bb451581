"""Separable Gaussian blur of image or map batches, one sigma per item: the normal augmentation's blur and DARK's
smoothing of heatmaps before decoding share it."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def gaussian_blur(x: torch.Tensor, sigma: torch.Tensor | float, radius: int, mode: str = "replicate") -> torch.Tensor:
    """x (B, C, H, W), every channel of item b convolved with a normalised Gaussian of sigma[b] (or one sigma for
    all) cut at `radius` cells each way, borders padded by `mode` (F.pad's 'replicate', 'reflect', ...)."""
    b, c, h, w = x.shape
    t = torch.arange(-radius, radius + 1, device=x.device, dtype=x.dtype)
    if isinstance(sigma, (int, float)):  # one kernel for every map: a fixed-shape convolution, so ONNX can trace it
        k = torch.exp(-(t**2) / (2 * float(sigma) ** 2)).view(1, -1)
        y, groups = x.reshape(b * c, 1, h, w), 1
    else:
        sigma = torch.as_tensor(sigma, device=x.device, dtype=x.dtype).expand(b)
        k = torch.exp(-(t.view(1, -1) ** 2) / (2 * sigma.view(-1, 1) ** 2)).repeat_interleave(c, 0)  # (B*C, 2r+1)
        y, groups = x.reshape(1, b * c, h, w), b * c
    k = k / k.sum(1, keepdim=True)
    y = F.conv2d(F.pad(y, (radius, radius, 0, 0), mode=mode), k.view(-1, 1, 1, k.shape[1]), groups=groups)
    y = F.conv2d(F.pad(y, (0, 0, radius, radius), mode=mode), k.view(-1, 1, k.shape[1], 1), groups=groups)
    return y.reshape(b, c, h, w)
