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


class StartsFromWeights:
    """Mixin of a Method whose run may start from earlier weights, loaded at its first training step by its
    `_load_initial_weights`. A bool buffer (named by START_FLAG, per method as its checkpoints have it) travels in
    checkpoints, so that --resume never loads them again; weights saved before the flag existed are trained ones,
    so there it reads True."""

    START_FLAG = "init_loaded"

    def register_start_flag(self) -> None:
        """The flag, not yet loaded; call in __init__."""
        self.register_buffer(self.START_FLAG, torch.zeros((), dtype=torch.bool))

    def start_source(self):
        """Where the starting weights come from (falsy: nowhere, the run starts from its initialisation)."""
        return self.init_weights

    def load_start_weights_once(self) -> None:
        """At a training step: the starting weights, unless this run (or the checkpoint it resumes) has them."""
        flag = getattr(self, self.START_FLAG)
        if self.start_source() and not bool(flag):
            self._load_initial_weights()
            flag.fill_(True)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        state_dict.setdefault(prefix + self.START_FLAG, torch.ones((), dtype=torch.bool))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
