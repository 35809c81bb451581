"""ResNet visual encoder of CLIP-Hand3D (section 3.2): the stem F0 and the pyramid F1..F4.

The bottleneck ResNet of He et al. in plain torch, laid out as HF transformers' ResNetModel (the same module
names, parameter shapes and initialisation), so HF's ImageNet weights load into it and checkpoints are
interchangeable; transformers itself is imported only to read those weights, since its import alone costs
a command about 2 s of start-up (no torchvision here). 'resnet50' is the paper's encoder (F0 64x56x56,
F1 256x56x56, F2 512x28x28, F3 1024x14x14, F4 2048x7x7 for a 224 input; the paper prints 56 stem
channels, torchvision-style ResNet50 stems have 64); 'tiny' is a small bottleneck ResNet for CPU runs
and tests; 'tiny_deep' has tiny's widths at ResNet-50's block counts, grown from a trained 'tiny' by `deepen` (the
blocks it lacks start as identities); 'tiny_wide' doubles tiny_deep's bottleneck interiors (as WRN-50-2 does
ResNet-50's), grown from a trained 'tiny_deep' by `widen` (the channels it adds start disconnected). ImageNet
weights load from a local HF directory or a hub id such as `microsoft/resnet-50`.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch
from torch import nn

# stem width, stage widths and stage depths per size (bottleneck blocks); `reduction`: a block's inner width is its
# output's over this (4 in ResNet-50, 2 in its wide variant, Zagoruyko & Komodakis's WRN-50-2)
SIZES = {
    "resnet50": dict(embedding_size=64, hidden_sizes=[256, 512, 1024, 2048], depths=[3, 4, 6, 3]),
    "small": dict(embedding_size=32, hidden_sizes=[64, 128, 256, 512], depths=[1, 2, 2, 1]),
    "tiny": dict(embedding_size=16, hidden_sizes=[32, 64, 128, 256], depths=[1, 1, 1, 1]),
    "tiny_deep": dict(embedding_size=16, hidden_sizes=[32, 64, 128, 256], depths=[3, 4, 6, 3]),
    "tiny_wide": dict(embedding_size=16, hidden_sizes=[32, 64, 128, 256], depths=[3, 4, 6, 3], reduction=2),
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


class ConvNorm(nn.Module):
    """Bias-free convolution, BatchNorm and (optionally) ReLU; HF's names `convolution`, `normalization`."""

    def __init__(self, cin: int, cout: int, kernel: int = 3, stride: int = 1, relu: bool = True):
        super().__init__()
        self.convolution = nn.Conv2d(cin, cout, kernel, stride=stride, padding=kernel // 2, bias=False)
        self.normalization = nn.BatchNorm2d(cout)
        self.relu = relu

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.normalization(self.convolution(x))
        return torch.relu(x) if self.relu else x


class Bottleneck(nn.Module):
    """1x1 reduce (to cout / reduction), 3x3 (carrying the stride), 1x1 expand, plus a projected shortcut when the
    shape changes; ReLU after the sum."""

    def __init__(self, cin: int, cout: int, stride: int = 1, reduction: int = 4):
        super().__init__()
        mid = cout // reduction
        self.shortcut = ConvNorm(cin, cout, 1, stride, relu=False) if cin != cout or stride != 1 else nn.Identity()
        self.layer = nn.Sequential(ConvNorm(cin, mid, 1), ConvNorm(mid, mid, 3, stride), ConvNorm(mid, cout, 1, relu=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.layer(x) + self.shortcut(x))


def deepen(weights: dict, own: dict, prefix: str = "") -> dict:
    """`weights` of a shallower encoder of the same widths completed for a deeper one (`own`, its state_dict, keys
    under `prefix`): each bottleneck they lack keeps `own`'s draw except its last BatchNorm, whose scale and shift
    are set to zero, so the block adds nothing and passes its (non-negative, post-ReLU) input on unchanged; the
    deeper network starts computing exactly what the shallower one did (zero-initialised residuals, Goyal et al.
    2017) and its new blocks then learn."""
    def block(key: str) -> str | None:
        found = re.match(re.escape(prefix) + r"(encoder\.stages\.\d+\.layers\.\d+)\.", key)
        return found.group(1) if found else None

    present = {block(key) for key in weights}
    grown = dict(weights)
    for key, value in own.items():
        if block(key) is None or block(key) in present:  # only whole blocks the shallower encoder lacks
            continue
        zero = ".layer.2.normalization." in key and key.rsplit(".", 1)[1] in ("weight", "bias")
        grown[key] = torch.zeros_like(value) if zero else value
    return grown


def widen(weights: dict, own: dict, prefix: str = "") -> dict:
    """`weights` of an encoder with narrower bottleneck interiors completed for `own`'s wider ones (keys under
    `prefix`): each stored tensor fills the leading part of `own`'s; the channels it lacks keep `own`'s draw, except
    that every convolution's weights from an added input channel are zero, so the added channels reach nothing and
    the wider network computes exactly what the narrower one did (Net2WiderNet's aim, Chen et al. 2016, with zeros
    in place of copies); the outgoing zeros get a gradient at once and the rest follows."""
    grown = dict(weights)
    for key, value in weights.items():
        mine = own.get(key)
        if (not key.startswith(prefix + "encoder.stages.") or mine is None or mine.shape == value.shape
                or mine.ndim != value.ndim or any(m < v for m, v in zip(mine.shape, value.shape))):
            continue  # only tensors that fit inside own's; anything else is left for loading to refuse
        wide = mine.clone()
        if wide.ndim == 4:
            wide[:, value.shape[1]:] = 0
        wide[tuple(slice(0, size) for size in value.shape)] = value
        grown[key] = wide
    return grown


class Stage(nn.Module):
    """`depth` bottlenecks, the first one changing width and stride."""

    def __init__(self, cin: int, cout: int, depth: int, stride: int, reduction: int = 4):
        super().__init__()
        self.layers = nn.Sequential(Bottleneck(cin, cout, stride, reduction),
                                    *[Bottleneck(cout, cout, 1, reduction) for _ in range(depth - 1)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class Stem(nn.Module):
    """7x7 stride-2 convolution and 3x3 stride-2 max-pooling."""

    def __init__(self, width: int):
        super().__init__()
        self.embedder = ConvNorm(3, width, 7, 2)
        self.pooler = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pooler(self.embedder(x))


class Stages(nn.Module):
    """The four stages; the first keeps the stem's resolution."""

    def __init__(self, embedding_size: int, hidden_sizes, depths, reduction: int = 4):
        super().__init__()
        widths = [embedding_size, *hidden_sizes]
        self.stages = nn.ModuleList(Stage(widths[i], widths[i + 1], depths[i], 1 if i == 0 else 2, reduction)
                                    for i in range(len(depths)))


class ResNet(nn.Module):
    """Stem + stages; forward gives the stem output and every stage's (HF's hidden_states)."""

    def __init__(self, embedding_size: int, hidden_sizes, depths, reduction: int = 4):
        super().__init__()
        self.embedder = Stem(embedding_size)
        self.encoder = Stages(embedding_size, hidden_sizes, depths, reduction)
        for module in self.modules():  # HF ResNet's initialisation draw for draw (its N(0, 0.02) first, then
            if isinstance(module, nn.Conv2d):  # He's), so a seed gives the weights the HF-built runs had
                nn.init.normal_(module.weight, std=0.02)
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        feats = [self.embedder(x)]
        for stage in self.encoder.stages:
            feats.append(stage(feats[-1]))
        return feats


class ResNetEncoder(nn.Module):
    """Float image (B, 3, S, S) in [0, 1] -> [F0, F1, F2, F3, F4] (strides 4, 4, 8, 16, 32)."""

    def __init__(self, size: str = "resnet50"):
        super().__init__()
        if size not in SIZES:
            raise ValueError(f"unknown ResNet size {size!r}; choose one of {sorted(SIZES)}")
        self.net = ResNet(**SIZES[size])
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
        return self.net((image - self.mean) / self.std)
