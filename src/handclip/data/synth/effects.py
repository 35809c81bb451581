"""Camera effects applied after rendering: defocus and motion blur, vignetting, sensor noise, white
balance, resolution loss (a webcam's soft, sharpened look) and JPEG compression.

`develop(image, camera, rng)` applies a Camera's effects in the order a camera does: optics (blur,
vignetting), sensor (noise), then processing (white balance, tone curve and saturation, resampling and
sharpening, JPEG).
Depth of field (the background blurred more than the hand) is applied to the background before the
hand is painted over it: `Camera.dof`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import cv2
import numpy as np


class Camera(NamedTuple):
    """One image's camera: blur sigmas in pixels, noise in 0-255 units, gains per channel."""

    defocus: float  # Gaussian sigma over the whole image
    dof: float  # extra Gaussian sigma of the background (depth of field)
    motion: tuple[int, float]  # length px, angle deg
    read_noise: float
    shot_noise: float
    jpeg: int  # quality; 100 or more: none
    white_balance: np.ndarray  # (3,) per-channel gain: auto white balance and its error
    vignette: float  # darkening of the corners (0 none)
    soften: float  # resolution kept by a down- and up-sampling (1 none)
    contrast: float = 0.0  # strength of the S-shaped tone curve (0 none)
    saturation: float = 1.0  # colour saturation (1 unchanged, 0 grey)


def gaussian_blur(img: np.ndarray, sigma: float) -> np.ndarray:
    """Defocus-like blur; sigma in pixels (0 leaves the image unchanged)."""
    return cv2.GaussianBlur(img, (0, 0), sigma) if sigma > 0 else img


def motion_blur(img: np.ndarray, length: int, angle_deg: float) -> np.ndarray:
    """Linear motion blur of `length` pixels along `angle_deg`."""
    if length < 2:
        return img
    k = np.zeros((length, length), np.float32)
    k[length // 2, :] = 1.0
    rot = cv2.getRotationMatrix2D(((length - 1) / 2, (length - 1) / 2), angle_deg, 1.0)
    k = cv2.warpAffine(k, rot, (length, length))
    return cv2.filter2D(img, -1, k / max(k.sum(), 1e-6))


@lru_cache(maxsize=1)
def _noise_bank() -> np.ndarray:
    """A fixed (640, 640, 3) field of unit Gaussian noise; images take random windows of it (cheap, seeded)."""
    return np.random.default_rng(20190722).standard_normal((640, 640, 3), dtype=np.float32)


def sensor_noise(img: np.ndarray, rng: np.random.Generator, read_sigma: float, shot: float) -> np.ndarray:
    """Additive read noise (sigma, 0-255 units) plus signal-dependent shot noise (variance shot * value).

    The unit noise is a random window (offset, flips, channel order) of a fixed noise bank, which is
    several times cheaper than drawing fresh normals per pixel; images up to 640 px.
    """
    if read_sigma <= 0 and shot <= 0:
        return img
    h, w = img.shape[:2]
    bank = _noise_bank()
    if h > bank.shape[0] or w > bank.shape[1]:
        raise ValueError(f"sensor_noise supports images up to {bank.shape[0]} px, got {h}x{w}")
    y, x0 = rng.integers(0, bank.shape[0] - h + 1), rng.integers(0, bank.shape[1] - w + 1)
    sy, sx = (1, -1)[rng.integers(2)], (1, -1)[rng.integers(2)]
    noise = bank[y:y + h, x0:x0 + w][::sy, ::sx][..., rng.permutation(3)]
    sigma = np.sqrt(read_sigma**2 + shot * np.arange(256, dtype=np.float32))  # per grey level
    x = sigma[img] * noise
    x += img
    x += 0.5
    return np.clip(x, 0, 255, out=x).astype(np.uint8)


def jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    """Round-trip an RGB uint8 image through JPEG at `quality` (100 or more: unchanged)."""
    if quality >= 100:
        return img
    ok, buf = cv2.imencode(".jpg", img[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return np.ascontiguousarray(cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1])


@lru_cache(maxsize=8)
def _radius2(h: int, w: int) -> np.ndarray:
    """Squared distance from the image centre (h, w) float32, 1 at the corners."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    return ((xx - (w - 1) / 2) ** 2 + (yy - (h - 1) / 2) ** 2) / np.float32(((w - 1) / 2) ** 2 + ((h - 1) / 2) ** 2)


def vignette_and_gain(img: np.ndarray, vignette: float, gain) -> np.ndarray:
    """Darken the corners by `vignette` (cos^4-like falloff, 1 - v r^2) and scale channels by `gain` (3,)."""
    gain = np.asarray(gain, np.float32)
    if vignette <= 0 and np.allclose(gain, 1):
        return img
    field = 1 - np.float32(vignette) * _radius2(*img.shape[:2])
    out = cv2.multiply(img.astype(np.float32), cv2.merge([field * g for g in gain]))
    return np.clip(out, 0, 255, out=out).astype(np.uint8)


def soften(img: np.ndarray, keep: float) -> np.ndarray:
    """A small sensor's look: resample to `keep` of the resolution and back, then sharpen (unsharp mask)."""
    if keep >= 1:
        return img
    h, w = img.shape[:2]
    small = cv2.resize(img, (max(2, round(w * keep)), max(2, round(h * keep))), interpolation=cv2.INTER_AREA)
    up = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    return cv2.addWeighted(up, 1.6, cv2.GaussianBlur(up, (0, 0), 1.0), -0.6, 0)


@lru_cache(maxsize=32)
def _tone_lut(contrast: float) -> np.ndarray:
    """A 256-entry S-shaped tone curve: x + c * x (1 - x) (2 x - 1) * 2 on [0, 1], monotonic for c <= 1."""
    x = np.arange(256) / 255.0
    return np.clip(255 * (x + 2 * contrast * x * (1 - x) * (2 * x - 1)) + 0.5, 0, 255).astype(np.uint8)


def tone(img: np.ndarray, contrast: float, saturation: float) -> np.ndarray:
    """A camera's rendering of colour: an S-shaped tone curve (more contrast) and a saturation change."""
    if contrast > 0:
        img = cv2.LUT(img, _tone_lut(round(contrast, 2)))
    if abs(saturation - 1) > 1e-3:
        grey = cv2.cvtColor(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
        img = cv2.addWeighted(img, saturation, grey, 1 - saturation, 0)
    return img


def develop(img: np.ndarray, camera: Camera, rng: np.random.Generator) -> np.ndarray:
    """Apply a Camera's effects to a uint8 RGB render (the background's depth of field excepted)."""
    img = gaussian_blur(img, camera.defocus)
    img = motion_blur(img, *camera.motion)
    img = vignette_and_gain(img, camera.vignette, (1.0, 1.0, 1.0))
    img = sensor_noise(img, rng, camera.read_noise, camera.shot_noise)
    img = vignette_and_gain(img, 0.0, camera.white_balance)
    img = tone(img, camera.contrast, camera.saturation)
    img = soften(img, camera.soften)
    return jpeg(img, camera.jpeg)

