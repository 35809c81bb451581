"""Photo-like material textures as luminance fields (h, w) float32 around 1: they shade a colour without
changing its hue, so a 'red' wall of plaster, fabric or bricks is still red.

Everything is built from coarse random grids upsampled by OpenCV, or from a few float32 array
operations on cached pixel coordinates: a few tenths of a millisecond at 224 px.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

MATERIALS = ("plaster", "paper", "fabric", "wood", "brick", "tiles", "stripes", "checks")


@lru_cache(maxsize=8)
def coords(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates (yy, xx) of an h x w image, float32."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    return yy, xx


def value_noise(rng: np.random.Generator, shape: tuple[int, int], cells: int, channels: int = 1) -> np.ndarray:
    """Smooth random field in [0, 1] (h, w, channels): a grid `cells` wide upsampled bicubically."""
    h, w = shape
    grid = rng.random((max(2, round(cells * h / w)), max(2, cells), channels)).astype(np.float32)
    out = cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC).reshape(h, w, channels)
    return np.clip(out, 0, 1, out=out)


def fbm(rng: np.random.Generator, shape: tuple[int, int], cells: int, octaves: int = 3) -> np.ndarray:
    """Fractal noise (h, w) in about [0, 1]: octaves of value noise, each twice as fine and half as strong."""
    out = np.zeros(shape, np.float32)
    amp, total = 1.0, 0.0
    for k in range(octaves):
        out += np.float32(amp) * value_noise(rng, shape, cells * 2**k)[..., 0]
        total += amp
        amp /= 2
    return out / np.float32(total)


def _bands(rng: np.random.Generator, shape: tuple[int, int], period: float, angle: float) -> np.ndarray:
    """Position across parallel bands (h, w) float32: integer steps every `period` px along `angle`."""
    yy, xx = coords(*shape)
    c, s = np.float32(np.cos(angle) / period), np.float32(np.sin(angle) / period)
    return xx * c + yy * s + np.float32(rng.random())


def _wood(rng, shape):
    """Grain along one direction, warped by noise, with darker late-wood lines and plank seams."""
    h, w = shape
    angle = rng.uniform(-0.15, 0.15) + (np.pi / 2 if rng.random() < 0.5 else 0.0)
    t = _bands(rng, shape, rng.uniform(0.02, 0.06) * w, angle)
    t += np.float32(rng.uniform(1, 3)) * value_noise(rng, shape, 6)[..., 0]
    grain = np.abs(np.sin(np.float32(np.pi) * t)) ** 3
    planks = _bands(rng, shape, rng.uniform(0.15, 0.35) * w, angle + np.pi / 2)
    seam = (np.abs(planks - np.round(planks)) < np.float32(1.0 / w)).astype(np.float32)
    return 1.05 - 0.25 * grain - 0.35 * seam + 0.1 * (fbm(rng, shape, 8, 2) - 0.5)


def _fabric(rng, shape):
    """A fine weave (period 2.5-5 px) over soft folds."""
    yy, xx = coords(*shape)
    p = np.float32(2 * np.pi / rng.uniform(2.5, 5))
    weave = np.sin(xx * p) * np.sin(yy * p)
    folds = value_noise(rng, shape, int(rng.integers(2, 5)))[..., 0]
    return 0.95 + 0.06 * weave + 0.25 * (folds - 0.5)


def _masonry(rng, shape, brick: bool):
    """Bricks (staggered rows) or square tiles, with darker joints and per-unit brightness."""
    h, w = shape
    yy, xx = coords(h, w)
    height = rng.uniform(0.04, 0.09) * w if brick else rng.uniform(0.08, 0.2) * w
    width = height * (rng.uniform(2.0, 3.0) if brick else 1.0)
    row = np.floor(yy / np.float32(height))
    u = xx / np.float32(width) + (np.float32(0.5) * (row % 2) if brick else 0)
    col = np.floor(u)
    joint = np.float32(max(1.0, 0.06 * height))
    on_joint = (yy - row * np.float32(height) < joint) | ((u - col) * np.float32(width) < joint)
    unit = (np.sin(row * 12.9898 + col * 78.233) * 43758.547) % 1  # per-unit hash in [0, 1)
    field = 0.9 + np.float32(0.2 if brick else 0.06) * unit.astype(np.float32)
    field[on_joint] = 0.7 if brick else 1.12
    return field + 0.08 * (fbm(rng, shape, 16, 2) - 0.5)


def _stripes(rng, shape, checks: bool):
    """Tone-on-tone stripes or checks (the darker bands 15-30 % darker)."""
    period = rng.uniform(0.03, 0.17) * shape[1]
    angle = rng.uniform(0, np.pi)
    t = np.floor(_bands(rng, shape, period, angle))
    if checks:
        t += np.floor(_bands(rng, shape, period, angle + np.pi / 2))
    return 1 - np.float32(rng.uniform(0.15, 0.3)) * (t % 2).astype(np.float32)


def material(name: str, rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """The luminance field (h, w) float32 of material `name` (one of MATERIALS)."""
    if name == "plaster":
        return 0.9 + 0.2 * fbm(rng, shape, 6)
    if name == "paper":
        return 0.96 + 0.08 * fbm(rng, shape, 24, 2)
    if name == "fabric":
        return _fabric(rng, shape)
    if name == "wood":
        return _wood(rng, shape)
    if name in ("brick", "tiles"):
        return _masonry(rng, shape, brick=name == "brick")
    if name in ("stripes", "checks"):
        return _stripes(rng, shape, checks=name == "checks")
    raise ValueError(f"unknown material {name!r}; known: {MATERIALS}")
