"""The synthetic datasets: 'synth' renders on the fly, 'synth_folder' reads an exported folder.

Sample `index` of ('synth', domain, seed) is a pure function of those three values (its random
generator is seeded from them), so any worker, any epoch and any machine renders the same pixels.
Left hands (side='left', or half of them with side='both') are rendered as mirrored right hands:
`view(i)` gives that left-hand view (what the export writes to disk), `__getitem__` mirrors it back
to the right hand every model sees, with 'side' = 'left', as the real-data readers do.
All 21 'xyz' and 'uv' labels are exact whether visible or not, so 'valid' is all True by default
(losses mask joints by 'valid'); valid='visible' makes it the z-buffer visibility (see
handclip.data.synth.scene), like RHD's flags, for protocols that score visible joints only.
"""

from __future__ import annotations

import zlib

import numpy as np
import torch

from handclip.data import register
from handclip.data.synth.domains import check_words
from handclip.data.synth.domains import get as get_domain
from handclip.data.synth.scene import render_sample
from handclip.skeleton import mirror_image, mirror_K, mirror_uv, mirror_xyz

SIDES = ("right", "left", "both")
# 'valid' = z-buffer visibility (like RHD's flags), or 'all': every joint, since all 21 labels are exact
VALID = ("visible", "all")


def mirror_sample(sample: dict) -> dict:
    """The same sample seen in a mirror: a right hand becomes a left hand and back (image, K, xyz, uv, verts, mask)."""
    width = sample["image"].shape[1]
    out = dict(sample)
    out["image"] = mirror_image(sample["image"])
    out["K"] = mirror_K(sample["K"], width)
    out["xyz"] = mirror_xyz(sample["xyz"])
    out["uv"] = mirror_uv(sample["uv"], width)
    if "verts" in sample:
        out["verts"] = mirror_xyz(sample["verts"])
    if "mask" in sample:
        out["mask"] = mirror_image(sample["mask"])
    return out


class SynthHands(torch.utils.data.Dataset):
    """n rendered hands of one named domain (handclip.data.synth.domains), size x size RGB crops."""

    def __init__(self, domain: str = "source", n: int = 1000, size: int = 256, seed: int = 0, side: str = "right",
                 mask: bool = False, valid: str = "all", style: dict | None = None):
        get_domain(domain)  # unknown names fail here, not in a worker
        self.style = check_words(style)  # fixed style words, e.g. {'color': 'flower'}; others are drawn
        if side not in SIDES:
            raise ValueError(f"synth: side must be one of {SIDES}, got {side!r}")
        if valid not in VALID:
            raise ValueError(f"synth: valid must be one of {VALID}, got {valid!r}")
        self.valid = valid
        if n < 1 or size < 16:
            raise ValueError(f"synth: need n >= 1 and size >= 16, got n={n}, size={size}")
        self.domain, self.n, self.size, self.seed, self.side, self.mask = domain, int(n), int(size), int(seed), side, mask
        self._key = zlib.crc32(domain.encode())  # stable across processes, unlike hash()

    def __len__(self) -> int:
        return self.n

    def side_of(self, index: int) -> str:
        """The original side of sample `index` ('both' alternates by a seeded coin, not by the render stream)."""
        if self.side != "both":
            return self.side
        return "left" if np.random.default_rng([self.seed, self._key, index, 1]).random() < 0.5 else "right"

    def view(self, index: int) -> dict:
        """Sample `index` as a camera saw it: a left-hand image and labels for left hands."""
        if not 0 <= index < self.n:
            raise IndexError(f"synth: index {index} out of range [0, {self.n})")
        r = render_sample(self.domain, np.random.default_rng([self.seed, self._key, index]), self.size, style=self.style)
        sample = {
            "image": r["image"], "K": r["K"], "xyz": r["xyz"], "uv": r["uv"],
            "valid": r["valid"] if self.valid == "visible" else np.ones(21, bool),
            "side": self.side_of(index), "verts": r["verts"], "domain": self.domain, "style": r["style"],
            "index": int(index),
        }
        if self.mask:
            sample["mask"] = r["mask"]
        return mirror_sample(sample) if sample["side"] == "left" else sample

    def __getitem__(self, index: int) -> dict:
        sample = self.view(index)
        return mirror_sample(sample) if sample["side"] == "left" else sample


@register("synth")
def build_synth(domain: str = "source", n: int = 1000, size: int = 256, seed: int = 0, side: str = "right",
                mask: bool = False, valid: str = "all", style: dict | None = None) -> SynthHands:
    """Factory of build_dataset('synth', ...); `style` fixes style words, e.g. {'color': 'flower'}."""
    return SynthHands(domain=domain, n=n, size=size, seed=seed, side=side, mask=mask, valid=valid, style=style)
