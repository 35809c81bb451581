"""A person drawn as a lit, textured surface, for face negatives (handclip.data.face_negatives, `face_style: shaded`).

The renderer's people (handclip.data.synth.people) are flat skin ellipses with drawn features: on webcam photos the
detector and the pose model's hand check still take real faces for hands, and a linear check fit on those drawings
told photographed faces from hands worse than the pose model's own confidence (docs/detector.md, stop 22). Here the
head is an ellipsoid lit like the hands (Lambert with a random light and ambient, linear RGB), its skin mottled at
two scales, with the soft features a face's shading shows at a hand's scale: eye sockets, eyes, brows, a nose ridge
and its shadow, nostrils, lips, ears, textured hair, a neck and a shaded shirt.
"""

from __future__ import annotations

import cv2
import numpy as np

from handclip.data.synth.raster import to_linear, to_srgb8

HAIR = ((30, 24, 20), (60, 40, 28), (110, 76, 44), (170, 130, 80), (200, 190, 170), (15, 12, 12))
AMBIENT = (0.25, 0.5)  # of the light, the rest Lambertian from a random direction towards the camera
MOTTLE = 0.06  # relative albedo variation of the skin's low-frequency texture
GRAIN = 0.025  # and of its pores
DRAW_HEIGHT = 96  # px: taller figures are drawn at this height and scaled up


def _noise(shape, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Unit-std Gaussian noise (H, W) blurred at `sigma` px."""
    n = cv2.GaussianBlur(rng.standard_normal(shape).astype(np.float32), (0, 0), max(sigma, 0.3))
    return n / max(float(n.std()), 1e-6)


def _blob(shape, centre, axes, angle: float = 0.0, soft: float = 0.3) -> np.ndarray:
    """A soft elliptic mask (H, W) in [0, 1]: 1 inside, falling to 0 over `soft` of the axes past the edge (computed
    only in the ellipse's bounding window)."""
    mask = np.zeros(shape[:2], np.float32)
    reach = (1 + soft) * max(axes[0], axes[1]) + 1
    u0, v0 = max(int(centre[0] - reach), 0), max(int(centre[1] - reach), 0)
    u1, v1 = min(int(centre[0] + reach) + 1, shape[1]), min(int(centre[1] + reach) + 1, shape[0])
    if u1 <= u0 or v1 <= v0:
        return mask
    v, u = np.mgrid[v0:v1, u0:u1].astype(np.float32)
    c, s = np.cos(angle), np.sin(angle)
    du, dv = u - centre[0], v - centre[1]
    r = np.hypot((c * du + s * dv) / max(axes[0], 1e-3), (-s * du + c * dv) / max(axes[1], 1e-3))
    mask[v0:v1, u0:u1] = np.clip((1 + soft - r) / soft, 0, 1)
    return mask


def _head_normals(shape, cx: float, cy: float, a: float, b: float):
    """Inside mask and unit normals (H, W, 3) of an ellipsoid head seen from the front (x right, y down, z to the
    camera)."""
    v, u = np.mgrid[:shape[0], :shape[1]].astype(np.float32)
    x, y = (u - cx) / a, (v - cy) / b
    rr = x * x + y * y
    inside = rr < 1
    z = np.sqrt(np.clip(1 - rr, 0, 1))
    n = np.stack([x, y, z], -1)
    return inside, n / np.maximum(np.linalg.norm(n, axis=-1, keepdims=True), 1e-6)


def draw_shaded_person(img: np.ndarray, rng: np.random.Generator, skin_linear: np.ndarray, shirt_rgb: np.ndarray) -> None:
    """Draw a head-and-shoulders figure into float32 sRGB `img` (H, W, 3; 0-255, in place), the head's half-height
    about a sixth of the image's. skin_linear: the skin's linear-RGB albedo (handclip.data.synth.skin.SkinTone.back).
    A figure taller than DRAW_HEIGHT px is drawn at that height and scaled up (a face that large is soft on a
    webcam anyway); the background keeps its own pixels where the figure is not."""
    h, w = img.shape[:2]
    if h <= DRAW_HEIGHT:
        _draw(img, rng, skin_linear, shirt_rgb)
        return
    size = (max(1, round(w * DRAW_HEIGHT / h)), DRAW_HEIGHT)
    small = cv2.resize(img, size, interpolation=cv2.INTER_AREA)
    before = small.copy()
    _draw(small, rng, skin_linear, shirt_rgb)
    cover = cv2.resize(np.abs(small - before).max(-1).clip(0, 1), (w, h), interpolation=cv2.INTER_LINEAR)[..., None]
    img[:] = img * (1 - cover) + cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR) * cover


def _draw(img: np.ndarray, rng: np.random.Generator, skin_linear: np.ndarray, shirt_rgb: np.ndarray) -> None:
    """draw_shaded_person at the image's own resolution."""
    h, w = img.shape[:2]
    skin_linear = np.asarray(skin_linear, np.float32)
    b = h * rng.uniform(0.14, 0.2)  # half-height of the head
    a = b * rng.uniform(0.72, 0.82)
    cx, cy = w * rng.uniform(0.4, 0.6), b * rng.uniform(1.1, 1.3)
    yaw = rng.uniform(-0.35, 0.35)  # the face's features shift towards the turned side
    light = np.array([rng.uniform(-0.8, 0.8), rng.uniform(-0.7, 0.3), 1.0])
    light = (light / np.linalg.norm(light)).astype(np.float32)
    ambient = rng.uniform(*AMBIENT)
    exposure = rng.uniform(0.8, 1.25)

    def shade(normals):
        return exposure * (ambient + (1 - ambient) * np.clip(normals @ light, 0, None))

    linear = to_linear(np.clip(img, 0, 255)).astype(np.float32)
    # shirt: shoulders from under the chin out of the frame, lit from above
    top = cy + 1.15 * b
    shoulder = a * rng.uniform(2.6, 3.2)
    pts = np.array([[cx - 0.5 * a, top - 0.1 * b], [cx + 0.5 * a, top - 0.1 * b], [cx + shoulder, top + 0.9 * b],
                    [cx + shoulder + 0.4 * a, h + 1], [cx - shoulder - 0.4 * a, h + 1], [cx - shoulder, top + 0.9 * b]],
                   np.int32)
    torso = np.zeros((h, w), np.float32)
    cv2.fillPoly(torso, [pts], 1.0, cv2.LINE_AA)
    v = np.arange(h, dtype=np.float32)[:, None, None]
    cloth = to_linear(shirt_rgb).astype(np.float32) * exposure * (0.6 + 0.4 * np.clip(1 - (v - top) / (2.5 * b), 0.3, 1))
    cloth = cloth * (1 + 0.05 * _noise((h, w), 1.5, rng))[..., None]
    linear = linear * (1 - torso[..., None]) + cloth * torso[..., None]
    # neck: a lit cylinder in the chin's shadow
    neck = _blob((h, w), (cx, cy + 1.05 * b), (0.42 * a, 0.45 * b), soft=0.15)
    du = np.clip((np.arange(w, dtype=np.float32)[None, :] - cx) / (0.42 * a), -1, 1)
    neck_n = np.stack(np.broadcast_arrays(du, np.zeros((h, 1), np.float32), np.sqrt(1 - du * du)), -1)
    neck_colour = skin_linear * (0.75 * shade(neck_n))[..., None]
    linear = linear * (1 - neck[..., None]) + neck_colour * neck[..., None]
    # ears, then the head's skin: albedo mottled at two scales, darkened and reddened in the features' hollows
    for s in (-1, 1):
        ear = _blob((h, w), (cx + s * 0.97 * a, cy + 0.05 * b), (0.17 * a, 0.3 * b), soft=0.2)
        linear = linear * (1 - ear[..., None]) + (skin_linear * exposure * (0.5 + 0.4 * (s * light[0] > 0)))[None, None] * ear[..., None]
    inside, normals = _head_normals((h, w), cx, cy, a, b)
    albedo = skin_linear * (1 + MOTTLE * _noise((h, w), 0.15 * a, rng) + GRAIN * _noise((h, w), 0.6, rng))[..., None]
    fx = cx + yaw * a  # the face's centre line
    hollow = np.zeros((h, w), np.float32)
    eye_y = cy - 0.08 * b
    for s in (-1, 1):
        hollow += 0.35 * _blob((h, w), (fx + s * 0.38 * a, eye_y), (0.26 * a, 0.16 * b), soft=0.8)
    hollow += 0.3 * _blob((h, w), (fx + np.sign(light[0] or 1) * -0.1 * a, cy + 0.25 * b), (0.07 * a, 0.2 * b), soft=0.8)
    hollow += 0.25 * _blob((h, w), (fx, cy + 0.62 * b), (0.3 * a, 0.06 * b), soft=1.0)  # under the lips
    colour = albedo * shade(normals)[..., None] * (1 - np.clip(hollow, 0, 0.6))[..., None]
    colour *= 1 + np.clip(hollow, 0, 0.6)[..., None] * np.array([0.25, -0.05, -0.05])  # warm shadows
    cheeks = sum(_blob((h, w), (fx + s * 0.45 * a, cy + 0.25 * b), (0.2 * a, 0.15 * b), soft=1.0) for s in (-1, 1))
    colour *= 1 + 0.08 * cheeks[..., None] * np.array([1.0, -0.4, -0.4])
    edge = cv2.GaussianBlur(inside.astype(np.float32), (0, 0), max(0.02 * a, 0.5))
    linear = linear * (1 - edge[..., None]) + colour * edge[..., None]
    # the features: eyes (white, iris, lid shadow), brows, nose ridge highlight, nostrils, lips
    hair = to_linear(np.asarray(HAIR[rng.integers(len(HAIR))], np.float32)).astype(np.float32)
    paint = []  # (mask, linear colour)
    for s in (-1, 1):
        ex = fx + s * 0.38 * a
        paint.append((_blob((h, w), (ex, eye_y), (0.15 * a, 0.06 * b), soft=0.4), np.array([0.55, 0.52, 0.48]) * exposure))
        paint.append((_blob((h, w), (ex + 0.03 * a * yaw, eye_y), (0.06 * a, 0.055 * b), soft=0.5),
                      to_linear(np.array(HAIR[rng.integers(3)], np.float32)) * 0.6))
        paint.append((0.8 * _blob((h, w), (ex, eye_y - 0.2 * b), (0.2 * a, 0.035 * b), -s * 0.12, soft=0.6), hair * 0.8))
    paint.append((0.5 * _blob((h, w), (fx + 0.06 * a * np.sign(light[0] or 1), cy + 0.12 * b), (0.04 * a, 0.2 * b),
                              soft=1.0), skin_linear * exposure * 1.15))
    for s in (-1, 1):
        paint.append((0.8 * _blob((h, w), (fx + s * 0.1 * a, cy + 0.35 * b), (0.05 * a, 0.03 * b), soft=0.6),
                      skin_linear * 0.15))
    lips = skin_linear * np.array([0.75, 0.42, 0.42]) * exposure
    paint.append((_blob((h, w), (fx, cy + 0.55 * b), (0.27 * a, 0.07 * b), soft=0.5), lips))
    paint.append((0.7 * _blob((h, w), (fx, cy + 0.55 * b), (0.26 * a, 0.012 * b + 0.3), soft=0.8), lips * 0.35))
    for mask, c in paint:
        mask = mask * edge
        linear = linear * (1 - mask[..., None]) + np.asarray(c, np.float32) * mask[..., None]
    # hair: a textured cap over the crown, sometimes falling down the sides
    cap = _blob((h, w), (cx, cy - 0.3 * b), (1.08 * a, 0.85 * b), soft=0.08)
    cap *= np.clip((cy - 0.32 * b + 0.25 * b * np.abs(np.arange(w, dtype=np.float32)[None, :] - cx) / a
                    - np.arange(h, dtype=np.float32)[:, None]) / (0.05 * b) + 0.5, 0, 1)
    if rng.random() < 0.4:
        for s in (-1, 1):
            cap = np.maximum(cap, _blob((h, w), (cx + s * 0.95 * a, cy + 0.5 * b), (0.25 * a, 1.2 * b), soft=0.15))
    strands = 1 + 0.25 * cv2.GaussianBlur(rng.standard_normal((h, w)).astype(np.float32), (0, 0), 0.4)
    hair_colour = hair * (shade(normals) * (0.7 + 0.3 * strands))[..., None]
    linear = linear * (1 - cap[..., None]) + hair_colour * cap[..., None]
    img[:] = cv2.GaussianBlur(to_srgb8(np.clip(linear, 0, 1)).astype(np.float32), (0, 0), max(0.004 * h, 0.4))
