"""CLIP's symmetric InfoNCE for captioned renders, where several images of a batch can share their words.

Renders have 7 x 19 x 2 word combinations (plus 38 hand-free ones), so a batch of a hundred holds repeats:
an image and the caption of another image with the same words are a true pair, not a negative. Each row's
target spreads evenly over its positives (the pairs with equal word keys); with all keys distinct this is
exactly CLIP's loss, the mean of image->text and text->image cross-entropies with targets on the diagonal.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def positives(keys: torch.Tensor) -> torch.Tensor:
    """(B, B) bool: pairs whose word keys are equal (the diagonal always)."""
    return keys[:, None] == keys[None, :]


def info_nce(logits: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
    """Symmetric InfoNCE of (B, B) image-text logits; `keys` (B,) word keys mark the positives."""
    same = positives(keys).float()
    target = same / same.sum(1, keepdim=True)  # symmetric, so it serves both directions
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target))


def top1_true(logits: torch.Tensor, keys: torch.Tensor) -> float:
    """Share of images whose best-scoring caption in the batch states their words."""
    best = logits.argmax(1)
    return positives(keys)[torch.arange(len(keys)), best].float().mean().item()
