"""Joint uvd regressor of CLIP-Hand3D (section 3.2, Eq. 2) and its codec, kept apart (mmpose-style).

LixelHead: deconvolution on F4, then one lixel (1D) heatmap per joint and axis: x and y from the
feature map averaged over the other image axis, z from the pooled feature spread over depth bins;
1D convolutions, softmax and a differentiable soft-argmax give (u, v, d) in bins. The authors'
release uses 32 x/y bins and 64 depth bins.

LixelCodec: bins <-> crop pixels and wrist-relative depth in mm, and back-projection to camera-frame
xyz through handclip.geometry.uvd_to_xyz given the root depth and a bone scale.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from handclip import geometry
from handclip.skeleton import MIDDLE_MCP, MIDDLE_PIP, NUM_JOINTS


def soft_argmax_1d(logits: torch.Tensor) -> torch.Tensor:
    """Expected bin index (...,) of a softmax over the last axis: a differentiable argmax."""
    prob = logits.softmax(-1)
    bins = torch.arange(logits.shape[-1], device=logits.device, dtype=prob.dtype)
    return (prob * bins).sum(-1)


def _conv1d_block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv1d(cin, cout, 3, padding=1), nn.BatchNorm1d(cout), nn.ReLU(inplace=True))


class LixelHead(nn.Module):
    """F4 (B, C, h, w) -> per-axis logits F_px, F_py (B, J, bins_xy), F_pz (B, J, bins_z) and uvd bins (B, J, 3)."""

    def __init__(self, in_channels: int, width: int = 256, bins_xy: int = 32, bins_z: int = 64,
                 num_deconv: int = 2, z_width: int = 32, num_joints: int = NUM_JOINTS):
        super().__init__()
        layers, cin = [], in_channels
        for _ in range(num_deconv):
            layers += [nn.ConvTranspose2d(cin, width, 4, stride=2, padding=1, bias=False),
                       nn.BatchNorm2d(width), nn.ReLU(inplace=True)]
            cin = width
        self.deconv = nn.Sequential(*layers)
        self.bins_xy, self.bins_z, self.z_width = bins_xy, bins_z, z_width
        self.conv_x = nn.Sequential(_conv1d_block(width, width), nn.Conv1d(width, num_joints, 1))
        self.conv_y = nn.Sequential(_conv1d_block(width, width), nn.Conv1d(width, num_joints, 1))
        # depth: the pooled feature is spread over the depth bins, then a multi-layer 1D convolution (Conv1d*)
        self.spread_z = nn.Linear(width, z_width * bins_z)
        self.conv_z = nn.Sequential(_conv1d_block(z_width, z_width), nn.Conv1d(z_width, num_joints, 1))

    def forward(self, f4: torch.Tensor) -> dict[str, torch.Tensor]:
        """Lixel logits per axis and the soft-argmax joints 'uvd' in bins."""
        fl = self.deconv(f4)
        if fl.shape[-2:] != (self.bins_xy, self.bins_xy):
            fl = F.interpolate(fl, size=(self.bins_xy, self.bins_xy), mode="bilinear", align_corners=False)
        px = self.conv_x(fl.mean(2))
        py = self.conv_y(fl.mean(3))
        pz = self.conv_z(self.spread_z(fl.mean((2, 3))).view(-1, self.z_width, self.bins_z))
        uvd = torch.stack([soft_argmax_1d(px), soft_argmax_1d(py), soft_argmax_1d(pz)], -1)
        return {"px": px, "py": py, "pz": pz, "uvd": uvd}


class LixelCodec:
    """Bins <-> (u, v) crop pixels and d = z - z_wrist in mm; d spans [-depth_range/2, depth_range/2] x scale."""

    def __init__(self, input_size: int, bins_xy: int = 32, bins_z: int = 64, depth_range_mm: float = 300.0):
        self.input_size, self.bins_xy, self.bins_z = input_size, bins_xy, bins_z
        self.depth_range = float(depth_range_mm)

    def encode(self, uvd: torch.Tensor, scale=1.0) -> torch.Tensor:
        """(u px, v px, d mm) -> bins; pixel centres at integers, bin centres at integers."""
        uv = (uvd[..., :2] + 0.5) * self.bins_xy / self.input_size - 0.5
        d = (uvd[..., 2:] / (self.depth_range * _per_sample(scale, uvd)) + 0.5) * self.bins_z - 0.5
        return torch.cat([uv, d], -1)

    def decode(self, bins: torch.Tensor, scale=1.0) -> torch.Tensor:
        """Bins -> (u px, v px, d mm), the inverse of encode."""
        uv = (bins[..., :2] + 0.5) * self.input_size / self.bins_xy - 0.5
        d = ((bins[..., 2:] + 0.5) / self.bins_z - 0.5) * self.depth_range * _per_sample(scale, bins)
        return torch.cat([uv, d], -1)

    def normalise(self, bins: torch.Tensor) -> torch.Tensor:
        """Bins divided by the bin counts: every axis in [0, 1], the space of the joint loss."""
        return bins / bins.new_tensor([self.bins_xy, self.bins_xy, self.bins_z])

    def to_xyz(self, bins: torch.Tensor, K: torch.Tensor, root_depth: torch.Tensor, scale=1.0) -> torch.Tensor:
        """Camera-frame xyz (B, J, 3) mm from bins, the crop intrinsics and the wrist's absolute depth (B,)."""
        return geometry.uvd_to_xyz(self.decode(bins, scale), K, root_depth)


def _per_sample(scale, like: torch.Tensor):
    """A scalar or per-sample (B,) scale shaped to broadcast over (B, J, 1)."""
    if isinstance(scale, torch.Tensor) and scale.ndim == 1:
        return scale.to(like)[:, None, None]
    return scale


def root_depth_from_bone(uvd: torch.Tensor, K: torch.Tensor, bone_mm, bone=(MIDDLE_MCP, MIDDLE_PIP)) -> torch.Tensor:
    """Absolute wrist depth (B,) that makes the back-projected bone `bone` `bone_mm` long.

    With rays r = K^-1 (u, v, 1) and X = (Z + d) r, |Z a + b| = L (a = r_n - r_m, b = d_n r_n - d_m r_m)
    is a quadratic in Z; the larger root is the hand in front of the camera (Iqbal et al. 2018).
    """
    ones = torch.ones_like(uvd[..., :1])
    rays = torch.cat([uvd[..., :2], ones], -1) @ torch.linalg.inv(K).transpose(-1, -2)
    n, m = bone
    a = rays[:, n] - rays[:, m]
    b = uvd[:, n, 2:3] * rays[:, n] - uvd[:, m, 2:3] * rays[:, m]
    aa, ab, bb = (a * a).sum(-1).clamp_min(1e-12), (a * b).sum(-1), (b * b).sum(-1)
    length = torch.as_tensor(bone_mm, dtype=uvd.dtype, device=uvd.device)
    disc = (ab * ab - aa * (bb - length**2)).clamp_min(0)
    return (-ab + disc.sqrt()) / aa
