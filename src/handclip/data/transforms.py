"""Training augmentation hooks for the real-dataset readers: box scale/shift, in-plane rotation, colour.

Geometry is never warped twice: the augmentation only perturbs the crop box and picks a roll angle,
and handclip.data.crop applies both in one warp while updating K and xyz (see its docstring), so
labels stay exact. Colour jitter changes pixels only.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass
class Augment:
    """Ranges of the random perturbations; `Augment()` gives the defaults used for training."""

    scale: tuple[float, float] = (0.9, 1.1)  # multiplier of the crop box side
    shift: float = 0.05  # max box-centre shift, as a fraction of the side
    rotation: float = 30.0  # max |roll| in degrees
    brightness: float = 0.2  # pixel values x U(1-b, 1+b)
    contrast: float = 0.2  # deviation from the mean grey x U(1-c, 1+c)
    saturation: float = 0.2  # deviation from the per-pixel grey x U(1-s, 1+s)
    hue: float = 0.0  # max hue shift as a fraction of the colour circle
    gamma: tuple[float, float] | None = None  # tone curve 255 (x / 255) ** g, g log-uniform in the range
    mirror: float = 0.0  # probability of seeing the crop in a mirror: a right hand becomes a left one, labels follow
    upright: float = 0.0  # probability of first turning the hand upright (wrist below its middle MCP) before the roll

    @classmethod
    def from_config(cls, cfg) -> "Augment | None":
        """None/False -> no augmentation, True -> defaults, dict -> fields overridden."""
        if not cfg:
            return None
        if cfg is True:
            return cls()
        unknown = set(cfg) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown augmentation keys {sorted(unknown)}; known: {sorted(cls.__dataclass_fields__)}")
        kw = dict(cfg)
        for key in ("scale", "gamma"):
            if kw.get(key) is not None:
                kw[key] = tuple(kw[key])
        return cls(**kw)

    def geometry(self, box, rng: np.random.Generator, tilt: float = 0.0) -> tuple[tuple[float, float, float], float]:
        """A randomly scaled and shifted box (cx, cy, side) and a roll angle in degrees. `tilt` is the hand's own
        roll (crop.hand_tilt): with probability `upright` the roll undoes it first, so the hand stands upright,
        as people hold hands up to a camera (renders turn every way; real photos mostly within 35 deg)."""
        cx, cy, side = box
        side = side * rng.uniform(*self.scale)
        cx += rng.uniform(-self.shift, self.shift) * side
        cy += rng.uniform(-self.shift, self.shift) * side
        roll = float(rng.uniform(-self.rotation, self.rotation))
        if self.upright > 0 and rng.random() < self.upright:
            roll += tilt
        return (cx, cy, side), roll

    def colour(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Gamma (optional), brightness, contrast, saturation and hue jitter of a uint8 RGB image."""
        img = image.astype(np.float32)
        if self.gamma is not None:  # photos are often brighter (or darker) in their mid-tones than renders
            g = np.exp(rng.uniform(np.log(self.gamma[0]), np.log(self.gamma[1])))
            img = 255 * (img / 255) ** np.float32(g)
        img *= rng.uniform(1 - self.brightness, 1 + self.brightness)
        mean = img.mean()
        img = (img - mean) * rng.uniform(1 - self.contrast, 1 + self.contrast) + mean
        grey = img.mean(axis=-1, keepdims=True)
        img = (img - grey) * rng.uniform(1 - self.saturation, 1 + self.saturation) + grey
        img = np.clip(img, 0, 255).astype(np.uint8)
        if self.hue > 0:
            hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV)  # OpenCV hue runs 0..179
            shift = int(round(rng.uniform(-self.hue, self.hue) * 180))
            hsv[..., 0] = ((hsv[..., 0].astype(np.int32) + shift) % 180).astype(np.uint8)
            img = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
        return img
