"""Mesh regressor of CLIP-Hand3D (section 3.4): joint heatmaps + F0 -> F_J, then coarse-to-fine mesh levels.

The predicted uvd joints become a 3D Gaussian heatmap (sigma 2 bins) over the (u, v, d) volume, used
through its projections on the xy, xz and yz planes (a 3D Gaussian projects to a 2D Gaussian; peak
normalised to 1), resized to F0 and concatenated with it; convolutions bring the channels to the 21
joints and an MLP the flattened maps to 256 features: F_J (B, 21, 256). Each level has a transformer
over its nodes (learned per-node positional encoding; `attention_max_nodes` may leave the transformer out
of levels with more nodes, a CPU economy: attention cost grows with the square of the node count); between levels an MLP halves the width and
the graph upsampling matrix of handclip.mesh.hierarchy adds nodes (sparse-to-dense). Feature
pyramid projection: F3, F2, F1 are sampled at the joints' uv, projected to the level width and
spread from the joints to the level's nodes (U-Net-like links). A final MLP gives the vertices.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from handclip.mesh.hierarchy import MeshHierarchy
from handclip.models.token_transformer import TokenTransformer


def plane_heatmaps(uvd: torch.Tensor, bins_xy: int, bins_z: int, sigma: float = 2.0) -> list[torch.Tensor]:
    """Projections of per-joint 3D Gaussians at uvd (B, J, 3) bins: xy (B,J,by,bx), xz (B,J,bz,bx), yz (B,J,by,bz)."""
    gx = torch.arange(bins_xy, device=uvd.device, dtype=uvd.dtype)
    gz = torch.arange(bins_z, device=uvd.device, dtype=uvd.dtype)
    ex = torch.exp(-((gx - uvd[..., 0:1]) ** 2) / (2 * sigma**2))  # (B, J, bx)
    ey = torch.exp(-((gx - uvd[..., 1:2]) ** 2) / (2 * sigma**2))
    ez = torch.exp(-((gz - uvd[..., 2:3]) ** 2) / (2 * sigma**2))
    outer = lambda rows, cols: rows[..., :, None] * cols[..., None, :]  # noqa: E731
    return [outer(ey, ex), outer(ez, ex), outer(ey, ez)]


def sample_at(feature: torch.Tensor, uv: torch.Tensor, image_size: int) -> torch.Tensor:
    """Bilinear features (B, J, C) of a map (B, C, h, w) at crop pixels uv (B, J, 2) (pixel centres at integers)."""
    grid = (uv + 0.5) / image_size * 2 - 1  # the map covers the whole crop
    out = F.grid_sample(feature, grid[:, :, None, :], mode="bilinear", align_corners=False)
    return out[..., 0].transpose(1, 2)


class MeshRegressor(nn.Module):
    """(F0..F3, uvd bins, uv px) -> vertices (B, V, 3) in the regressor's output units."""

    def __init__(self, hierarchy: MeshHierarchy, channels: list[int], image_size: int, bins_xy: int = 32,
                 bins_z: int = 64, widths=(256, 128, 64, 32), sigma: float = 2.0, feature_projection: bool = True,
                 depth: int = 1, heads: int = 4, batch_attention_quirk: bool = False,
                 attention_max_nodes: int | None = None):
        super().__init__()
        if len(widths) != len(hierarchy.sizes):
            raise ValueError(f"{len(widths)} widths for {len(hierarchy.sizes)} hierarchy levels")
        joints = hierarchy.sizes[0]
        self.image_size, self.bins_xy, self.bins_z, self.sigma = image_size, bins_xy, bins_z, sigma
        self.feature_projection = feature_projection
        self.fj_conv = nn.Sequential(
            nn.Conv2d(channels[0] + 3 * joints, 64, 3, stride=2, padding=1), nn.BatchNorm2d(64), nn.ReLU(inplace=True),
            nn.Conv2d(64, joints, 3, stride=2, padding=1), nn.BatchNorm2d(joints), nn.ReLU(inplace=True),
            nn.AdaptiveAvgPool2d(8),
        )
        self.fj_mlp = nn.Sequential(nn.Linear(64, widths[0]), nn.ReLU(inplace=True), nn.Linear(widths[0], widths[0]))
        self.blocks = nn.ModuleList(
            TokenTransformer(w, depth, heads, num_tokens=n, batch_attention_quirk=batch_attention_quirk)
            if attention_max_nodes is None or n <= attention_max_nodes else nn.Identity()
            for w, n in zip(widths, hierarchy.sizes))
        self.shrink = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:]))
        # level k >= 1 takes pyramid map F_{4-k}: F3 for the coarsest mesh level, F1 for the full mesh
        self.pyramid = nn.ModuleList(nn.Linear(channels[len(widths) - k], widths[k]) for k in range(1, len(widths)))
        self.head = nn.Sequential(nn.Linear(widths[-1], widths[-1]), nn.ReLU(inplace=True), nn.Linear(widths[-1], 3))
        for k, up in enumerate(hierarchy.upsample):
            self.register_buffer(f"up{k}", torch.as_tensor(up), persistent=False)
            self.register_buffer(f"spread{k + 1}", torch.as_tensor(hierarchy.from_joints(k + 1)), persistent=False)

    def joint_features(self, f0: torch.Tensor, uvd: torch.Tensor) -> torch.Tensor:
        """F_J (B, 21, width0) from F0 and the plane projections of the joint heatmap."""
        size = f0.shape[-2:]
        planes = [F.interpolate(p, size=size, mode="bilinear", align_corners=False)
                  for p in plane_heatmaps(uvd, self.bins_xy, self.bins_z, self.sigma)]
        x = self.fj_conv(torch.cat([f0] + planes, 1))
        return self.fj_mlp(x.flatten(2))

    def forward(self, features: list[torch.Tensor], uvd: torch.Tensor, uv: torch.Tensor) -> torch.Tensor:
        """features [F0, F1, F2, F3, ...]; uvd (B, J, 3) bins; uv (B, J, 2) crop pixels of the joints."""
        x = self.blocks[0](self.joint_features(features[0], uvd))
        for k in range(1, len(self.blocks)):
            x = getattr(self, f"up{k - 1}") @ self.shrink[k - 1](x)
            if self.feature_projection:
                sampled = sample_at(features[len(self.blocks) - k], uv, self.image_size)
                x = x + getattr(self, f"spread{k}") @ self.pyramid[k - 1](sampled)
            x = self.blocks[k](x)
        return self.head(x)
