"""Named visual domains of the synthetic data: distributions of style words, light, clothing and camera.

Each sample draws its words (handclip.data.synth.words: 'hand_color', 'color', 'background') from the
domain's weights, then rendering parameters consistent with them, so a prompt written from the words
is true of the image ('bright' scenes are exposed brighter, 'dark' ones darker; light colour words are
never drawn where dim light would turn them into other colours). The domains (weights and ranges in
DOMAINS, distributions in docs/renderer/README.md):
- source: FreiHAND-like; green screen (mostly) or white/gray/beige backdrops, three light skin tones,
  soft frontal white light, bare forearms, a clean camera.
- texture: every hand colour and every colour word, backdrops and rooms, light from anywhere in front.
- lowlight: dim and slightly coloured light, dark scenes, sensor noise, blur, heavy JPEG.
- harsh: hard sun- or spotlight: strong shadows, shiny highlights, clipped whites, outdoor views.
- webcam: indoor rooms under warm light, often with a person in them, seen by a small camera: soft,
  sharpened, noisy, vignetted, muted colours, off white balance, JPEG; sleeves common.
- sleeve_clutter: cluttered rooms, a sleeve (or bracelet) on every arm, objects covering fingers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from handclip.data.synth.effects import Camera
from handclip.data.synth.raster import Light
from handclip.data.synth.skin import SkinTone, plain, sample_tone
from handclip.data.synth.surfaces import PLAIN_RGB
from handclip.data.synth.words import COLOR_WORDS, HAND_COLORS, check

LIGHT_SKIN = ("white", "peach", "light beige")
# colour words that dimming leaves true (a dim yellow wall looks olive, a dim white one gray)
DIM_COLORS = ("dark", "black", "gray", "blue", "purple", "red", "green", "brown", "dotted", "flower", "mountain", "lake")
# sleeve colours: any plain colour word (the sleeve is not part of the prompt)
SLEEVE_COLORS = tuple(PLAIN_RGB)


def _uniform(words) -> dict[str, float]:
    return {w: 1.0 for w in words}


@dataclass(frozen=True)
class Domain:
    """Word weights and parameter ranges (lo, hi), each drawn uniformly per image."""

    hand_colors: dict
    colors: dict
    room: float  # chance of the context 'room' (else 'background', a backdrop)
    texture: float  # chance of a strong material pattern on plain colours
    key: tuple[float, float]  # key light intensity, linear
    ambient: tuple[float, float]
    fill: tuple[float, float]  # light from the opposite side, fraction of the key
    spread_deg: float  # largest angle between the key light and the camera axis
    tint: float  # largest per-channel colour cast of the light
    softness: tuple[float, float]  # penumbra radius of shadows, mm
    exposure: tuple[float, float]  # gain of the background (scene brightness)
    specular: tuple[float, float]  # skin shine
    sleeve: float  # chance of a sleeve (else a bare forearm), a fifth of them bracelets
    occluder: float  # chance of an object in front of the fingers
    person: float  # chance of a person in a room behind the hand
    near: float  # chance of the hand's owner close behind it, head about the hand's size (people.py), any backdrop
    defocus: tuple[float, float]  # Gaussian sigma, px at 224
    dof: tuple[float, float]  # extra background blur, px at 224
    motion: float  # chance of motion blur
    read_noise: tuple[float, float]
    shot_noise: tuple[float, float]
    jpeg: tuple[int, int]
    white_balance: float  # largest per-channel white-balance error
    awb: tuple[float, float]  # share (log scale) of the light's colour cast the camera's auto white balance removes
    vignette: tuple[float, float]
    soften: tuple[float, float]  # resolution kept (1: full)
    contrast: tuple[float, float]  # S-shaped tone curve strength
    saturation: tuple[float, float]


_BASE = dict(
    hand_colors=_uniform(HAND_COLORS), colors=_uniform(COLOR_WORDS), room=0.5, texture=0.6, key=(0.4, 0.9),
    ambient=(0.08, 0.25), fill=(0.0, 0.4), spread_deg=70.0, tint=0.1, softness=(2.0, 12.0), exposure=(0.8, 1.1),
    specular=(0.04, 0.15), sleeve=0.25, occluder=0.0, person=0.4, near=0.15, defocus=(0.0, 0.8), dof=(0.0, 2.0), motion=0.1,
    read_noise=(0.5, 4.0), shot_noise=(0.0, 0.1), jpeg=(70, 95), white_balance=0.03, awb=(0.7, 1.0),
    vignette=(0.0, 0.25), soften=(0.75, 1.0), contrast=(0.0, 0.35), saturation=(0.8, 1.1),
)
DOMAINS: dict[str, Domain] = {
    "source": Domain(**_BASE | dict(
        hand_colors=_uniform(LIGHT_SKIN), colors={"green": 0.7, "white": 0.1, "gray": 0.1, "beige": 0.1}, room=0.0,
        texture=0.0, key=(0.35, 0.6), ambient=(0.08, 0.16), fill=(0.2, 0.4), spread_deg=30.0, tint=0.03,
        softness=(6.0, 14.0), exposure=(0.8, 1.0), specular=(0.04, 0.1), sleeve=0.0, person=0.0, near=0.0, defocus=(0.0, 0.4),
        dof=(0.0, 0.0), motion=0.0, read_noise=(0.5, 2.0), shot_noise=(0.0, 0.02), jpeg=(85, 95),
        white_balance=0.02, vignette=(0.0, 0.1), soften=(1.0, 1.0), contrast=(0.0, 0.15), saturation=(0.9, 1.0))),
    "texture": Domain(**_BASE),
    "lowlight": Domain(**_BASE | dict(
        colors=_uniform(DIM_COLORS) | {"dark": 3.0}, texture=0.4, key=(0.07, 0.28), ambient=(0.01, 0.05),
        fill=(0.0, 0.2), spread_deg=80.0, tint=0.2, softness=(4.0, 14.0), exposure=(0.2, 0.45), sleeve=0.3,
        defocus=(0.4, 1.6), motion=0.35, read_noise=(3.0, 10.0), shot_noise=(0.2, 1.0), jpeg=(30, 70),
        white_balance=0.1, awb=(0.3, 0.8), vignette=(0.1, 0.4), soften=(0.6, 1.0), contrast=(0.0, 0.2), saturation=(0.6, 0.9))),
    "harsh": Domain(**_BASE | dict(
        colors=_uniform(COLOR_WORDS) | {w: 2.0 for w in ("mountain", "lake", "sky blue", "bright", "flower")},
        room=0.3, key=(0.9, 1.6), ambient=(0.02, 0.08), fill=(0.0, 0.1), spread_deg=75.0, tint=0.06,
        softness=(0.0, 2.0), exposure=(0.9, 1.3), specular=(0.12, 0.35), defocus=(0.0, 0.5), dof=(0.0, 1.0),
        motion=0.05, read_noise=(0.5, 2.0), shot_noise=(0.0, 0.05), jpeg=(75, 95), vignette=(0.0, 0.15),
        soften=(0.85, 1.0), contrast=(0.2, 0.5), saturation=(0.9, 1.2))),
    "webcam": Domain(**_BASE | dict(
        colors=_uniform(COLOR_WORDS) | {"white": 3.0, "beige": 3.0, "gray": 2.0, "mountain": 0.5, "lake": 0.5},
        room=0.9, key=(0.25, 0.5), ambient=(0.08, 0.16), fill=(0.1, 0.4), spread_deg=60.0, softness=(8.0, 16.0),
        exposure=(0.95, 1.35), sleeve=0.6, occluder=0.1, person=0.9, near=0.5, defocus=(0.0, 0.6), dof=(0.3, 1.5), motion=0.2,
        read_noise=(2.0, 6.0), shot_noise=(0.05, 0.4), jpeg=(45, 80), white_balance=0.15, awb=(0.4, 0.8),
        vignette=(0.15, 0.4),
        soften=(0.55, 0.9), contrast=(0.15, 0.45), saturation=(0.6, 0.85))),
    "sleeve_clutter": Domain(**_BASE | dict(room=0.8, texture=0.8, sleeve=1.0, occluder=0.7, person=0.6, near=0.3)),
}
WARM = np.array([1.0, 0.93, 0.82])  # tungsten light relative to daylight (webcam scenes)
PLAIN_SKIN = 0.3  # share of hands drawn without the palm's colour and marks, whose palm or back only shape tells


class Style(NamedTuple):
    """One image's draw from a domain: prompt words plus the rendering parameters they go with."""

    words: dict  # {'hand_color', 'color', 'background'}
    skin: SkinTone
    light: Light
    softness: float  # shadow penumbra, mm
    specular: float  # skin shine
    mottle: float  # skin colour variation at a few pixels' scale (relative)
    exposure: np.ndarray  # (3,) background gain per channel
    texture: float
    sleeve: str | None  # colour word of the sleeve, None for a bare forearm
    bracelet: bool  # the sleeve is a bracelet or watch band at the wrist
    occluder: bool
    person: bool  # a person in the room behind the hand
    near: bool  # that person (or one in front of a backdrop) close behind the hand instead
    plain_skin: bool  # palm, nails, lines and creases in the back's colour: palm or back only from the hand's shape
    camera: Camera


def get(name: str) -> Domain:
    """The preset `name` with a clear error for unknown names."""
    if name not in DOMAINS:
        raise KeyError(f"unknown synthetic domain {name!r}; known: {sorted(DOMAINS)}")
    return DOMAINS[name]


def _pick(weights: dict, rng: np.random.Generator) -> str:
    p = np.array(list(weights.values()), float)
    return list(weights)[rng.choice(len(p), p=p / p.sum())]


def _towards(rng: np.random.Generator, max_deg: float) -> np.ndarray:
    """A unit vector from the scene towards a light within max_deg of the camera (camera looks along +z)."""
    theta = np.radians(rng.uniform(0, max_deg))
    phi = rng.uniform(0, 2 * np.pi)
    d = np.array([np.sin(theta) * np.cos(phi), np.sin(theta) * np.sin(phi) - 0.2, -np.cos(theta)])
    return d / np.linalg.norm(d)


def check_words(fixed: dict | None) -> dict:
    """Words fixed by the user, {column: word}; an unknown column or word raises, listing the known ones."""
    fixed = dict(fixed or {})
    for key, word in fixed.items():
        check(key, word)
    return fixed


def sample_words(name: str, rng: np.random.Generator, fixed: dict | None = None) -> dict:
    """The style words of one sample of domain `name`; words in `fixed` replace the drawn ones (the draw
    still happens, so the rest of the sample is the same with or without them)."""
    d = get(name)
    drawn = {"hand_color": _pick(d.hand_colors, rng), "color": _pick(d.colors, rng),
             "background": "room" if rng.random() < d.room else "background"}
    return drawn | check_words(fixed)


def sample_style(name: str, rng: np.random.Generator, size: int, fixed: dict | None = None) -> Style:
    """Draw one style of domain `name` (size scales the blurs: their ranges are px at 224), with the
    words of `fixed` (e.g. {'color': 'flower'}) instead of drawn ones."""
    d = get(name)
    u = lambda r: rng.uniform(*r)  # noqa: E731
    words = sample_words(name, rng, fixed)
    key = _towards(rng, d.spread_deg)
    fill = key * np.array([-1.0, -1.0, 1.0])  # mirrored across the view axis, still in front
    tint = 1 + rng.uniform(-d.tint, d.tint, 3)
    if name == "webcam":
        tint = tint * WARM
    intensity, ambient, exposure = u(d.key), u(d.ambient), u(d.exposure)
    if words["color"] == "bright":  # a bright scene: the word holds for the light as well
        intensity, ambient, exposure = intensity * 1.2, ambient * 1.5, max(exposure, 1.0) * rng.uniform(1.05, 1.2)
    elif words["color"] == "dark":
        exposure *= rng.uniform(0.5, 0.8)
    light = Light(np.stack([key, fill]), np.stack([tint * intensity, tint * intensity * u(d.fill)]), ambient * tint)
    scale = size / 224
    motion = (int(rng.integers(3, 9) * scale), float(rng.uniform(0, 180))) if rng.random() < d.motion else (0, 0.0)
    sleeve = SLEEVE_COLORS[rng.integers(len(SLEEVE_COLORS))] if rng.random() < d.sleeve else None
    # auto white balance: the camera divides out most of the light's cast (a tinted scene looks nearly
    # neutral, as in real photos; low light and tungsten webcams keep more of it), then errs a little
    awb = tint ** -u(d.awb)
    camera = Camera(
        defocus=u(d.defocus) * scale, dof=u(d.dof) * scale, motion=motion, read_noise=u(d.read_noise),
        shot_noise=u(d.shot_noise), jpeg=int(rng.integers(d.jpeg[0], d.jpeg[1] + 1)),
        white_balance=awb * (1 + rng.uniform(-d.white_balance, d.white_balance, 3)), vignette=u(d.vignette),
        soften=u(d.soften), contrast=u(d.contrast), saturation=u(d.saturation),
    )
    style = Style(
        words=words, skin=sample_tone(words["hand_color"], rng), light=light, softness=u(d.softness),
        specular=u(d.specular), mottle=rng.uniform(0.02, 0.04), exposure=exposure * tint, texture=d.texture, sleeve=sleeve,
        bracelet=sleeve is not None and rng.random() < 0.2, occluder=bool(rng.random() < d.occluder),
        person=bool(words["background"] == "room" and rng.random() < d.person), camera=camera,
        plain_skin=False, near=bool(rng.random() < d.near),
    )
    if rng.random() < PLAIN_SKIN:
        style = style._replace(skin=plain(style.skin), plain_skin=True)
    return style
