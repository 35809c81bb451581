"""f^PP, the PosePrior net of DG-CLIP supplement Table 2 (after Zimmermann & Brox, ICCV 2017).

Two parallel streams read the 21 heatmaps: one regresses the 21x3 pose in the canonical frame of
handclip.geometry.canonical_frame, the other three viewpoint parameters, an axis-angle vector turned
into the rotation R by handclip.geometry.axis_angle_to_matrix. Their composition xyz_c @ R is the
wrist-relative pose in camera axes, normalised by the middle MCP-PIP bone (geometry.normalise);
multiplying by a bone length in mm gives millimetres.
"""

from __future__ import annotations

import torch
from torch import nn

from handclip.geometry import axis_angle_to_matrix
from handclip.models.cpm import NUM_JOINTS, init_leaky, scaled

# Table 2: (output channels, stride) of the six 3x3 convolutions of each stream
CANONICAL_CONVS = ((21, 1), (32, 2), (64, 1), (64, 2), (128, 1), (128, 2))
CANONICAL_FCS = (512, 512)
VIEWPOINT_CONVS = ((64, 1), (64, 2), (128, 1), (128, 2), (256, 1), (256, 2))
VIEWPOINT_FCS = (256, 128)


def _stream(convs, fcs, heatmap_size: int, width: float) -> tuple[nn.Sequential, int]:
    """Convolutions + LeakyReLU, flatten, linear + LeakyReLU layers; returns the stream and its width."""
    layers, cin, size = [], NUM_JOINTS, heatmap_size
    for cout, stride in convs:
        cout = scaled(cout, width)
        layers += [nn.Conv2d(cin, cout, 3, stride=stride, padding=1), nn.LeakyReLU(inplace=True)]
        cin, size = cout, (size + stride - 1) // stride
    layers.append(nn.Flatten())
    features = cin * size * size
    for d in fcs:
        d = scaled(d, width)
        layers += [nn.Linear(features, d), nn.LeakyReLU(inplace=True)]
        features = d
    return nn.Sequential(*layers), features


class PosePrior(nn.Module):
    """Heatmaps (B, 21, h, h) -> canonical pose (B, 21, 3) and viewpoint rotation (B, 3, 3)."""

    def __init__(self, heatmap_size: int = 32, width: float = 1.0):
        super().__init__()
        self.canonical, d = _stream(CANONICAL_CONVS, CANONICAL_FCS, heatmap_size, width)
        self.canonical_out = nn.Linear(d, NUM_JOINTS * 3)  # Table 2 canonical stream, layers 10-11
        self.viewpoint, d = _stream(VIEWPOINT_CONVS, VIEWPOINT_FCS, heatmap_size, width)
        # Table 2 viewpoint stream, layers 9-15: three separate 128 -> 1 heads, concatenated
        self.angles = nn.ModuleList([nn.Linear(d, 1) for _ in range(3)])
        init_leaky(self)

    def forward(self, heatmaps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        xyz_c = self.canonical_out(self.canonical(heatmaps)).view(-1, NUM_JOINTS, 3)
        v = self.viewpoint(heatmaps)
        R = axis_angle_to_matrix(torch.cat([head(v) for head in self.angles], dim=1))
        return xyz_c, R

    @staticmethod
    def compose(xyz_c: torch.Tensor, R: torch.Tensor) -> torch.Tensor:
        """Camera-axis, wrist-relative, bone-normalised pose xyz_n = xyz_c @ R (geometry.canonical_frame)."""
        return xyz_c @ R
