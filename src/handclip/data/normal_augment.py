"""DG-CLIP's 'normal augmentation' baseline (paper Table 6): six photometric augmentations on a batch.

Colour jitter, cut-out, Gaussian noise, Sobel filter, colour drop and Gaussian blur, each applied to
each image independently with probability `p`, in that order, on float (B, 3, H, W) images in [0, 1]
on any device. None of them moves pixels, so the labels stay valid.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from handclip import filters

OPS = ("color_jitter", "cutout", "gaussian_noise", "sobel", "color_drop", "gaussian_blur")
_LUMA = (0.299, 0.587, 0.114)


def _grey(x: torch.Tensor) -> torch.Tensor:
    """Luma (B, 1, H, W)."""
    w = torch.tensor(_LUMA, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    return (x * w).sum(1, keepdim=True)


def _uniform(b: int, lo: float, hi: float, like: torch.Tensor) -> torch.Tensor:
    """(B, 1, 1, 1) uniform draws in [lo, hi)."""
    return lo + (hi - lo) * torch.rand(b, 1, 1, 1, device=like.device, dtype=like.dtype)


@dataclass
class NormalAugment:
    """The six augmentations with their strengths; `ops` selects a subset (default all six)."""

    p: float = 0.5
    jitter: float = 0.4  # brightness, contrast and saturation factors in [1 - jitter, 1 + jitter]
    cutout_size: float = 0.3  # max side of the erased rectangle, as a fraction of the image side
    noise_std: float = 0.05
    blur_sigma: tuple[float, float] = (0.5, 2.0)
    ops: tuple[str, ...] = OPS

    def __post_init__(self):
        unknown = set(self.ops) - set(OPS)
        if unknown:
            raise ValueError(f"unknown normal augmentations {sorted(unknown)}; known: {list(OPS)}")

    @classmethod
    def from_config(cls, cfg) -> "NormalAugment | None":
        """A method's `normal_aug` option: false -> None, true -> the defaults, a dict -> fields overridden."""
        if not cfg:
            return None
        return cls(**cfg) if isinstance(cfg, dict) else cls()

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        for name in OPS:
            if name in self.ops:
                chosen = (torch.rand(x.shape[0], device=x.device) < self.p).nonzero().squeeze(1)
                if chosen.numel():  # only the chosen images are computed: half the work at p = 0.5
                    x = x.index_copy(0, chosen, getattr(self, name)(x.index_select(0, chosen)))
        return x.clamp(0.0, 1.0)

    def color_jitter(self, x: torch.Tensor) -> torch.Tensor:
        """Random brightness, contrast (about the mean grey) and saturation (about the pixel grey)."""
        b, j = x.shape[0], self.jitter
        x = x * _uniform(b, 1 - j, 1 + j, x)
        mean = _grey(x).mean((2, 3), keepdim=True)
        x = mean + (x - mean) * _uniform(b, 1 - j, 1 + j, x)
        grey = _grey(x)
        return (grey + (x - grey) * _uniform(b, 1 - j, 1 + j, x)).clamp(0, 1)

    def cutout(self, x: torch.Tensor) -> torch.Tensor:
        """One random rectangle per image set to grey 0.5."""
        b, _, h, w = x.shape
        side_h = (torch.rand(b, device=x.device) * self.cutout_size * h).long() + 1
        side_w = (torch.rand(b, device=x.device) * self.cutout_size * w).long() + 1
        top = (torch.rand(b, device=x.device) * (h - side_h + 1)).long()
        left = (torch.rand(b, device=x.device) * (w - side_w + 1)).long()
        ys = torch.arange(h, device=x.device).view(1, h, 1)
        xs = torch.arange(w, device=x.device).view(1, 1, w)
        box = ((ys >= top.view(b, 1, 1)) & (ys < (top + side_h).view(b, 1, 1))
               & (xs >= left.view(b, 1, 1)) & (xs < (left + side_w).view(b, 1, 1)))
        return torch.where(box.unsqueeze(1), torch.full_like(x, 0.5), x)

    def gaussian_noise(self, x: torch.Tensor) -> torch.Tensor:
        """Additive white Gaussian noise of std noise_std."""
        return (x + self.noise_std * torch.randn_like(x)).clamp(0, 1)

    def sobel(self, x: torch.Tensor) -> torch.Tensor:
        """The image replaced by its Sobel gradient magnitude (grey, repeated on 3 channels)."""
        k = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]], device=x.device, dtype=x.dtype)
        kernels = torch.stack([k, k.t()]).unsqueeze(1) / 4.0
        g = F.conv2d(F.pad(_grey(x), (1, 1, 1, 1), mode="replicate"), kernels)
        return g.pow(2).sum(1, keepdim=True).sqrt().clamp(0, 1).expand_as(x)

    def color_drop(self, x: torch.Tensor) -> torch.Tensor:
        """Grey image on three channels."""
        return _grey(x).expand_as(x)

    def gaussian_blur(self, x: torch.Tensor) -> torch.Tensor:
        """Separable Gaussian blur with one sigma per image drawn from blur_sigma."""
        lo, hi = self.blur_sigma
        sigma = lo + (hi - lo) * torch.rand(x.shape[0], device=x.device, dtype=x.dtype)
        return filters.gaussian_blur(x, sigma, int(3 * hi + 0.5), mode="reflect")
