"""Joint uvd regressor of CLIP-Hand3D (section 3.2, Eq. 2) and its codec, kept apart (mmpose-style).

LixelHead: deconvolution on F4, then one lixel (1D) heatmap per joint and axis: x and y from the
feature map averaged over the other image axis, z from the pooled feature spread over depth bins;
1D convolutions, softmax and a differentiable soft-argmax give (u, v, d) in bins. The authors'
release uses 32 x/y bins and 64 depth bins.

LixelCodec: bins <-> crop pixels and wrist-relative depth in mm, and back-projection to camera-frame
xyz through handclip.geometry.uvd_to_xyz given the root depth and a bone scale. The root depth comes
from reference bone lengths: root_depth_from_bones (least squares over many bones, used by predict)
or root_depth_from_bone (one bone, closed form).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from handclip import geometry
from handclip.skeleton import BONES, MIDDLE_MCP, MIDDLE_PIP, NUM_JOINTS


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

    def __init__(self, input_size: int, bins_xy: int = 32, bins_z: int = 64, depth_range_mm: float = 400.0):
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


def _bone_terms(uvd: torch.Tensor, K: torch.Tensor, parents, children) -> tuple[torch.Tensor, torch.Tensor]:
    """(a, b), each (B, bones, 3), with X_child - X_parent = Z a + b for the wrist depth Z: rays r = K^-1 (u, v, 1),
    X = (Z + d) r, so a = r_child - r_parent and b = d_child r_child - d_parent r_parent."""
    ones = torch.ones_like(uvd[..., :1])
    rays = torch.cat([uvd[..., :2], ones], -1) @ torch.linalg.inv(K).transpose(-1, -2)
    a = rays[:, children] - rays[:, parents]
    b = uvd[:, children, 2:3] * rays[:, children] - uvd[:, parents, 2:3] * rays[:, parents]
    return a, b


def root_depth_from_bone(uvd: torch.Tensor, K: torch.Tensor, bone_mm, bone=(MIDDLE_MCP, MIDDLE_PIP)) -> torch.Tensor:
    """Absolute wrist depth (B,) that makes the back-projected bone `bone` `bone_mm` long.

    |Z a + b| = L (see _bone_terms) is a quadratic in Z; the larger root is the hand in front of the
    camera (Iqbal et al. 2018). Ill-conditioned when the bone points along the ray (use root_depth_from_bones).
    """
    n, m = bone
    a, b = (t[:, 0] for t in _bone_terms(uvd, K, [m], [n]))
    aa, ab, bb = (a * a).sum(-1).clamp_min(1e-12), (a * b).sum(-1), (b * b).sum(-1)
    length = torch.as_tensor(bone_mm, dtype=uvd.dtype, device=uvd.device)
    disc = (ab * ab - aa * (bb - length**2)).clamp_min(0)
    return (-ab + disc.sqrt()) / aa


def root_depth_from_bones(uvd: torch.Tensor, K: torch.Tensor, lengths, bones=BONES, iters: int = 20) -> torch.Tensor:
    """Absolute wrist depth (B,) whose back-projected skeleton best fits the bone lengths `lengths` (bones,) or
    (B, bones) mm of `bones` ((parent, child) pairs): Z minimises sum_k (|Z a_k + b_k| - L_k)^2 (least squares,
    Gauss-Newton from the fit that ignores the depths, |a_k| Z = L_k). Bones seen side-on fix Z where one bone
    pointing at the camera cannot; the hand's unknown size still scales Z (a hand 10 % larger looks 10 % nearer)."""
    parents, children = [p for p, _ in bones], [c for _, c in bones]
    a, b = (t.double() for t in _bone_terms(uvd.double(), K.double(), parents, children))
    length = torch.as_tensor(lengths, dtype=torch.float64, device=uvd.device).expand(a.shape[:2])
    na = a.norm(dim=-1)
    z = (length * na).sum(-1) / (na * na).sum(-1).clamp_min(1e-12)
    for _ in range(iters):
        v = z[:, None, None] * a + b
        nv = v.norm(dim=-1).clamp_min(1e-9)
        slope = (a * v).sum(-1) / nv  # d|Z a + b| / dZ
        z = z - (slope * (nv - length)).sum(-1) / (slope * slope).sum(-1).clamp_min(1e-12)
    return z.to(uvd.dtype)
