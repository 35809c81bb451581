"""Transformer over the tokens (text tokens, mesh nodes) of each sample, shared by CLIP-Hand3D's parts.

Attention runs over the N tokens of one sample and never mixes samples. The authors' release wraps
nn.MultiheadAttention(batch_first=False) around [B, N, C] tensors, so its attention runs across the
batch at each token position; `batch_attention_quirk=True` reproduces that for comparison only.
"""

from __future__ import annotations

import torch
from torch import nn


class TokenTransformer(nn.Module):
    """Pre-norm transformer encoder on (B, N, C) with an optional learned per-token positional encoding."""

    def __init__(self, width: int, depth: int = 1, heads: int = 4, num_tokens: int | None = None,
                 mlp_ratio: float = 2.0, dropout: float = 0.0, batch_attention_quirk: bool = False):
        super().__init__()
        if width % heads:
            raise ValueError(f"transformer width {width} is not divisible by its {heads} heads")
        self.quirk = batch_attention_quirk
        layer = nn.TransformerEncoderLayer(width, heads, int(width * mlp_ratio), dropout, batch_first=not self.quirk,
                                           norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        self.pos = nn.Parameter(torch.zeros(1, num_tokens, width)) if num_tokens else None

    def forward(self, x: torch.Tensor, pad_mask: torch.Tensor | None = None) -> torch.Tensor:
        """x (B, N, C); pad_mask (B, N) True where a token is padding. Returns (B, N, C)."""
        if self.pos is not None:
            x = x + self.pos
        if self.quirk:  # the release's behaviour: dim 0 (the batch) is read as the sequence
            return self.encoder(x, src_key_padding_mask=None if pad_mask is None else pad_mask.T)
        return self.encoder(x, src_key_padding_mask=pad_mask)
