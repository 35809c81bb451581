"""Boxes <-> CenterNet maps (Zhou et al., "Objects as Points"): a hand is the peak of a centre heatmap, with
its box size, the centre's sub-cell offset and its side read at that peak.

Grid cell j of a stride-R map sits at canvas coordinate (j + 0.5) R - 0.5 (pixel centres at integers, the
convention of handclip.models.heatmap2d). A box centre c falls at grid coordinate q = (c + 0.5) / R - 0.5, is
owned by cell round(q) and keeps the offset q - round(q) in [-0.5, 0.5]; the size is regressed as
log(w / R), log(h / R). The heatmap target is an elliptical Gaussian around the owning cell, sigma = ALPHA / 6
of the box's size in cells (TTFNet's choice), at least MIN_SIGMA cells.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from handclip.models.heatmap2d import to_crop_pixels, to_heatmap_coords

ALPHA = 0.54
MIN_SIGMA = 0.5
SIDE_REGION = 0.5  # the side is supervised where a hand's Gaussian is at least this high


@dataclass(frozen=True)
class CenterCodec:
    """Encoder and decoder of one input size and stride."""

    size: int = 256
    stride: int = 8

    @property
    def grid(self) -> int:
        return self.size // self.stride

    def cell_of(self, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(integer cells (N, 2) as (col, row), offsets (N, 2)) of the centres of boxes (N, 4)."""
        b = np.asarray(boxes, np.float64).reshape(-1, 4)
        q = to_heatmap_coords(b[:, :2] + b[:, 2:] / 2, self.stride)
        cell = np.clip(np.round(q), 0, self.grid - 1)
        return cell.astype(np.int64), q - cell

    def encode(self, boxes: np.ndarray, left: np.ndarray, valid: np.ndarray, ignore: np.ndarray | None = None) -> dict:
        """Training targets of one image's padded hands: boxes (M, 4) canvas px, left (M,) bool, valid (M,) bool
        (padding False), ignore (M,) bool (a hand cut off by the crop: no loss anywhere inside its box).

        Returns 'heat' (G, G) in [0, 1], 'heat_weight' (G, G) (0 inside ignored boxes), 'side' (G, G) 1 for
        left, 'side_weight' (G, G), 'index' (M,) flat cell of each hand, 'reg' (M, 4) offset x, y and log size
        w, h, 'reg_mask' (M,) (valid, not ignored, first hand of its cell)."""
        g, m = self.grid, len(boxes)
        boxes = np.asarray(boxes, np.float64).reshape(m, 4)
        ignore = np.zeros(m, bool) if ignore is None else np.asarray(ignore, bool)
        heat, weight = np.zeros((g, g), np.float32), np.ones((g, g), np.float32)
        side, side_weight = np.zeros((g, g), np.float32), np.zeros((g, g), np.float32)
        index, reg, mask = np.zeros(m, np.int64), np.zeros((m, 4), np.float32), np.zeros(m, bool)
        cells, offsets = self.cell_of(boxes)
        coords = np.arange(g, dtype=np.float64)
        for k in range(m):
            if not valid[k]:
                continue
            if ignore[k]:
                x0, y0 = np.floor((boxes[k, :2] + 0.5) / self.stride).astype(int)
                x1, y1 = np.ceil((boxes[k, :2] + boxes[k, 2:] + 0.5) / self.stride).astype(int)
                weight[max(y0, 0):max(y1, 0), max(x0, 0):max(x1, 0)] = 0.0
                continue
            sigma = np.maximum(ALPHA / 6 * boxes[k, 2:] / self.stride, MIN_SIGMA)
            gx = np.exp(-((coords - cells[k, 0]) ** 2) / (2 * sigma[0] ** 2))
            gy = np.exp(-((coords - cells[k, 1]) ** 2) / (2 * sigma[1] ** 2))
            gauss = (gy[:, None] * gx[None, :]).astype(np.float32)
            owned = (gauss >= SIDE_REGION) & (gauss > side_weight)
            side[owned], side_weight[owned] = float(left[k]), gauss[owned]
            heat = np.maximum(heat, gauss)
            index[k] = cells[k, 1] * g + cells[k, 0]
            mask[k] = not np.any(mask[:k] & (index[:k] == index[k]))
            reg[k] = [*offsets[k], *np.log(np.maximum(boxes[k, 2:], 1e-3) / self.stride)]
        weight[heat >= 1.0] = 1.0  # a centre stays a positive even inside another hand's ignored box
        return {"heat": heat, "heat_weight": weight, "side": side, "side_weight": side_weight, "index": index,
                "reg": reg, "reg_mask": mask}

    def boxes_at(self, cells: torch.Tensor, reg: torch.Tensor) -> torch.Tensor:
        """Canvas boxes (..., 4) of cells (..., 2) as (col, row) with their regressions (..., 4)."""
        centre = to_crop_pixels(cells.float() + reg[..., :2], self.stride)
        wh = torch.exp(reg[..., 2:].clamp(max=8.0)) * self.stride
        return torch.cat([centre - wh / 2, wh], -1)

    def decode(self, heat: torch.Tensor, reg: torch.Tensor, side: torch.Tensor | None, k: int) -> dict[str, torch.Tensor]:
        """The k best local maxima of heat (B, G, G) probabilities: 'boxes' (B, k, 4) canvas px, 'scores' (B, k),
        'left' (B, k) probability that the hand is a left one (when side (B, G, G) probabilities are given);
        reg (B, 4, G, G)."""
        b, g = heat.shape[0], heat.shape[-1]
        peaks = heat * (F.max_pool2d(heat[:, None], 3, 1, 1)[:, 0] == heat)
        scores, flat = peaks.reshape(b, -1).topk(min(k, g * g), dim=1)
        cells = torch.stack([flat % g, torch.div(flat, g, rounding_mode="floor")], -1)
        at = reg.reshape(b, 4, -1).gather(2, flat[:, None].expand(-1, 4, -1)).transpose(1, 2)
        out = {"boxes": self.boxes_at(cells, at), "scores": scores}
        if side is not None:
            out["left"] = side.reshape(b, -1).gather(1, flat)
        return out
