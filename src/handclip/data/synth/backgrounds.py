"""Backgrounds named by a colour word and a context of DG-CLIP's prompts (supplement Table 3).

`background(word, context, rng, (h, w))`: context 'background' is a backdrop filling the view (the
word's surface, surfaces.py, under an uneven light; landscapes are seen as they are), context 'room'
a furnished room whose walls show the word (rooms.py), with a person in it on request (people.py). Rooms are drawn at half resolution and
upsampled: they sit behind the hand, out of focus, and cost a quarter as much.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

from handclip.data.synth.people import draw_person
from handclip.data.synth.rooms import room
from handclip.data.synth.surfaces import shade, surface
from handclip.data.synth.textures import value_noise
from handclip.data.synth.words import check

_FALLOFF_GRID = 32


@lru_cache(maxsize=1)
def _grid() -> tuple[np.ndarray, np.ndarray]:
    """Normalised coordinates (yy, xx) in [0, 1) of the coarse grid light falloffs are computed on."""
    yy, xx = np.mgrid[0:_FALLOFF_GRID, 0:_FALLOFF_GRID].astype(np.float32) / _FALLOFF_GRID
    return yy, xx


def falloff(rng: np.random.Generator, shape: tuple[int, int], strength: float) -> np.ndarray:
    """A smooth light falloff (h, w) around a random centre: a lit backdrop is never flat.

    Computed on a coarse grid and upsampled: it is smooth, and full-size arithmetic would cost more
    than the rest of the background.
    """
    yy, xx = _grid()
    cx, cy = rng.uniform(0.2, 0.8, 2)
    coarse = 1 - strength * ((xx - cx) ** 2 + (yy - cy) ** 2)
    coarse += strength * 0.3 * (value_noise(rng, (_FALLOFF_GRID, _FALLOFF_GRID), 3)[..., 0] - 0.5)
    return cv2.resize(coarse.astype(np.float32), (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)


def background(word: str, context: str, rng: np.random.Generator, shape, texture: float = 0.5,
               gain=(1.0, 1.0, 1.0), person=None, near: bool = False) -> np.ndarray:
    """A uint8 (h, w, 3) image of colour word `word` in context 'background' or 'room'.

    `shape` is (h, w) or one size for a square; `texture` the chance of a strong material pattern on
    plain colours; `gain` (3,) scales the result per channel (scene exposure and light colour);
    `person` (skin sRGB, shirt sRGB) puts a person into a room (people.py), or with `near` close in front of
    any backdrop, drawn at full resolution.
    """
    check("color", word)
    check("background", context)
    h, w = (shape, shape) if np.isscalar(shape) else shape
    if context == "room":
        small = room(word, rng, ((h + 1) // 2, (w + 1) // 2), texture)
        if person is not None and not near:
            draw_person(small, rng, *person)
        img = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    else:
        img = surface(word, rng, (h, w), texture)
        if word not in ("mountain", "lake"):
            img = shade(img, falloff(rng, (h, w), rng.uniform(0.1, 0.35)))
    if person is not None and near:
        img = img.astype(np.float32)
        draw_person(img, rng, *person, near=True)
    img = cv2.multiply(img, tuple(float(g) for g in gain) + (0.0,))
    return np.clip(img, 0, 255, out=img).astype(np.uint8)
