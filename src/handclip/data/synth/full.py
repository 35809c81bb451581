"""The 'synth_full' dataset: full frames for a hand detector (handclip.data.synth.frame), rendered on the fly.

Sample `index` of ('synth_full', domain, seed) is a pure function of those values. A sample is the
camera's view (nothing is mirrored back): 'image' uint8 (h, w, 3), 'K' (3, 3), 'mask' (with mask=True),
'style', 'domain', 'index', and 'hands', a list of one or two dicts {'side': 'left' | 'right', 'palm':
whether the palm faces the camera (handclip.detection.side_cues), 'box': float32 [x, y, w, h] px holding the
projected hand and all its joints, 'xyz' (21, 3) mm camera frame, 'uv' (21, 2) px, 'valid' (21,) bool}; left
hands carry left-hand labels.
"""

from __future__ import annotations

import zlib

import numpy as np
import torch

from handclip.data import register
from handclip.data.synth.dataset import SIDES, VALID
from handclip.data.synth.domains import check_words
from handclip.data.synth.domains import get as get_domain
from handclip.data.synth.frame import WIDTHS, render_frame


class SynthFrames(torch.utils.data.Dataset):
    """n full frames of one named domain, `width` x `height` px (height 3/4 of the width by default)."""

    frame = "full"

    def __init__(self, domain: str = "texture", n: int = 1000, width: int = 480, height: int | None = None, seed: int = 0,
                 side: str = "both", mask: bool = False, valid: str = "visible", style: dict | None = None):
        get_domain(domain)  # unknown names fail here, not in a worker
        self.style = check_words(style)
        if side not in SIDES:
            raise ValueError(f"synth_full: side must be one of {SIDES}, got {side!r}")
        if valid not in VALID:
            raise ValueError(f"synth_full: valid must be one of {VALID}, got {valid!r}")
        height = height or round(width * 3 / 4)
        if not (WIDTHS[0] <= width <= WIDTHS[1] and WIDTHS[0] // 2 <= height <= WIDTHS[1]) or n < 1:
            raise ValueError(f"synth_full: need n >= 1, width in {WIDTHS} px and height in [{WIDTHS[0] // 2}, "
                             f"{WIDTHS[1]}] px, got n={n}, {width}x{height}")
        self.domain, self.n, self.size, self.height, self.seed = domain, int(n), int(width), int(height), int(seed)
        self.side, self.mask, self.valid = side, mask, valid
        self._key = zlib.crc32(f"full:{domain}".encode())  # stable across processes, unlike hash()

    def __len__(self) -> int:
        return self.n

    def view(self, index: int) -> dict:
        """Frame `index` as the camera saw it (what the export writes)."""
        if not 0 <= index < self.n:
            raise IndexError(f"synth_full: index {index} out of range [0, {self.n})")
        r = render_frame(self.domain, np.random.default_rng([self.seed, self._key, index]), self.size, self.height, self.side,
                         self.style)
        if self.valid == "all":
            for hand in r["hands"]:
                hand["valid"] = np.ones(21, bool)
        sample = {"image": r["image"], "K": r["K"], "hands": r["hands"], "domain": self.domain, "style": r["style"],
                  "index": int(index)}
        if self.mask:
            sample["mask"] = r["mask"]
        return sample

    __getitem__ = view


@register("synth_full")
def build_synth_full(domain: str = "texture", n: int = 1000, width: int = 480, height: int | None = None, seed: int = 0,
                     side: str = "both", mask: bool = False, valid: str = "visible", style: dict | None = None) -> SynthFrames:
    """Factory of build_dataset('synth_full', ...); `style` fixes style words, e.g. {'color': 'flower'}."""
    return SynthFrames(domain=domain, n=n, width=width, height=height, seed=seed, side=side, mask=mask, valid=valid,
                       style=style)
