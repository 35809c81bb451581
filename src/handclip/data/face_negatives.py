"""Face negatives for the hand detector (issue 13): a person's head and shoulders drawn in focus into a training
frame, clear of its hands. On webcam photos faces outscored the real hands; the renders show faces only small and
blurred in the rooms behind, so the detector never learnt that a skin-toned oval with eyes and hair is not a hand.
Two styles: 'flat' draws the renderer's person (handclip.data.synth.people), 'shaded' a lit, textured one
(handclip.data.shaded_person).
"""

from __future__ import annotations

import numpy as np

from handclip.data.shaded_person import draw_shaded_person
from handclip.data.synth.people import draw_person, shirt
from handclip.data.synth.raster import to_srgb8
from handclip.data.synth.skin import TONES, sample_tone

HEIGHT = (0.5, 2.4)  # the drawn figure's height over the frame's (its head is about 0.3 of that; the rest may
ASPECT = (0.7, 1.2)  # fall out of the frame) and its width over its height
MARGIN = 0.1  # hands' boxes grown by this fraction a side must stay clear of it
TRIES = 6
EXPOSURE = (0.7, 1.2)  # the face's brightness against the tone's albedo
STYLES = ("flat", "shaded")


def _hands_mask(boxes: np.ndarray, shape) -> np.ndarray:
    """Pixels (H, W) bool inside any of boxes (M, 4) [x, y, w, h], each grown by MARGIN of its size a side."""
    mask = np.zeros(shape, bool)
    grow = MARGIN * boxes[:, 2:]
    lo = np.floor(boxes[:, :2] - grow).astype(int).clip(0)
    hi = np.ceil(boxes[:, :2] + boxes[:, 2:] + grow).astype(int) + 1
    for (x0, y0), (x1, y1) in zip(lo, hi):
        mask[y0:y1, x0:x1] = True
    return mask


def add_face(image: np.ndarray, boxes: np.ndarray, rng: np.random.Generator, style: str = "flat") -> np.ndarray:
    """A copy of uint8 `image` (H, W, 3) with a person drawn in (`style`: one of STYLES) whose pixels in the frame
    touch none of the hands' boxes (M, 4) [x, y, w, h] px; the image itself when no such drawing turns up in TRIES
    draws."""
    if style not in STYLES:
        raise ValueError(f"face negatives: style must be one of {STYLES}, got {style!r}")
    height, width = image.shape[:2]
    hands = _hands_mask(boxes, (height, width))
    for _ in range(TRIES):
        h = int(np.exp(rng.uniform(*np.log(HEIGHT))) * height)
        w = int(h * rng.uniform(*ASPECT))
        # the head (about 0.25-0.5 of the figure's height down) lands in the frame
        x0, y0 = int(rng.uniform(-w / 3, width - 2 * w / 3)), int(rng.uniform(-0.3 * h, height - 0.55 * h))
        seen = np.clip([x0, y0, x0 + w, y0 + h], 0, [width, height, width, height])
        if seen[2] - seen[0] < 16 or seen[3] - seen[1] < 16:
            continue
        inner = np.s_[seen[1] - y0:seen[3] - y0, seen[0] - x0:seen[2] - x0]
        outer = np.s_[seen[1]:seen[3], seen[0]:seen[2]]
        figure = np.zeros((h, w, 3), np.float32)
        figure[inner] = image[outer]
        tone = sample_tone(list(TONES)[rng.integers(len(TONES))], rng).back
        if style == "shaded":
            draw_shaded_person(figure, rng, tone, shirt(rng))
        else:
            draw_person(figure, rng, to_srgb8(tone * rng.uniform(*EXPOSURE)).astype(np.float32), shirt(rng))
        drawn = np.clip(figure[inner] + 0.5, 0, 255).astype(np.uint8)
        if (hands[outer] & (drawn != image[outer]).any(-1)).any():
            continue
        out = image.copy()
        out[outer] = drawn
        return out
    return image
