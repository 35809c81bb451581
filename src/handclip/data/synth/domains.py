"""Named visual domains of the synthetic data: distributions of skin, background, light and camera effects.

- source: like FreiHAND's training images: green screen (mostly) or plain white/gray/beige
  backdrops, light skin tones (white, peach, light beige), soft frontal white light, clean camera.
- texture: procedural textures, patterns, landscapes and cluttered rooms in every colour word;
  all seven skin tones; light from anywhere in front, slightly tinted; mild noise and JPEG.
- lowlight: dim and coloured light, dark scenes, strong sensor noise, defocus/motion blur,
  heavy JPEG; all seven skin tones.
Each sample's words ('hand_color', 'color', 'background') are DG-CLIP's prompt vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from handclip.data.synth.backgrounds import BACKGROUND_WORDS, COLOR_WORDS

# skin albedo (sRGB) of DG-CLIP's seven hand-colour words
SKIN_RGB = {
    "white": (230, 180, 160), "light beige": (222, 178, 148), "peach": (232, 164, 134),
    "pale yellow": (222, 184, 140), "brown": (165, 110, 78), "dark brown": (110, 70, 48), "black": (70, 48, 36),
}
HAND_COLORS = tuple(SKIN_RGB)


@dataclass(frozen=True)
class Domain:
    """Ranges (lo, hi) sampled uniformly per image; word lists sampled with optional weights."""

    hand_colors: tuple[str, ...]
    colors: tuple[str, ...]
    color_weights: tuple[float, ...] | None
    room_prob: float  # probability of a cluttered 'room' instead of a backdrop
    texture_prob: float  # probability of a procedural texture over a plain colour
    intensity: tuple[float, float]  # key light, linear
    ambient: tuple[float, float]
    fill: tuple[float, float]  # second light from the opposite side, fraction of the key
    spread_deg: float  # largest angle between the key light and the camera axis
    tint: float  # largest per-channel colour cast of the light
    exposure: tuple[float, float]  # gain applied to the background (scene brightness)
    blur: tuple[float, float]  # Gaussian sigma, px at 224
    motion_prob: float
    read_noise: tuple[float, float]
    shot_noise: tuple[float, float]
    jpeg: tuple[int, int]


DOMAINS: dict[str, Domain] = {
    "source": Domain(
        hand_colors=("white", "peach", "light beige"), colors=("green", "white", "gray", "beige"),
        color_weights=(0.7, 0.1, 0.1, 0.1), room_prob=0.0, texture_prob=0.0, intensity=(0.35, 0.6),
        ambient=(0.08, 0.16), fill=(0.2, 0.4), spread_deg=30.0, tint=0.03, exposure=(0.8, 1.0),
        blur=(0.0, 0.4), motion_prob=0.0, read_noise=(0.5, 2.0), shot_noise=(0.0, 0.02), jpeg=(85, 95),
    ),
    "texture": Domain(
        hand_colors=HAND_COLORS, colors=COLOR_WORDS, color_weights=None, room_prob=0.5, texture_prob=0.6,
        intensity=(0.4, 0.9), ambient=(0.08, 0.25), fill=(0.0, 0.4), spread_deg=70.0, tint=0.12,
        exposure=(0.8, 1.1), blur=(0.0, 0.8), motion_prob=0.1, read_noise=(0.5, 4.0), shot_noise=(0.0, 0.1),
        jpeg=(70, 95),
    ),
    "lowlight": Domain(
        hand_colors=HAND_COLORS, colors=COLOR_WORDS, color_weights=None, room_prob=0.5, texture_prob=0.4,
        intensity=(0.07, 0.28), ambient=(0.01, 0.05), fill=(0.0, 0.2), spread_deg=80.0, tint=0.45,
        exposure=(0.2, 0.45), blur=(0.4, 1.6), motion_prob=0.35, read_noise=(3.0, 10.0), shot_noise=(0.2, 1.0),
        jpeg=(30, 70),
    ),
}


class Style(NamedTuple):
    """One image's draw from a domain: prompt words plus the rendering parameters they go with."""

    words: dict  # {'hand_color', 'color', 'background'}
    skin_rgb: np.ndarray  # (3,) sRGB
    light_dirs: np.ndarray  # (2, 3) towards key and fill light, camera frame
    light_colors: np.ndarray  # (2, 3) linear RGB
    ambient: np.ndarray  # (3,)
    exposure: np.ndarray  # (3,) background gain per channel
    texture_prob: float
    blur: float
    motion: tuple[int, float]  # length px, angle deg
    read_noise: float
    shot_noise: float
    jpeg: int


def get(name: str) -> Domain:
    """The preset `name` with a clear error for unknown names."""
    if name not in DOMAINS:
        raise KeyError(f"unknown synthetic domain {name!r}; known: {sorted(DOMAINS)}")
    return DOMAINS[name]


def _towards(rng: np.random.Generator, max_deg: float) -> np.ndarray:
    """A unit vector from the scene towards a light within max_deg of the camera (camera looks along +z)."""
    theta = np.radians(rng.uniform(0, max_deg))
    phi = rng.uniform(0, 2 * np.pi)
    return np.array([np.sin(theta) * np.cos(phi), np.sin(theta) * np.sin(phi) - 0.2, -np.cos(theta)])


def sample_style(name: str, rng: np.random.Generator, size: int) -> Style:
    """Draw one style of domain `name` (size scales the blur)."""
    d = get(name)
    u = lambda r: rng.uniform(*r)  # noqa: E731
    hand = d.hand_colors[rng.integers(len(d.hand_colors))]
    p = None if d.color_weights is None else np.asarray(d.color_weights) / np.sum(d.color_weights)
    color = d.colors[rng.choice(len(d.colors), p=p)]
    kind = BACKGROUND_WORDS[int(rng.random() < d.room_prob)]
    key = _towards(rng, d.spread_deg)
    fill = -key * np.array([1, 1, -1])  # mirrored across the view axis, still in front
    dirs = np.stack([key, fill]) / np.linalg.norm(np.stack([key, fill]), axis=1, keepdims=True)
    tint = 1 + rng.uniform(-d.tint, d.tint, 3)
    intensity = u(d.intensity)
    colors = np.stack([tint * intensity, tint * intensity * u(d.fill)])
    scale = size / 224
    motion = (int(rng.integers(3, 9) * scale), float(rng.uniform(0, 180))) if rng.random() < d.motion_prob else (0, 0.0)
    return Style(
        words={"hand_color": hand, "color": color, "background": kind},
        skin_rgb=np.clip(np.asarray(SKIN_RGB[hand], float) + rng.normal(0, 6, 3), 0, 255),
        light_dirs=dirs, light_colors=colors, ambient=u(d.ambient) * tint,
        exposure=u(d.exposure) * tint, texture_prob=d.texture_prob, blur=u(d.blur) * scale, motion=motion,
        read_noise=u(d.read_noise), shot_noise=u(d.shot_noise), jpeg=int(rng.integers(d.jpeg[0], d.jpeg[1] + 1)),
    )
