"""CLIP-Hand3D's losses: the symmetric InfoNCE of Eq. 7 (CLIP loss) and the mesh normal and edge losses of Eq. 5.

The joint, vertex and consistency terms (Eqs. 4 and 6) are plain L1 distances computed in
handclip.methods.clip_hand3d, where the units (lixel bins, normalised vertices) are defined.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def info_nce(logits: torch.Tensor) -> torch.Tensor:
    """Eq. 7 for one axis: cross-entropy of rows (pose -> text) plus of columns (text -> pose); matches on the diagonal."""
    target = torch.arange(logits.shape[0], device=logits.device)
    return F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)


def clip_loss(logits: torch.Tensor, chunk: int = 0) -> torch.Tensor:
    """Mean over axes of info_nce on (3, B, B) logits; chunk > 0 uses only blocks of `chunk` samples
    on the diagonal (the contrastive batch size of Table 4). A shorter last block (B not a multiple of
    `chunk`, e.g. 48 = 32 + 16) is kept so every sample is supervised; blocks are weighted by their
    sample counts. A last block of one sample has no negatives and is left out."""
    batch = logits.shape[-1]
    chunk = batch if chunk <= 0 else min(chunk, batch)
    blocks = [(s, min(s + chunk, batch)) for s in range(0, batch, chunk) if min(s + chunk, batch) - s > 1]
    sizes = logits.new_tensor([e - s for s, e in blocks])
    per_axis = [(torch.stack([info_nce(m[s:e, s:e]) for s, e in blocks]) * sizes).sum() / sizes.sum() for m in logits]
    return torch.stack(per_axis).mean()


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


def lixel_distribution_loss(logits: torch.Tensor, target: torch.Tensor, sigma: float,
                            valid: torch.Tensor | None = None) -> torch.Tensor:
    """KL divergence from a Gaussian at the true (continuous) bin `target` (B, J), std `sigma` bins, to the lixel
    distribution softmax(`logits`) (B, J, bins), mean over valid joints. Ours, beside Eq. 4's L1 on the soft-argmax:
    that L1 fixes only each distribution's mean, so an unsure one spreads its mass and its mean drifts to the centre;
    this term keeps the distributions one peak at the joint."""
    bins = torch.arange(logits.shape[-1], device=logits.device, dtype=logits.dtype)
    want = torch.softmax(-0.5 * ((bins - target[..., None]) / sigma) ** 2, -1)
    kl = (want * (want.clamp_min(1e-12).log() - logits.log_softmax(-1))).sum(-1)
    if valid is None:
        return kl.mean()
    return (kl * valid).sum() / valid.sum().clamp_min(1)
