"""ResNet visual encoder of CLIP-Hand3D (section 3.2): the stem F0 and the pyramid F1..F4.

Built on HF transformers' ResNet (no torchvision). 'resnet50' is the paper's encoder (F0 64x56x56,
F1 256x56x56, F2 512x28x28, F3 1024x14x14, F4 2048x7x7 for a 224 input; the paper prints 56 stem
channels, torchvision-style ResNet50 stems have 64); 'tiny' is a small bottleneck ResNet for CPU runs
and tests. ImageNet weights load from a local HF directory or a hub id such as `microsoft/resnet-50`.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

# stem width, stage widths and stage depths per size (bottleneck blocks)
SIZES = {
    "resnet50": dict(embedding_size=64, hidden_sizes=[256, 512, 1024, 2048], depths=[3, 4, 6, 3]),
    "small": dict(embedding_size=32, hidden_sizes=[64, 128, 256, 512], depths=[1, 2, 2, 1]),
    "tiny": dict(embedding_size=16, hidden_sizes=[32, 64, 128, 256], depths=[1, 1, 1, 1]),
}
# ImageNet normalisation of torchvision/HF ResNets
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _load_pretrained(source: str):
    """HF ResNetModel from a local directory or hub id, with a clear error when it cannot be read."""
    from transformers import ResNetModel

    path = Path(source).expanduser()
    if path.exists() and not (path / "config.json").is_file():
        raise FileNotFoundError(f"ResNet weights {path}: no config.json there (expected a saved HF ResNetModel)")
    try:
        return ResNetModel.from_pretrained(str(path) if path.exists() else source)
    except (OSError, ValueError) as err:
        raise FileNotFoundError(
            f"cannot load ResNet weights {source!r}: not a local HF directory and the hub is unreachable "
            f"or lacks it. Download microsoft/resnet-50 elsewhere and pass its directory. Cause: {err}"
        ) from err


class ResNetEncoder(nn.Module):
    """Float image (B, 3, S, S) in [0, 1] -> [F0, F1, F2, F3, F4] (strides 4, 4, 8, 16, 32)."""

    def __init__(self, size: str = "resnet50"):
        super().__init__()
        from transformers import ResNetConfig, ResNetModel

        if size not in SIZES:
            raise ValueError(f"unknown ResNet size {size!r}; choose one of {sorted(SIZES)}")
        self.net = ResNetModel(ResNetConfig(layer_type="bottleneck", **SIZES[size]))
        self.channels = [SIZES[size]["embedding_size"]] + list(SIZES[size]["hidden_sizes"])
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def load_pretrained(self, source: str) -> None:
        """Copy ImageNet weights (HF ResNetModel directory or hub id) into this encoder; shapes must match."""
        state = _load_pretrained(source).state_dict()
        own = self.net.state_dict()
        bad = [k for k in own if k not in state or state[k].shape != own[k].shape]
        if bad:
            raise ValueError(f"ResNet weights {source!r} do not fit this encoder ({len(bad)} tensors differ, e.g. {bad[:3]})")
        self.net.load_state_dict(state, strict=False)

    def forward(self, image: torch.Tensor) -> list[torch.Tensor]:
        """The five feature maps; the stem output (after max-pooling) is F0."""
        x = (image - self.mean) / self.std
        out = self.net(pixel_values=x, output_hidden_states=True)
        return list(out.hidden_states)
