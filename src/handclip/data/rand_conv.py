"""Random convolutions (Xu et al., "Robust and Generalizable Visual Representation Learning via Random
Convolutions", ICLR 2021) as a training augmentation: each chosen image is filtered by a 3 -> 3 convolution with
fresh random weights, which scrambles colour and local texture but keeps shapes, then blended with the original.
An issue-12 probe of whether texture-free training narrows the renders-to-photos gap; float (B, 3, H, W) in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass
class RandConv:
    """With probability `p` per image: a random k x k filter (k from `kernels`, weights N(0, 1 / (3 k^2))), its
    output rescaled to the image's per-channel mean and std, blended as a x + (1 - a) y with a ~ U(0, 1) when
    `mix`, else replacing the image."""

    p: float = 0.5
    kernels: tuple[int, ...] = (1, 3, 5, 7)
    mix: bool = True

    def __post_init__(self):
        if not 0.0 <= self.p <= 1.0 or not self.kernels or any(k < 1 or k % 2 == 0 for k in self.kernels):
            raise ValueError(f"rand_conv: p in [0, 1] and odd kernel sizes >= 1, got p={self.p}, "
                             f"kernels={self.kernels}")
        self.kernels = tuple(int(k) for k in self.kernels)

    @classmethod
    def from_config(cls, cfg) -> "RandConv | None":
        """A method's `rand_conv` option: false -> None, true -> the defaults, a dict -> fields overridden."""
        if not cfg:
            return None
        return cls(**cfg) if isinstance(cfg, dict) else cls()

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        chosen = (torch.rand(x.shape[0], device=x.device) < self.p).nonzero().squeeze(1)
        if chosen.numel():
            x = x.index_copy(0, chosen, self.filter(x.index_select(0, chosen)))
        return x

    def filter(self, x: torch.Tensor) -> torch.Tensor:
        """Every image of x through its own random filter (one kernel size for the batch)."""
        b, c, h, w = x.shape
        k = self.kernels[int(torch.randint(len(self.kernels), ()))]
        weight = torch.randn(b * c, c, k, k, device=x.device, dtype=x.dtype) / (3 * k * k) ** 0.5
        y = F.conv2d(F.pad(x.reshape(1, b * c, h, w), (k // 2,) * 4, mode="reflect"), weight, groups=b).view(b, c, h, w)
        mean, std = x.mean((2, 3), keepdim=True), x.std((2, 3), keepdim=True)
        y = (y - y.mean((2, 3), keepdim=True)) / (y.std((2, 3), keepdim=True) + 1e-6) * std + mean
        if self.mix:
            a = torch.rand(b, 1, 1, 1, device=x.device, dtype=x.dtype)
            y = a * x + (1 - a) * y
        return y.clamp(0.0, 1.0)
