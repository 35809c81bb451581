"""Codec between crop-pixel keypoints and the CPM's 2D Gaussian heatmaps (encode for L^Heat, decode for uv).

Heatmap cell (i, j) of a map at 1/stride resolution covers crop pixels stride*j .. stride*(j+1)-1, so
with pixel centres at integers a crop pixel u sits at heatmap coordinate (u + 0.5) / stride - 0.5.
"""

from __future__ import annotations

import torch


def to_heatmap_coords(uv: torch.Tensor, stride: int) -> torch.Tensor:
    """Crop pixels -> heatmap cell coordinates (same layout (..., 2))."""
    return (uv + 0.5) / stride - 0.5


def to_crop_pixels(xy: torch.Tensor, stride: int) -> torch.Tensor:
    """Heatmap cell coordinates -> crop pixels, inverse of to_heatmap_coords."""
    return (xy + 0.5) * stride - 0.5


def encode(uv: torch.Tensor, size: int, stride: int, sigma: float, valid: torch.Tensor | None = None) -> torch.Tensor:
    """Gaussian heatmaps (B, J, size, size) with peak 1 at each joint; invalid joints get all-zero maps.

    uv: (B, J, 2) crop pixels; sigma in heatmap cells."""
    xy = to_heatmap_coords(uv.float(), stride)
    grid = torch.arange(size, device=uv.device, dtype=torch.float32)
    gx = torch.exp(-((grid - xy[..., 0:1]) ** 2) / (2 * sigma**2))  # (B, J, size) along x
    gy = torch.exp(-((grid - xy[..., 1:2]) ** 2) / (2 * sigma**2))  # along y
    maps = gy.unsqueeze(-1) * gx.unsqueeze(-2)
    if valid is not None:
        maps = maps * valid.to(maps.dtype)[..., None, None]
    return maps


def decode(heatmaps: torch.Tensor, stride: int) -> torch.Tensor:
    """Crop-pixel keypoints (B, J, 2) at each map's maximum, refined by a quarter cell towards the
    higher neighbour (the usual CPM decoding; no refinement along an axis at the map's border)."""
    b, j, h, w = heatmaps.shape
    flat = heatmaps.reshape(b, j, -1).argmax(-1)
    y, x = flat // w, flat % w
    hm = heatmaps.reshape(b * j, h, w)
    idx = torch.arange(b * j, device=heatmaps.device)
    xf, yf = x.reshape(-1), y.reshape(-1)
    right = hm[idx, yf, (xf + 1).clamp(max=w - 1)]
    left = hm[idx, yf, (xf - 1).clamp(min=0)]
    down = hm[idx, (yf + 1).clamp(max=h - 1), xf]
    up = hm[idx, (yf - 1).clamp(min=0), xf]
    inner_x = (xf > 0) & (xf < w - 1)
    inner_y = (yf > 0) & (yf < h - 1)
    dx = (0.25 * torch.sign(right - left) * inner_x).reshape(b, j)
    dy = (0.25 * torch.sign(down - up) * inner_y).reshape(b, j)
    xy = torch.stack([x.float() + dx, y.float() + dy], dim=-1)
    return to_crop_pixels(xy, stride)
