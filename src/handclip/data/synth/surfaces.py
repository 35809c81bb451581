"""The colour words of DG-CLIP's prompts painted as flat surfaces: what a backdrop or a room's walls show.

`surface(word, rng, (h, w))` returns float32 sRGB (0-255) that the word truly describes:
- the 13 plain colours: that colour (jittered, staying nearer its own reference than any other
  in CIELAB) shaded by a material texture (textures.py) that changes luminance, never hue;
- 'bright': a near-white, high-key surface with a glow; 'dark': a dark surface of any hue (L* < 25);
- 'dotted': dots of one colour on another; 'flower': a floral print or a flower meadow;
- 'mountain': sky, hazy ridges, snow caps and a green foreground; 'lake': sky, hills, a shore and
  water that mirrors them.
No lighting falloff here: the backdrop and room builders add it.
"""

from __future__ import annotations

import cv2
import numpy as np

from handclip.data.synth.textures import MATERIALS, coords, fbm, material, value_noise
from handclip.data.synth.words import COLOR_WORDS, check

# reference sRGB of the plain colour words
PLAIN_RGB = {
    "green": (72, 128, 52), "white": (236, 236, 230), "sky blue": (135, 196, 232), "orange": (234, 136, 40),
    "blue": (40, 80, 190), "gray": (128, 128, 126), "pink": (232, 150, 180), "purple": (112, 62, 156),
    "yellow": (232, 208, 52), "black": (24, 24, 26), "red": (190, 36, 38), "beige": (216, 196, 158),
    "brown": (116, 76, 46),
}
PATTERNS = ("bright", "dark", "dotted", "flower", "mountain", "lake")


def colour(word: str, rng: np.random.Generator) -> np.ndarray:
    """A shade of plain colour `word` (3,) float32: lightness x0.9-1.06 and +-8 per channel."""
    rgb = np.asarray(PLAIN_RGB[word], np.float32) * np.float32(rng.uniform(0.9, 1.06))
    return np.clip(rgb + rng.uniform(-8, 8, 3).astype(np.float32), 0, 255)


def tint(gray: np.ndarray, rgb) -> np.ndarray:
    """(h, w) float32 luminance times an RGB colour -> (h, w, 3) float32, built channel by channel (numpy's
    broadcasting over a trailing axis of 3 runs inner loops of length 3, many times slower)."""
    return cv2.merge([gray * np.float32(c) for c in rgb])


def shade(img: np.ndarray, gray: np.ndarray) -> np.ndarray:
    """(h, w, 3) float32 times (h, w) float32, channel by channel."""
    return img * cv2.merge([gray, gray, gray])


def _other(rng: np.random.Generator, avoid: tuple[str, ...]) -> str:
    """A plain colour word not in `avoid`."""
    names = [k for k in PLAIN_RGB if k not in avoid]
    return names[rng.integers(len(names))]


def _plain(word, rng, shape, texture: float) -> np.ndarray:
    name = MATERIALS[rng.integers(len(MATERIALS))] if rng.random() < texture else ("plaster", "paper")[rng.integers(2)]
    return tint(material(name, rng, shape), colour(word, rng))


def _bright(rng, shape) -> np.ndarray:
    """Near-white with a faint pastel cast, and a large glow (a lit wall or window light) that clips."""
    h, w = shape
    base = 0.8 * np.float32(245) + 0.2 * colour(_other(rng, ("black", "brown", "dark")), rng)
    yy, xx = coords(h, w)
    cx, cy, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0.4, 0.9) * w
    glow = np.exp(-((xx - np.float32(cx)) ** 2 + (yy - np.float32(cy)) ** 2) / np.float32(r * r))
    return tint(np.float32(0.95) + 0.04 * fbm(rng, shape, 6, 2) + np.float32(0.25) * glow, base)


def _dark(rng, shape) -> np.ndarray:
    """Any colour at 8-20 % of its lightness, with a material texture."""
    base = colour(_other(rng, ()), rng) * np.float32(rng.uniform(0.08, 0.2)) + np.float32(6)
    return tint(material(MATERIALS[rng.integers(len(MATERIALS))], rng, shape), base)


def _dotted(rng, shape) -> np.ndarray:
    """Dots on a grid (square or staggered, slightly irregular) or scattered, in a contrasting colour."""
    h, w = shape
    ground = _other(rng, ("black",))
    img = _plain(ground, rng, shape, 0.2)
    dark_ground = ground in ("blue", "purple", "red", "brown", "green", "gray")
    dot = tuple(float(c) for c in colour(_other(rng, (ground, "gray") if dark_ground else (ground, "beige")), rng))
    if dark_ground:  # light dots on dark grounds, dark dots on light ones
        dot = tuple(min(255.0, c * 1.6 + 60) for c in dot)
    step = rng.uniform(0.05, 0.14) * w
    r = max(1, int(round(step * rng.uniform(0.15, 0.35))))
    stagger, scatter = rng.random() < 0.5, rng.random() < 0.2
    ys = np.arange(-step, h + step, step) + rng.uniform(0, step)
    for k, y in enumerate(ys):
        xs = np.arange(-step, w + step, step) + rng.uniform(0, step) * scatter + (step / 2 if stagger and k % 2 else 0)
        jitter = rng.uniform(-1, 1, (len(xs), 2)) * (step * (0.3 if scatter else 0.04))
        for x, (dx, dy) in zip(xs, jitter):
            cv2.circle(img, (int(x + dx), int(y + dy)), r, dot, -1, cv2.LINE_AA)
    return img


def _flower(img, centre, r: float, petal, heart, petals: int, angle: float) -> None:
    """One flower: `petals` elliptic petals around a round heart (in place)."""
    cx, cy = centre
    if r < 2.5:
        cv2.circle(img, (int(cx), int(cy)), max(1, int(r)), petal, -1, cv2.LINE_AA)
        return
    for k in range(petals):
        a = angle + 2 * np.pi * k / petals
        c = (int(cx + 0.8 * r * np.cos(a)), int(cy + 0.8 * r * np.sin(a)))
        cv2.ellipse(img, c, (int(r * 0.75), max(1, int(r * 0.38))), np.degrees(a), 0, 360, petal, -1, cv2.LINE_AA)
    cv2.circle(img, (int(cx), int(cy)), max(1, int(r * 0.35)), heart, -1, cv2.LINE_AA)


_PETALS = ("pink", "red", "yellow", "white", "purple", "orange")


def _flowers(rng, shape) -> np.ndarray:
    """A floral print on a pale ground (with leaves), or a meadow of flowers that shrink with distance."""
    h, w = shape
    palette = [tuple(float(c) for c in colour(_PETALS[k], rng)) for k in rng.permutation(len(_PETALS))[:3]]
    heart = (236.0, 190.0, 40.0)
    if rng.random() < 0.5:  # print
        img = _plain(("white", "beige", "sky blue", "pink", "yellow")[rng.integers(5)], rng, shape, 0.0)
        leaf = tuple(float(c) for c in colour("green", rng))
        size = rng.uniform(0.03, 0.08) * w  # a print's flowers are of a size; they cover 25-50 % of it
        for _ in range(max(3, int(rng.uniform(0.25, 0.5) * w * h / (np.pi * (1.5 * size) ** 2)))):
            cx, cy, r = rng.uniform(0, w), rng.uniform(0, h), size * rng.uniform(0.75, 1.25)
            for side in (-1, 1):
                a = rng.uniform(0, np.pi)
                cv2.ellipse(img, (int(cx + side * r * np.cos(a)), int(cy + side * r * np.sin(a))),
                            (int(r), max(1, int(r * 0.4))), np.degrees(a), 0, 360, leaf, -1, cv2.LINE_AA)
            _flower(img, (cx, cy), r, palette[rng.integers(3)], heart, int(rng.integers(5, 8)), rng.uniform(0, 1))
        return img
    horizon = rng.uniform(0.0, 0.3) * h  # a strip of sky above the meadow, sometimes none
    img = tint(0.6 + 0.5 * fbm(rng, shape, 12), colour("green", rng))
    if horizon >= 1:
        img[: int(horizon)] = _sky(rng, (int(horizon), w))
    for _ in range(int(rng.integers(60, 110) * w * h / 224**2)):
        y = rng.uniform(horizon, h)
        depth = (y - horizon) / max(h - horizon, 1)  # 0 far, 1 near
        _flower(img, (rng.uniform(0, w), y), (0.006 + 0.03 * depth) * w, palette[rng.integers(3)], heart,
                int(rng.integers(5, 7)), rng.uniform(0, 1))
    return img


def _sky(rng, shape) -> np.ndarray:
    """A blue sky paling to the horizon with a few white clouds."""
    h, w = shape
    top, low = colour("sky blue", rng) * np.float32([0.75, 0.85, 1.0]), np.float32(rng.uniform(205, 235, 3))
    t = np.repeat(np.linspace(0, 1, h, dtype=np.float32)[:, None], w, 1)
    img = cv2.merge([top[c] + (low[c] - top[c]) * t for c in range(3)])
    cloud = np.clip((fbm(rng, shape, 5) - rng.uniform(0.45, 0.65)) * 4, 0, 1)
    return img + cv2.merge([cloud] * 3) * (np.float32(245) - img)


def _ridge(rng, w: int, level: float, rough: float, h: int) -> np.ndarray:
    """A skyline (w,) in pixel rows: a few sines plus noise around `level` of the height."""
    x = np.linspace(0, 1, w, dtype=np.float32)
    y = np.full(w, level * h, np.float32)
    for k in range(1, 5):
        y += np.float32(rough * h / k) * np.sin(np.float32(2 * np.pi) * (k * x + np.float32(rng.random())))
    return y + np.float32(rough * h * 0.4) * (value_noise(rng, (1, w), 30)[0, :, 0] - 0.5)


def _landscape(rng, shape, water: bool) -> np.ndarray:
    """Sky, two or three hazy ridges (snow caps on mountains), then grass or a lake mirroring the scene."""
    h, w = shape
    sky = _sky(rng, shape)
    rows = coords(h, w)[0]
    horizon_rgb = sky[-1, 0].copy()
    base = rng.uniform(0.35, 0.5) if not water else rng.uniform(0.35, 0.45)
    layers = int(rng.integers(2, 4))
    layer = np.full((h, w), -1, np.int8)  # nearest ridge covering each pixel, -1 sky
    rgbs = np.zeros((layers + 1, 3), np.float32)
    for k in range(layers):  # far to near: each lower, darker and less hazy
        haze = np.float32(0.55 * (layers - 1 - k) / max(layers - 1, 1))
        rock = colour("gray" if not water else "green", rng) * np.float32(0.7 if k == layers - 1 else 0.85)
        rgbs[k] = rock * (1 - haze) + horizon_rgb * haze
        ridge = _ridge(rng, w, base + 0.06 * k, (0.12 if not water else 0.05) / (1 + k), h)[None, :]
        if not water and k == 0:
            cap = ridge + np.float32(rng.uniform(0.04, 0.1) * h) * value_noise(rng, shape, 20)[..., 0]
            layer[(rows >= ridge) & (rows < cap)] = layers  # snow
            rgbs[layers] = 240
        layer[rows >= ridge] = k
    if not water:
        layer[int(h * rng.uniform(0.75, 0.92)):] = layers - 1
        rgbs[layers - 1] = colour("green", rng)
    ground = tint(0.75 + 0.4 * fbm(rng, shape, 12), (1.0, 1.0, 1.0)) * rgbs[layer]
    img = np.where((layer >= 0)[..., None], ground, sky)
    if water:
        shore = max(int(h * rng.uniform(0.55, 0.7)), (h + 1) // 2)  # the water mirrors what lies above it
        above = img[max(0, 2 * shore - h):shore][::-1]  # the scene mirrored in the water
        streak = 0.75 + 0.25 * value_noise(rng, (h - shore, w), int(rng.integers(2, 5)))[..., 0]
        streak *= 0.9 + 0.2 * cv2.resize(rng.random((max(2, (h - shore) // 3), 2)).astype(np.float32), (w, h - shore))
        img[shore:] = shade(above[: h - shore] * np.float32(0.6) + colour("blue", rng) * np.float32(0.25), streak)
    return img


def surface(word: str, rng: np.random.Generator, shape: tuple[int, int], texture: float = 0.5) -> np.ndarray:
    """Colour word `word` painted over (h, w), float32 sRGB 0-255; `texture`: chance of a strong material."""
    check("color", word)
    if word in PLAIN_RGB:
        return _plain(word, rng, shape, texture)
    if word == "bright":
        return _bright(rng, shape)
    if word == "dark":
        return _dark(rng, shape)
    if word == "dotted":
        return _dotted(rng, shape)
    if word == "flower":
        return _flowers(rng, shape)
    return _landscape(rng, shape, water=word == "lake")
