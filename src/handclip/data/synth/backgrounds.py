"""Procedural backgrounds named by the colour/kind words of DG-CLIP's prompts (supplement Table 3).

`background(word, kind, rng, size)` paints a uint8 RGB image: 'green' as a lit green screen,
plain colours with light falloff, 'dotted', 'flower', 'mountain', 'lake', 'bright', 'dark';
kind 'room' adds clutter (furniture-like blocks, a floor line, blur) over the base, kind
'background' keeps it a backdrop, optionally textured (value noise, stripes, checks).
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

# the 19 distinct colour words of supplement Table 3 ("yellow" is printed twice)
COLOR_WORDS = ("mountain", "bright", "green", "white", "sky blue", "orange", "blue", "gray", "pink", "dotted",
               "lake", "dark", "purple", "yellow", "black", "red", "beige", "brown", "flower")
BACKGROUND_WORDS = ("background", "room")
# representative sRGB of the plain colour words
_FALLOFF_GRID = 32
RGB = {
    "green": (72, 108, 46), "white": (232, 232, 226), "sky blue": (135, 196, 232), "orange": (232, 138, 48),
    "blue": (46, 86, 196), "gray": (128, 128, 126), "pink": (228, 156, 178), "purple": (116, 66, 158),
    "yellow": (228, 206, 62), "black": (22, 22, 24), "red": (186, 38, 40), "beige": (218, 198, 162),
    "brown": (116, 78, 48), "bright": (248, 246, 236), "dark": (42, 40, 44),
}


def value_noise(rng: np.random.Generator, size: int, cells: int, channels: int = 1) -> np.ndarray:
    """Smooth random field in [0, 1] (size, size, channels): a cells x cells grid upsampled bicubically."""
    grid = rng.random((cells, cells, channels)).astype(np.float32)
    out = cv2.resize(grid, (size, size), interpolation=cv2.INTER_CUBIC)
    return np.clip(out.reshape(size, size, channels), 0, 1)


def _tint(gray: np.ndarray, rgb) -> np.ndarray:
    """(H, W) float32 times an RGB colour -> (H, W, 3) float32, built channel by channel (numpy's
    broadcasting over a trailing axis of 3 runs inner loops of length 3, many times slower)."""
    return cv2.merge([gray * np.float32(c) for c in rgb])


def _shade(img: np.ndarray, gray: np.ndarray) -> np.ndarray:
    """(H, W, 3) float32 times (H, W) float32, channel by channel."""
    return img * cv2.merge([gray, gray, gray])


def _jitter(rgb, rng: np.random.Generator, amount: float = 18.0) -> np.ndarray:
    """A colour near `rgb` (per-channel uniform jitter)."""
    return np.clip(np.asarray(rgb, np.float32) + rng.uniform(-amount, amount, 3).astype(np.float32), 0, 255)


@lru_cache(maxsize=1)
def _grid() -> tuple[np.ndarray, np.ndarray]:
    """Normalised coordinates (yy, xx) in [0, 1) of the coarse grid light falloffs are computed on."""
    yy, xx = np.mgrid[0:_FALLOFF_GRID, 0:_FALLOFF_GRID].astype(np.float32) / _FALLOFF_GRID
    return yy, xx


def _falloff(rng: np.random.Generator, size: int, strength: float) -> np.ndarray:
    """A smooth light falloff (size, size) around a random centre: a lit backdrop is never flat.

    Computed on a coarse grid and upsampled: it is smooth, and full-size arithmetic would cost more
    than the rest of the background.
    """
    yy, xx = _grid()
    cx, cy = rng.uniform(0.2, 0.8, 2)
    coarse = 1 - strength * ((xx - cx) ** 2 + (yy - cy) ** 2)
    coarse += strength * 0.3 * (value_noise(rng, _FALLOFF_GRID, 3)[..., 0] - 0.5)
    return cv2.resize(coarse.astype(np.float32), (size, size), interpolation=cv2.INTER_LINEAR)


def _plain(rgb, rng: np.random.Generator, size: int, falloff: float) -> np.ndarray:
    """A plain colour under a light falloff, float32."""
    return _tint(_falloff(rng, size, falloff), _jitter(rgb, rng))


def _dotted(rng: np.random.Generator, size: int) -> np.ndarray:
    img = _plain(RGB[rng.choice(["white", "beige", "pink", "sky blue", "yellow"])], rng, size, 0.3)
    dot = tuple(float(c) for c in _jitter(RGB[rng.choice(["red", "blue", "black", "brown", "purple"])], rng))
    step = int(rng.integers(size // 12, size // 5))
    r = max(2, int(step * rng.uniform(0.15, 0.35)))
    off = int(rng.integers(0, step))
    for y in range(off - step, size + step, step):
        shift = step // 2 if (y // step) % 2 else 0
        for x in range(off - step + shift, size + step, step):
            cv2.circle(img, (x, y), r, dot, -1, cv2.LINE_AA)
    return img


def _flower(rng: np.random.Generator, size: int) -> np.ndarray:
    img = _plain(RGB[rng.choice(["green", "white", "beige", "sky blue"])], rng, size, 0.3)
    for _ in range(int(rng.integers(6, 16))):
        cx, cy = rng.integers(0, size, 2)
        r = int(rng.integers(size // 30, size // 10))
        petal = tuple(float(c) for c in _jitter(RGB[rng.choice(["pink", "red", "yellow", "white", "purple", "orange"])], rng, 30))
        for k in range(int(rng.integers(5, 8))):
            a = 2 * np.pi * k / 6 + rng.uniform(0, 0.3)
            c = (int(cx + r * np.cos(a)), int(cy + r * np.sin(a)))
            cv2.ellipse(img, c, (r, max(1, r // 2)), np.degrees(a), 0, 360, petal, -1, cv2.LINE_AA)
        cv2.circle(img, (int(cx), int(cy)), max(1, r // 2), (230.0, 190.0, 40.0), -1, cv2.LINE_AA)
    return img


def _ridge(rng: np.random.Generator, size: int, level: float, rough: float) -> np.ndarray:
    """A random skyline (size,) in pixels: a few sines plus noise around `level` of the height."""
    x = np.linspace(0, 1, size)
    y = np.full(size, level * size)
    for k in range(1, 5):
        y += rough * size / k * np.sin(2 * np.pi * (k * x + rng.random()))
    return y


def _landscape(rng: np.random.Generator, size: int, water: bool) -> np.ndarray:
    """Sky gradient, a rocky ridge, then a lake (water) or a snow line and grass (mountain)."""
    yy = np.linspace(0, 1, size, dtype=np.float32)[:, None]
    top, bottom = _jitter((110, 160, 220), rng), _jitter((215, 225, 235), rng)
    planes = [np.repeat(top[c] + (bottom[c] - top[c]) * yy, size, axis=1) for c in range(3)]
    rows = np.arange(size, dtype=np.float32)[:, None]
    ridge = _ridge(rng, size, rng.uniform(0.3, 0.55), rng.uniform(0.04, 0.1))[None, :]
    rock = _jitter((96, 92, 104) if water else (120, 92, 80), rng, 25)
    shade = 0.75 + 0.5 * value_noise(rng, size, 12)[..., 0]
    below = rows >= ridge
    planes = [np.where(below, rock[c] * shade, planes[c]) for c in range(3)]
    if water:
        shore = int(size * rng.uniform(0.6, 0.75))
        streak = 0.85 + 0.3 * cv2.resize(rng.random((size // 8, 2)).astype(np.float32), (size, size - shore))
        lake = _jitter((60, 110, 150), rng)
        for c in range(3):
            planes[c][shore:] = lake[c] * streak
    else:
        snow = below & (rows < ridge + size * 0.06)
        white = _jitter((235, 235, 240), rng, 10)
        low = int(size * rng.uniform(0.75, 0.9))
        grass = _jitter((60, 90, 50), rng)
        field = 0.7 + 0.5 * value_noise(rng, size, 16)[low:, :, 0]
        for c in range(3):
            planes[c][snow] = white[c]
            planes[c][low:] = grass[c] * field
    return cv2.merge([p.astype(np.float32) for p in planes])


@lru_cache(maxsize=2)
def _coords(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates (yy, xx) of a size x size image, float32."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    return yy, xx


def _texture(img: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
    """Overlay one procedural texture (value noise, stripes or checks) on a float image."""
    kind = rng.integers(3)
    if kind == 0:
        t = value_noise(rng, size, int(rng.integers(6, 40)))[..., 0]
    else:
        yy, xx = _coords(size)
        a = rng.uniform(0, np.pi)
        period = rng.uniform(size / 30, size / 6)
        cos, sin = np.float32(np.cos(a) / period), np.float32(np.sin(a) / period)  # float32 all the way
        t = np.floor(xx * cos + yy * sin)
        if kind == 2:
            t += np.floor(yy * cos - xx * sin)
        t = (t % 2).astype(np.float32)
    return _shade(img, 1 - np.float32(rng.uniform(0.2, 0.5)) * t)


def _clutter(img: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
    """Turn a backdrop into a room-like scene: a floor/table plane and blurred objects of random colours."""
    horizon = int(size * rng.uniform(0.45, 0.8))
    floor = _jitter(RGB[rng.choice(list(RGB))], rng, 30)
    img[horizon:] = _tint(0.6 + 0.4 * value_noise(rng, size, 8)[horizon:, :, 0], floor)
    names = list(RGB)
    for _ in range(int(rng.integers(4, 12))):
        color = tuple(float(c) for c in _jitter(RGB[names[rng.integers(len(names))]], rng, 40))
        x, y = rng.integers(-size // 8, size, 2)
        w, h = rng.integers(size // 12, size // 3, 2)
        if rng.random() < 0.6:
            cv2.rectangle(img, (int(x), int(y)), (int(x + w), int(y + h)), color, -1)
        else:
            cv2.ellipse(img, (int(x), int(y)), (int(w // 2), int(h // 2)), 0, 0, 360, color, -1, cv2.LINE_AA)
    k = int(rng.choice([1, 3, 5]))
    return cv2.GaussianBlur(img, (k, k), 0) if k > 1 else img


def background(word: str, kind: str, rng: np.random.Generator, size: int, texture: float = 0.0,
               gain=(1.0, 1.0, 1.0)) -> np.ndarray:
    """A uint8 (size, size, 3) image for a colour word and a kind ('background' or 'room').

    `texture` is the probability of overlaying a procedural texture on plain colours; `gain` (3,)
    scales the result per channel (scene exposure and light colour).
    """
    if word not in COLOR_WORDS:
        raise ValueError(f"unknown background colour word {word!r}; known: {COLOR_WORDS}")
    if kind not in BACKGROUND_WORDS:
        raise ValueError(f"unknown background kind {kind!r}; known: {BACKGROUND_WORDS}")
    if word == "dotted":
        img = _dotted(rng, size)
    elif word == "flower":
        img = _flower(rng, size)
    elif word in ("mountain", "lake"):
        img = _landscape(rng, size, water=word == "lake")
    else:
        img = _plain(RGB[word], rng, size, rng.uniform(0.1, 0.5))
        if rng.random() < texture:
            img = _texture(img, rng, size)
    if kind == "room":
        img = _clutter(img, rng, size)
    img = cv2.multiply(img.astype(np.float32, copy=False), tuple(float(g) for g in gain) + (0.0,))
    return np.clip(img, 0, 255, out=img).astype(np.uint8)
