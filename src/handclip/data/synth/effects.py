"""Camera effects applied after rendering: defocus/motion blur, sensor noise, JPEG compression."""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np


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
