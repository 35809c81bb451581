"""Codec between crop-pixel keypoints and the CPM's 2D Gaussian heatmaps (encode for L^Heat, decode for uv).

Heatmap cell (i, j) of a map at 1/stride resolution covers crop pixels stride*j .. stride*(j+1)-1, so
with pixel centres at integers a crop pixel u sits at heatmap coordinate (u + 0.5) / stride - 0.5.
"""

from __future__ import annotations

import torch

from handclip.filters import gaussian_blur


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


def decode(heatmaps: torch.Tensor, stride: int, blur_sigma: float = 1.0) -> torch.Tensor:
    """Crop-pixel keypoints (B, J, 2) at each map's maximum, refined to the peak of the quadratic that fits the log
    of the map around it (DARK, Zhang et al. 2020: one Newton step; exact for a Gaussian). The map is smoothed
    by a Gaussian of blur_sigma cells first, as DARK does, so that a ragged predicted map is read as a Gaussian.
    Where the log is not concave there, or along an axis at the map's border, the step falls back to a quarter
    cell towards the higher neighbour (the usual CPM decoding); steps are clamped to half a cell."""
    b, j, h, w = heatmaps.shape
    flat = heatmaps.reshape(b, j, -1).argmax(-1)
    y, x = flat // w, flat % w
    if blur_sigma > 0:
        heatmaps = gaussian_blur(heatmaps, blur_sigma, max(1, int(round(3 * blur_sigma))), mode="replicate")
    logs = heatmaps.clamp_min(1e-10).log().reshape(b * j, h, w)
    idx = torch.arange(b * j, device=heatmaps.device)
    xf, yf = x.reshape(-1), y.reshape(-1)

    def at(dx: int, dy: int) -> torch.Tensor:
        return logs[idx, (yf + dy).clamp(0, h - 1), (xf + dx).clamp(0, w - 1)]

    centre, right, left, down, up = at(0, 0), at(1, 0), at(-1, 0), at(0, 1), at(0, -1)
    gx, gy = (right - left) / 2, (down - up) / 2
    hxx, hyy = right - 2 * centre + left, down - 2 * centre + up
    hxy = (at(1, 1) - at(1, -1) - at(-1, 1) + at(-1, -1)) / 4
    det = hxx * hyy - hxy * hxy
    concave = (hxx < 0) & (det > 0)
    safe = torch.where(concave, det, torch.ones_like(det))
    newton_x = -(hyy * gx - hxy * gy) / safe
    newton_y = -(hxx * gy - hxy * gx) / safe
    inner_x, inner_y = (xf > 0) & (xf < w - 1), (yf > 0) & (yf < h - 1)
    dx = torch.where(concave, newton_x, 0.25 * torch.sign(gx)).clamp(-0.5, 0.5) * inner_x
    dy = torch.where(concave, newton_y, 0.25 * torch.sign(gy)).clamp(-0.5, 0.5) * inner_y
    xy = torch.stack([x.float() + dx.reshape(b, j), y.float() + dy.reshape(b, j)], dim=-1)
    return to_crop_pixels(xy, stride)
