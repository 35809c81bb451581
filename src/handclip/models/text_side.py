"""Text side and feature matching of CLIP-Hand3D (sections 3.1 and 3.3, Eqs. 1, 3 and 7).

Frozen CLIP token features of the three joint-order prompts pass through one trainable transformer
per axis (Phi_x, Phi_y, Phi_z; attention over the tokens of each sentence) and are pooled at the
end-of-text token; the pose-aware features are the lixel logits F_px, F_py, F_pz of the joint
regressor, projected by one MLP per axis. Both are L2-normalised and compared by the logits
matrices M_lr, M_tb, M_nf, each with a learnable temperature (log-scale initialised to log(100) and
clamped so the scale stays in [1, 100], as in the authors' release). The CLIP loss on these matrices
is handclip.losses.clip_hand3d.clip_loss.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from handclip.models.token_transformer import TokenTransformer

AXES = ("x", "y", "z")
MAX_LOG_SCALE = math.log(100.0)


class TextEncoder(nn.Module):
    """Phi for one axis: CLIP token states (B, T, W) -> transformer over tokens -> end-of-text token -> (B, D)."""

    def __init__(self, token_width: int, width: int, embed_dim: int, depth: int = 1, heads: int = 4,
                 batch_attention_quirk: bool = False):
        super().__init__()
        self.inp = nn.Linear(token_width, width)
        self.transformer = TokenTransformer(width, depth, heads, batch_attention_quirk=batch_attention_quirk)
        self.out = nn.Linear(width, embed_dim)

    def forward(self, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """mask (B, T) True on real tokens; CLIP's end-of-text token is the last real one."""
        h = self.transformer(self.inp(tokens), pad_mask=~mask)
        last = mask.long().sum(1) - 1
        return self.out(h[torch.arange(h.shape[0], device=h.device), last])


class PoseTextMatching(nn.Module):
    """Pose-aware features vs text features per axis: returns the logits matrices (3, B, B) [M_lr, M_tb, M_nf]."""

    def __init__(self, token_width: int, num_joints: int, bins_xy: int, bins_z: int, embed_dim: int = 128,
                 width: int = 128, depth: int = 1, heads: int = 4, batch_attention_quirk: bool = False):
        super().__init__()
        bins = {"x": bins_xy, "y": bins_xy, "z": bins_z}
        self.token_width = token_width
        self.text = nn.ModuleDict({a: TextEncoder(token_width, width, embed_dim, depth, heads, batch_attention_quirk)
                                   for a in AXES})
        self.pose = nn.ModuleDict({a: nn.Sequential(nn.Linear(num_joints * bins[a], width), nn.ReLU(inplace=True),
                                                    nn.Linear(width, embed_dim)) for a in AXES})
        self.log_scale = nn.Parameter(torch.full((3,), MAX_LOG_SCALE))

    def scales(self) -> torch.Tensor:
        """The three temperatures (logit scales) in [1, 100]."""
        return self.log_scale.clamp(0.0, MAX_LOG_SCALE).exp()

    def forward(self, pose_logits: dict[str, torch.Tensor], tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """pose_logits: 'px', 'py', 'pz' (B, J, bins); tokens/mask: the 3B prompts stacked x, y, z."""
        batch = pose_logits["px"].shape[0]
        mats = []
        for k, axis in enumerate(AXES):
            fp = F.normalize(self.pose[axis](pose_logits["p" + axis].flatten(1)), dim=-1)
            sl = slice(k * batch, (k + 1) * batch)
            ft = F.normalize(self.text[axis](tokens[sl], mask[sl]), dim=-1)
            mats.append(self.scales()[k] * fp @ ft.T)
        return torch.stack(mats)
