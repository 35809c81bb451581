"""Hand-free scenes: a domain's background, light and camera with no hand in view.

A CLIP trained on captioned renders sees skin and scene together; views of the scene alone ("a photo of
purple room") teach it which colour belongs to which. The style is drawn as for a hand render of the same
domain (domains.sample_style), so exposure, light colour and camera effects match; only the hand is left out.
"""

from __future__ import annotations

import zlib

import numpy as np

from handclip.data.synth import backgrounds, effects
from handclip.data.synth.domains import sample_style

SCENE_STREAM = 2  # the last seed word of scenery draws (SynthHands uses none for renders and 1 for sides)


def render_scenery(domain: str, rng: np.random.Generator, size: int = 224) -> dict:
    """A hand-free view of one style of `domain`: 'image' uint8 (size, size, 3) and 'style' {'color', 'background'}."""
    style = sample_style(domain, rng, size)
    bg = backgrounds.background(style.words["color"], style.words["background"], rng, (size, size), style.texture,
                                style.exposure)
    image = effects.develop(effects.gaussian_blur(bg, style.camera.dof), style.camera, rng)
    return {"image": image, "style": {"color": style.words["color"], "background": style.words["background"]}}


def scenery_sample(domain: str, seed: int, index: int, size: int = 224) -> dict:
    """Scene `index` of (domain, seed): a pure function of the three, like a SynthHands sample."""
    return render_scenery(domain, np.random.default_rng([seed, zlib.crc32(domain.encode()), index, SCENE_STREAM]), size)
