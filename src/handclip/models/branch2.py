"""f^H2D's 'Branch2' of DG-CLIP (supplement Table 1, layers 12-19): encodings e1', e2' for L^Con.

From the layer-11 features: two stride-2 convolutions (512, 1024 channels), an 8x8 max-pool to one
1024 vector; FC -> e1 (512); [pooled, f^CLIP] -> FC -> e2 (512) ('concat'), or FC(pooled) + f^CLIP
('sum', the ablation of paper Table 4b); one weight-shared projection head 512 -> 512 -> 128 gives
e1' and e2'. Table 1 prints 3x3 kernels and no activation for layers 12-13; the authors' release uses
1x1 kernels there (`kernel=1`). Used only in training: the saved inference model leaves it out.
"""

from __future__ import annotations

import torch
from torch import nn

from handclip.models.cpm import scaled


class ProjectionHead(nn.Module):
    """Two-layer MLP 512 -> 512 -> 128 shared by e1 and e2 (paper Sec. 3.3)."""

    def __init__(self, dim: int = 512, out_dim: int = 128):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(inplace=True), nn.Linear(dim, out_dim))

    def forward(self, e: torch.Tensor) -> torch.Tensor:
        return self.net(e)


class Branch2(nn.Module):
    """Layer-11 features (B, C, h, w) and optional f^CLIP (B, clip_dim) -> (e1', e2' or None), each (B, 128)."""

    def __init__(self, in_channels: int, width: float = 1.0, clip_dim: int = 512, kernel: int = 3,
                 combine: str = "concat", embed_dim: int = 512, out_dim: int = 128):
        super().__init__()
        if combine not in ("concat", "sum"):
            raise ValueError(f"Branch2 combine must be 'concat' or 'sum', got {combine!r}")
        if kernel not in (1, 3):
            raise ValueError(f"Branch2 kernel must be 3 (Table 1) or 1 (authors' release), got {kernel}")
        c12, c13 = scaled(512, width), scaled(1024, width)
        self.convs = nn.Sequential(
            nn.Conv2d(in_channels, c12, kernel, stride=2, padding=kernel // 2),  # layer 12
            nn.Conv2d(c12, c13, kernel, stride=2, padding=kernel // 2),  # layer 13
            nn.AdaptiveMaxPool2d(1),  # layer 14: the 8x8 max-pool at full size
            nn.Flatten(),  # layer 15
        )
        self.combine = combine
        self.fc_e1 = nn.Linear(c13, embed_dim)  # layer 16
        if combine == "concat":
            self.fc_e2 = nn.Linear(c13 + clip_dim, embed_dim)  # layers 17-18
        else:
            if clip_dim != embed_dim:
                raise ValueError(f"'sum' needs clip_dim == embed_dim, got {clip_dim} and {embed_dim}")
            self.fc_e2 = nn.Linear(c13, embed_dim)
        self.head = ProjectionHead(embed_dim, out_dim)

    def forward(self, feat11: torch.Tensor, clip_feature: torch.Tensor | None = None):
        pooled = self.convs(feat11)
        e1 = self.head(self.fc_e1(pooled))
        if clip_feature is None:
            return e1, None
        clip_feature = clip_feature.to(pooled.dtype)
        if self.combine == "concat":
            e2 = self.fc_e2(torch.cat([pooled, clip_feature], dim=1))
        else:
            e2 = self.fc_e2(pooled) + clip_feature
        return e1, self.head(e2)
