"""A trained model made ready for inference only (issue 13's throughput): BatchNorm folded into the convolution
before it, weights in channels-last memory order.

In eval mode a BatchNorm is an affine map per channel, so a convolution followed by one equals a single
convolution with scaled weights and a bias (torch's `fuse_conv_bn_eval`); folding drops a pass over every feature
map and a module call per layer. Only for a model that will not train again: the folded one has no statistics.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from .resnet import ConvNorm

_PAIRS = ((nn.Conv1d, nn.BatchNorm1d), (nn.Conv2d, nn.BatchNorm2d), (nn.Conv3d, nn.BatchNorm3d),
          (nn.ConvTranspose1d, nn.BatchNorm1d), (nn.ConvTranspose2d, nn.BatchNorm2d), (nn.ConvTranspose3d, nn.BatchNorm3d))


def _foldable(conv: nn.Module, norm: nn.Module) -> bool:
    """A plain (or transposed) convolution and the BatchNorm of its output channels, with running statistics."""
    return (any(type(conv) is c and type(norm) is b for c, b in _PAIRS)
            and norm.track_running_stats and norm.num_features == conv.out_channels)


def fold_batchnorm(model: nn.Module) -> int:
    """Fold every BatchNorm that directly follows a (transposed) convolution (in an nn.Sequential, or a ConvNorm)
    into it, in place; the model must be in eval mode. Returns how many were folded."""
    if model.training:
        raise ValueError("fold_batchnorm: the model is in training mode; call .eval() first (folding uses the "
                         "running statistics, which training would go on changing)")
    folded = 0
    for module in list(model.modules()):
        if isinstance(module, ConvNorm) and _foldable(module.convolution, module.normalization):
            module.convolution = fuse_conv_bn_eval(module.convolution, module.normalization)
            module.normalization = nn.Identity()
            folded += 1
        elif isinstance(module, nn.Sequential):
            for i in range(len(module) - 1):
                if _foldable(module[i], module[i + 1]):
                    module[i] = fuse_conv_bn_eval(module[i], module[i + 1],
                                                  transpose=isinstance(module[i], nn.modules.conv._ConvTransposeNd))
                    module[i + 1] = nn.Identity()
                    folded += 1
    return folded


def for_inference(model: nn.Module) -> nn.Module:
    """`model` in eval mode, its BatchNorms folded and its weights channels-last (the layout images arrive in after
    their HWC -> CHW permute, so convolutions skip a reorder; same outputs), in place; returns it."""
    fold_batchnorm(model.eval())
    return model.to(memory_format=torch.channels_last)
