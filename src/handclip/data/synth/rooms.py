"""Procedural rooms: a one-point-perspective box whose walls show the colour word, plus furniture.

The camera looks at a back wall; side walls, floor and ceiling recede to a vanishing point. Every
pixel's surface coordinates come from that box's geometry (walls unrolled around their corners), and
one cv2.remap per material paints them, so patterns and floor planks shrink with distance. Walls
cover most of the frame, furniture (window, door, shelf with books, pictures, a whiteboard, a plant,
a desk in front, a lamp's glow) a bounded share, so 'a red room' is a room with red walls.
Words of landscapes ('mountain', 'lake') get a large window onto them; 'bright' rooms light walls
and a large window; 'dark' rooms are rooms with little light.
"""

from __future__ import annotations

import cv2
import numpy as np

from handclip.data.synth.surfaces import PLAIN_RGB, colour, surface, tint
from handclip.data.synth.textures import coords, material

FLOORS = (("wood", "brown"), ("wood", "beige"), ("tiles", "white"), ("tiles", "gray"), ("fabric", "gray"),
          ("fabric", "blue"), ("fabric", "red"), ("fabric", "beige"))
FURNITURE = ("window", "door", "shelf", "picture", "whiteboard", "plant")
MAX_FURNITURE_AREA = 0.25  # of the frame
MIN_WALLS, MAX_CEILING, MAX_TRIES = 0.6, 0.12, 12  # shares of the frame (the last try is kept regardless)


def _box_maps(rng, h: int, w: int):
    """Surface maps of the room box: (region, u, v) per pixel, region 0 back, 1 sides, 2 floor, 3 ceiling.

    (u, v) are wall-texture pixels for back and side walls (unrolled around the corners) and floor or
    ceiling texture pixels for the others.
    """
    yy, xx = coords(h, w)
    for _ in range(MAX_TRIES):  # walls (back and sides) must cover most of the frame
        vx, vy = rng.uniform(0.25, 0.75) * w, rng.uniform(0.3, 0.6) * h
        ax, ay = rng.uniform(0.25, 0.6) * w, rng.uniform(0.25, 0.5) * h  # back wall half extents
        dx, dy = xx - np.float32(vx), yy - np.float32(vy)
        sx, sy = np.abs(dx) / np.float32(ax), np.abs(dy) / np.float32(ay)
        region = np.where((sx <= 1) & (sy <= 1), 0, np.where(sy > sx, np.where(dy > 0, 2, 3), 1)).astype(np.uint8)
        if (region <= 1).mean() >= MIN_WALLS and (region == 3).mean() <= MAX_CEILING:
            break
    f = np.float32(rng.uniform(0.8, 1.3) * w)
    z = np.maximum(1 / np.maximum(np.maximum(sx, sy), 1), np.float32(0.2))  # depth, back wall = 1
    along = (1 - z) * f  # distance from the back wall, back-wall pixels
    side_u = np.float32(vx) + np.sign(dx) * (np.float32(ax) + along)
    u = np.where(region == 1, side_u, np.where(region == 0, xx, np.float32(vx) + dx * z))
    v = np.where(region == 1, np.float32(vy) + dy * z, np.where(region == 0, yy, np.float32(vy) + np.sign(dy) * (np.float32(ay) + along)))
    return region, u.astype(np.float32), v.astype(np.float32), (vx, vy, ax, ay)


def _rect(img, x0, y0, x1, y1, rgb) -> None:
    cv2.rectangle(img, (int(x0), int(y0)), (int(x1), int(y1)), tuple(float(c) for c in rgb), -1)


def _paste(img, x0, y0, x1, y1, content) -> None:
    """Paste `content` resized into the box (clipped to the image)."""
    h, w = img.shape[:2]
    x0, y0, x1, y1 = int(x0), int(y0), int(x1), int(y1)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return
    patch = cv2.resize(content, (x1 - x0, y1 - y0))
    cx0, cy0, cx1, cy1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if cx1 > cx0 and cy1 > cy0:
        img[cy0:cy1, cx0:cx1] = patch[cy0 - y0:cy1 - y0, cx0 - x0:cx1 - x0]


def _window(img, rng, box, view: str) -> None:
    """A framed window showing a landscape (or a pale sky for other rooms)."""
    x0, y0, x1, y1 = box
    frame = (235, 235, 230) if rng.random() < 0.6 else colour("brown", rng)
    t = max(2, int(0.06 * (x1 - x0)))
    _rect(img, x0 - t, y0 - t, x1 + t, y1 + t, frame)
    ww, hh = max(4, int(x1 - x0)), max(4, int(y1 - y0))
    _paste(img, x0, y0, x1, y1, surface(view, rng, (hh, ww)))
    if rng.random() < 0.6:  # mullions
        _rect(img, (x0 + x1) / 2 - t / 2, y0, (x0 + x1) / 2 + t / 2, y1, frame)


def _furniture(img, rng, kind: str, box, floor_y: float) -> None:
    """Draw one piece of furniture into `box` (x0, y0, x1, y1) on the back wall."""
    x0, y0, x1, y1 = box
    if kind == "window":
        _window(img, rng, box, "sky blue" if rng.random() < 0.5 else ("mountain", "lake")[rng.integers(2)])
    elif kind == "door":
        wood = colour(("brown", "white", "beige", "gray")[rng.integers(4)], rng)
        _rect(img, x0, y0, x1, floor_y, wood * 0.8)
        _rect(img, x0 + 3, y0 + 3, x1 - 3, floor_y, wood)
        cv2.circle(img, (int(x1 - 0.15 * (x1 - x0)), int((y0 + floor_y) / 2 + 10)), 2, (200.0, 190.0, 120.0), -1)
    elif kind == "shelf":
        board = colour(("brown", "white", "beige")[rng.integers(3)], rng)
        rows = int(rng.integers(2, 5))
        step = (y1 - y0) / rows
        palette = [tuple(float(c) for c in colour(k, rng)) for k in rng.permutation(list(PLAIN_RGB))[:5]]
        for r in range(rows):
            top = y0 + r * step
            widths = rng.uniform(0.02, 0.06, 40) * (x1 - x0) + 2
            lefts = x0 + np.cumsum(widths + 1) - widths - 1
            heights = top + rng.uniform(0.1, 0.35, 40) * step
            for x, bw, y, k in zip(lefts[lefts < x1], widths, heights, rng.integers(0, 5, 40)):
                cv2.rectangle(img, (int(x), int(y)), (int(min(x + bw, x1)), int(top + step)), palette[k], -1)
            _rect(img, x0, top + step - max(2, 0.08 * step), x1, top + step, board)
    elif kind == "picture":
        _rect(img, x0 - 3, y0 - 3, x1 + 3, y1 + 3, colour(("black", "brown", "white")[rng.integers(3)], rng))
        art = ("mountain", "lake", "flower", "dotted")[rng.integers(4)] if rng.random() < 0.6 else list(PLAIN_RGB)[rng.integers(13)]
        _paste(img, x0, y0, x1, y1, surface(art, rng, (max(4, int(y1 - y0)), max(4, int(x1 - x0)))))
    elif kind == "whiteboard":
        _rect(img, x0 - 2, y0 - 2, x1 + 2, y1 + 2, (170.0, 170.0, 175.0))
        _rect(img, x0, y0, x1, y1, (232.0, 234.0, 236.0))
        for _ in range(int(rng.integers(2, 7))):  # marker scribbles
            n = int(rng.integers(3, 8))
            pts = np.stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)], 1).astype(np.int32)
            ink = colour(("blue", "red", "black", "green")[rng.integers(4)], rng)
            cv2.polylines(img, [pts], False, tuple(float(c) for c in ink), 1, cv2.LINE_AA)
    elif kind == "plant":
        pot = colour(("brown", "white", "gray", "orange")[rng.integers(4)], rng)
        _rect(img, x0 + 0.3 * (x1 - x0), floor_y - 0.3 * (floor_y - y0), x1 - 0.3 * (x1 - x0), floor_y, pot)
        leaf = colour("green", rng)
        cx, top = (x0 + x1) / 2, floor_y - 0.3 * (floor_y - y0)
        for _ in range(int(rng.integers(8, 16))):
            a = rng.uniform(-2.6, -0.5)
            r = rng.uniform(0.2, 0.5) * (x1 - x0)
            c = (int(cx + r * np.cos(a)), int(top + r * np.sin(a)))
            shade = tuple(float(v) for v in leaf * rng.uniform(0.6, 1.1))
            cv2.ellipse(img, c, (max(2, int(r * 0.5)), max(1, int(r * 0.18))), np.degrees(a), 0, 360, shade, -1, cv2.LINE_AA)


def _desk(img, rng, h: int, w: int) -> None:
    """A desk or table edge across the bottom of the frame, wood or plain, with a thing or two on it."""
    top = int(h * rng.uniform(0.82, 0.93))
    rgb = colour(("brown", "beige", "white", "gray", "black")[rng.integers(5)], rng)
    img[top:] = tint(material("wood", rng, (h - top, w)), rgb) if rng.random() < 0.6 else rgb
    for _ in range(int(rng.integers(0, 3))):
        x, bw = rng.uniform(0, w), rng.uniform(0.05, 0.2) * w
        bh = rng.uniform(0.05, 0.2) * h
        _rect(img, x, top - bh, x + bw, top + 2, colour(list(PLAIN_RGB)[rng.integers(13)], rng))


def room(word: str, rng: np.random.Generator, shape: tuple[int, int], texture: float = 0.5) -> np.ndarray:
    """A furnished room whose walls show colour word `word`, float32 sRGB (h, w, 3)."""
    if word == "dark":  # a room with little light: any room, dimmed
        return room(list(PLAIN_RGB)[rng.integers(len(PLAIN_RGB))], rng, shape, texture) * np.float32(rng.uniform(0.12, 0.25))
    h, w = shape
    region, u, v, (vx, vy, ax, ay) = _box_maps(rng, h, w)
    wall_word = word if word not in ("mountain", "lake") else ("white", "beige", "gray", "sky blue")[rng.integers(4)]
    wall = surface(wall_word, rng, (h, w), texture)
    floor_name, floor_word = FLOORS[rng.integers(len(FLOORS))]
    floor = tint(material(floor_name, rng, (h, w)), colour(floor_word, rng))
    ceiling = np.full((h, w, 3), 225, np.float32)
    walls = cv2.remap(wall, u, v, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
    ground = cv2.remap(floor, u, v, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
    light = np.array([1.0, rng.uniform(0.82, 0.97), rng.uniform(0.7, 0.95), rng.uniform(0.95, 1.05)], np.float32)
    gain = light[region]
    img = np.where((region == 2)[..., None], ground, np.where((region == 3)[..., None], ceiling, walls))
    img *= cv2.merge([gain, gain, gain])
    # furniture on the back wall, bounded in area; the word's own window drawn last, on top
    bx0, by0, bx1, by1 = vx - ax, vy - ay, vx + ax, vy + ay
    area = 0.0
    for kind in rng.permutation(FURNITURE)[: int(rng.integers(1, 4))]:
        fw, fh = rng.uniform(0.15, 0.45) * 2 * ax, rng.uniform(0.2, 0.6) * 2 * ay
        if area + fw * fh / (h * w) > MAX_FURNITURE_AREA:
            continue
        x0 = rng.uniform(bx0, bx1 - fw)
        y0 = by1 - fh if kind in ("door", "plant") else rng.uniform(by0, by1 - fh)
        _furniture(img, rng, str(kind), (x0, y0, x0 + fw, y0 + fh), by1)
        area += fw * fh / (h * w)
    if word in ("mountain", "lake", "bright"):  # the word's view through a large window
        ww, wh = rng.uniform(0.55, 0.8) * 2 * ax, rng.uniform(0.5, 0.75) * 2 * ay
        x0, y0 = rng.uniform(bx0, bx1 - ww), rng.uniform(by0, by1 - wh) * 0.9
        _window(img, rng, (x0, y0, x0 + ww, y0 + wh), word if word != "bright" else "sky blue")
        if word == "bright":
            img = img * np.float32(0.5) + np.float32(128)  # a bright window fills the room with light
    if rng.random() < 0.35:
        _desk(img, rng, h, w)
    if rng.random() < 0.3:  # a lamp's glow
        yy, xx = coords(h, w)
        cx, cy, r = rng.uniform(0, w), rng.uniform(0, h / 2), rng.uniform(0.1, 0.3) * w
        glow = np.float32(rng.uniform(40, 90)) * np.exp(-((xx - np.float32(cx)) ** 2 + (yy - np.float32(cy)) ** 2) / np.float32(r * r))
        img += cv2.merge([glow, glow * np.float32(0.92), glow * np.float32(0.75)])
    return img
