"""Mesh surface losses of CLIP-Hand3D (Eq. 5): the normal loss and the edge-length loss over template faces."""

from __future__ import annotations

import torch
import torch.nn.functional as F

# the three edges (i, j) of a triangle (a, b, c)
_EDGES = ((0, 1), (1, 2), (2, 0))


def face_normals(verts: torch.Tensor, faces: torch.Tensor) -> torch.Tensor:
    """Unit normals (B, F, 3) of the triangles `faces` (F, 3) of vertices (B, V, 3); zero for degenerate faces."""
    tri = verts[:, faces]
    return F.normalize(torch.cross(tri[:, :, 1] - tri[:, :, 0], tri[:, :, 2] - tri[:, :, 0], dim=-1), dim=-1, eps=1e-12)


def normal_loss(pred: torch.Tensor, gt: torch.Tensor, faces: torch.Tensor) -> torch.Tensor:
    """Mean |unit(V_i - V_j) . n_c^gt| over the edges of every face c: zero when predicted faces lie in the GT planes."""
    n_gt = face_normals(gt, faces)
    tri = pred[:, faces]
    terms = [(F.normalize(tri[:, :, i] - tri[:, :, j], dim=-1, eps=1e-12) * n_gt).sum(-1).abs() for i, j in _EDGES]
    return torch.stack(terms).mean()


def edge_loss(pred: torch.Tensor, gt: torch.Tensor, faces: torch.Tensor) -> torch.Tensor:
    """Mean | |V_i - V_j| - |V_i^gt - V_j^gt| | over the edges of every face."""
    p, g = pred[:, faces], gt[:, faces]
    terms = [((p[:, :, i] - p[:, :, j]).norm(dim=-1) - (g[:, :, i] - g[:, :, j]).norm(dim=-1)).abs() for i, j in _EDGES]
    return torch.stack(terms).mean()
