"""The interface every method gives the engine: one training step, one prediction, one export path."""

from __future__ import annotations

import torch
from torch import nn


class Method(nn.Module):
    """A trainable hand-pose method.

    Batches are dicts from handclip.data.collate: 'image' uint8 (B, S, S, 3) RGB crops,
    'K' (B, 3, 3) crop intrinsics, 'xyz' (B, 21, 3) mm camera frame canonical order (right hands),
    'uv' (B, 21, 2) px, 'valid' (B, 21) bool, optional 'verts' (B, V, 3) mm, 'style' (list of dict).
    """

    input_size: int = 256

    def training_step(self, batch: dict) -> dict[str, torch.Tensor]:
        """Loss terms of one batch; the key 'loss' is the weighted total that is back-propagated."""
        raise NotImplementedError

    @torch.no_grad()
    def predict(self, batch: dict) -> dict[str, torch.Tensor]:
        """Inference: 'xyz' (B, 21, 3) mm, wrist-relative camera-frame axes; 'uv' (B, 21, 2) crop px;
        'verts' (B, V, 3) mm relative to the same wrist, for methods with a mesh. Absolute depth is
        unobservable from one crop, so evaluation protocols align roots (and scale) themselves."""
        raise NotImplementedError

    def inference_model(self) -> nn.Module:
        """The module exported to ONNX: float image (B, 3, S, S) in [0, 1] -> tensors; no CLIP weights."""
        raise NotImplementedError
