"""The hand detector's network: a light depthwise-separable backbone (MobileNet-style blocks) with a top-down
feature pyramid merged at stride 8, and CenterNet heads: centre heatmap, box regression and optionally side
(handclip.models.hand_side classifies crops instead).

Sized for a 2-core CPU: 0.15 M parameters and 0.056 GMAC on a 256 px input at width 1 (4 ms an image, one thread).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

HEAT_PRIOR = 0.05  # initial centre probability: the focal loss starts from few, not half, positives
STAGES = ((32, 2), (48, 2), (96, 3), (160, 3))  # (channels, blocks) at strides 4, 8, 16, 32
STEM = 16


def _ch(c: int, width: float) -> int:
    """Channels scaled by width, rounded to a multiple of 8 (at least 8)."""
    return max(8, int(round(c * width / 8)) * 8)


class Separable(nn.Module):
    """Depthwise 3x3 (stride s) + pointwise 1x1, each with BatchNorm and ReLU; residual when shapes match."""

    def __init__(self, cin: int, cout: int, stride: int = 1):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(cin, cin, 3, stride, 1, groups=cin, bias=False), nn.BatchNorm2d(cin), nn.ReLU(inplace=True),
            nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        return x + y if self.residual else y


def _stage(cin: int, cout: int, blocks: int) -> nn.Sequential:
    """One stride-2 block then blocks - 1 residual ones."""
    return nn.Sequential(Separable(cin, cout, 2), *[Separable(cout, cout) for _ in range(blocks - 1)])


def _head(channels: int, outputs: int, bias: float = 0.0) -> nn.Sequential:
    """A separable 3x3 then a 1x1 to `outputs` maps."""
    last = nn.Conv2d(channels, outputs, 1)
    nn.init.constant_(last.bias, bias)
    return nn.Sequential(Separable(channels, channels), last)


class HandDetectorNet(nn.Module):
    """(B, 3, S, S) float RGB in [0, 1] -> heat logits (B, 1, S/8, S/8), regression (B, 4, S/8, S/8) as offset
    x, y and log size w, h (handclip.detection.codec), side logits (B, 1, S/8, S/8) (positive: left hand; None
    without the side head)."""

    stride = 8

    def __init__(self, width: float = 1.0, neck: int = 64, side_head: bool = True):
        super().__init__()
        stem = _ch(STEM, width)
        self.stem = nn.Sequential(nn.Conv2d(3, stem, 3, 2, 1, bias=False), nn.BatchNorm2d(stem), nn.ReLU(inplace=True))
        chans = [stem] + [_ch(c, width) for c, _ in STAGES]
        self.stages = nn.ModuleList(_stage(chans[i], chans[i + 1], n) for i, (_, n) in enumerate(STAGES))
        self.lateral = nn.ModuleList(nn.Conv2d(c, neck, 1) for c in chans[2:])  # strides 8, 16, 32
        self.smooth = Separable(neck, neck)
        self.heat = _head(neck, 1, -math.log((1 - HEAT_PRIOR) / HEAT_PRIOR))
        self.reg = _head(neck, 4)
        self.side = _head(neck, 1) if side_head else None

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x = self.stem((image - 0.45) / 0.25)
        features = []
        for stage in self.stages:
            x = stage(x)
            features.append(x)
        top = self.lateral[-1](features[-1])
        for lateral, feature in zip(self.lateral[-2::-1], features[-2:0:-1]):
            top = lateral(feature) + F.interpolate(top, size=feature.shape[-2:], mode="nearest")
        y = self.smooth(top)
        return self.heat(y), self.reg(y), None if self.side is None else self.side(y)
