"""f^H2D's 'Branch1': the convolutional pose machine of DG-CLIP supplement Table 1 (layers 1-11, 20-45).

Layers 12-19 (the 'Branch2' that produces the contrastive encodings) live in handclip.models.branch2.
At full size (width 1, 256x256 input) the net maps an image to three stages of 21x32x32 heatmaps; the
CPU size scales every channel count by `width` (the 21 heatmap channels stay) and takes a smaller
input, the heatmaps staying at input/8.
"""

from __future__ import annotations

import torch
from torch import nn

NUM_JOINTS = 21
STRIDE = 8  # three 2x2 max-poolings
# Table 1, layers 1-11: output channels, 'M' = 2x2 max-pooling
BACKBONE = (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M")
# Table 1, layers 20-28: stage 1 (layer 26's 128 channels are the feature F reused by stages 2-3)
STAGE1 = (512, 512, 256, 256, 256, 256, 128, 512)
# Table 1, layers 30-37 and 39-45: stages 2 and 3 on [F, previous heatmaps] (128 + 21 = 149 channels):
# 128-channel convolutions per stage (7: layers 30-36; 6: layers 39-44), then the 21-channel one (37, 45)
REFINE_WIDTH = 128
TABLE1_REFINE_CONVS = (7, 6)
FEATURE_INDEX = 6  # position of layer 26 in STAGE1


def scaled(channels: int, width: float) -> int:
    """Channel count times the width multiplier, at least 1."""
    return max(1, int(round(channels * width)))


def conv_lrelu(cin: int, cout: int, norm: bool = False) -> list[nn.Module]:
    """3x3 convolution (same padding) + LeakyReLU, the unit of Tables 1 and 2; with `norm` a BatchNorm
    between them (not in the tables: it stands in for the ImageNet start the paper's network had)."""
    if not norm:
        return [nn.Conv2d(cin, cout, 3, padding=1), nn.LeakyReLU(inplace=True)]
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.LeakyReLU(inplace=True)]


def heatmap_output(cin: int, linear: bool = False) -> list[nn.Module]:
    """A stage's 21-channel heatmap layer: Table 1's convolution + LeakyReLU, or the convolution alone."""
    return [nn.Conv2d(cin, NUM_JOINTS, 3, padding=1)] if linear else conv_lrelu(cin, NUM_JOINTS)


def init_leaky(module: nn.Module) -> None:
    """He initialisation for LeakyReLU on every convolution and linear layer, zero biases: without it (and
    without the ImageNet VGG weights Zimmermann & Brox started from) the 26-layer plain stack barely trains."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(m.weight, a=0.01, nonlinearity="leaky_relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)


class CPM(nn.Module):
    """Branch1 of f^H2D: image (B, 3, S, S), already normalised -> three stages of (B, 21, S/8, S/8)
    heatmaps and the layer-11 feature map (B, 256*width, S/8, S/8) that feeds Branch2. `refine_convs`:
    the 128-channel convolutions of stages 2 and 3 (Table 1: 7 and 6). `norm`: BatchNorm after every
    convolution but the heatmap outputs; `linear_heads`: no LeakyReLU on the three 21-channel heatmap outputs
    (Table 1 prints one; from scratch, outputs pushed below zero then pass only 1 % of their gradient)."""

    def __init__(self, width: float = 1.0, refine_convs=TABLE1_REFINE_CONVS, norm: bool = False,
                 linear_heads: bool = False):
        super().__init__()
        layers, cin = [], 3
        for item in BACKBONE:
            if item == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += conv_lrelu(cin, scaled(item, width), norm)
                cin = scaled(item, width)
        self.backbone = nn.Sequential(*layers)
        self.feature_channels = cin

        stage1 = []
        for c in STAGE1:
            stage1.append(nn.Sequential(*conv_lrelu(cin, scaled(c, width), norm)))
            cin = scaled(c, width)
        self.stage1_feature = nn.Sequential(*stage1[: FEATURE_INDEX + 1])  # layers 20-26
        self.stage1_head = nn.Sequential(*stage1[FEATURE_INDEX + 1 :], *heatmap_output(cin, linear_heads))  # 27-28
        f_channels = scaled(STAGE1[FEATURE_INDEX], width)
        if len(refine_convs) != 2:
            raise ValueError(f"refine_convs gives the convolution counts of stages 2 and 3, got {refine_convs}")
        self.refine = nn.ModuleList([self._refine_stage(f_channels, width, n, norm, linear_heads) for n in refine_convs])  # 29-37, 38-45
        init_leaky(self)

    @staticmethod
    def _refine_stage(f_channels: int, width: float, convs: int, norm: bool = False,
                      linear_heads: bool = False) -> nn.Sequential:
        """`convs` 128-channel convolutions and a 21-channel one on [F, heatmaps]."""
        layers, cin = [], f_channels + NUM_JOINTS
        for _ in range(convs):
            layers += conv_lrelu(cin, scaled(REFINE_WIDTH, width), norm)
            cin = scaled(REFINE_WIDTH, width)
        layers += heatmap_output(cin, linear_heads)
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
        """Heatmaps of every stage (last = the prediction) and the layer-11 features."""
        feat11 = self.backbone(x)
        f = self.stage1_feature(feat11)
        heatmaps = [self.stage1_head(f)]
        for stage in self.refine:
            heatmaps.append(stage(torch.cat([f, heatmaps[-1]], dim=1)))
        return heatmaps, feat11
