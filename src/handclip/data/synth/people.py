"""A person behind the hand: head (face, hair), neck and shoulders in a shirt.

Webcam pictures of hands show the body they belong to, and a face is a hand detector's commonest false
positive, so rooms of some domains get one: a shaded skin-toned head with eyes, brows, nose, ears and mouth,
hair, and a torso in a shirt, out of focus with the rest of the background, covering at most 35 % of the
frame. A `near` person is the hand's owner close behind it, as in a webcam selfie: the head about the hand's
size or larger, anywhere beside or behind it, drawn at full resolution in front of any backdrop, covering
at most half the frame, so the backdrop's colour word still holds.
"""

from __future__ import annotations

import cv2
import numpy as np

from handclip.data.synth.surfaces import colour

HAIR = ((30, 24, 20), (60, 40, 28), (110, 76, 44), (170, 130, 80), (200, 190, 170))
MAX_AREA = {False: 0.35, True: 0.5}  # of the frame, by `near`
HEAD = {False: (0.14, 0.24), True: (0.28, 0.5)}  # half-height of the head over the frame's height


def _fill(rgb) -> tuple:
    """An OpenCV colour from an RGB array."""
    return tuple(float(c) for c in rgb)


def draw_person(img: np.ndarray, rng: np.random.Generator, skin_rgb: np.ndarray, shirt_rgb: np.ndarray,
                near: bool = False) -> None:
    """Draw a person into float32 sRGB `img` (in place): head of `skin_rgb`, shirt of `shirt_rgb`; `near`: close
    behind the hand (module docstring)."""
    h, w = img.shape[:2]
    head = rng.uniform(*HEAD[near]) * h  # half-height of the head
    cx, cy = rng.uniform(0.15, 0.85) * w, rng.uniform(0.25, 0.5 if not near else 0.65) * h
    widen = rng.uniform(0.9, 1.15)
    for _ in range(6):  # shrink until the figure stays within its share of the frame
        top = cy + 0.9 * head  # the chin; shoulders below it
        shoulder = 4.6 * head * widen
        area = (np.pi * 0.75 * head * head + (shoulder + 0.6 * head) * max(0.0, h - top)) / (h * w)
        if area <= MAX_AREA[near]:
            break
        head *= 0.85
    # torso: a rounded trapezoid from the shoulders down out of the frame
    pts = np.array([[cx - 0.45 * head, top], [cx + 0.45 * head, top], [cx + shoulder / 2, top + 1.1 * head],
                    [cx + shoulder / 2 + 0.3 * head, h + 1], [cx - shoulder / 2 - 0.3 * head, h + 1],
                    [cx - shoulder / 2, top + 1.1 * head]], np.int32)
    cv2.fillPoly(img, [pts], _fill(shirt_rgb), cv2.LINE_AA)
    neck = (int(0.3 * head), int(0.5 * head))
    cv2.ellipse(img, (int(cx), int(top + 0.2 * head)), neck, 0, 0, 360, _fill(skin_rgb * 0.85), -1, cv2.LINE_AA)
    # head: skin ellipse, lit from one side
    axes = (int(0.75 * head), int(head))
    side = rng.choice([-1, 1])
    for s in (-1, 1):  # ears, the far one in shade
        cv2.ellipse(img, (int(cx + s * 0.74 * head), int(cy + 0.05 * head)), (int(0.13 * head), int(0.24 * head)), 0, 0,
                    360, _fill(skin_rgb * (0.8 if s == side else 0.95)), -1, cv2.LINE_AA)
    cv2.ellipse(img, (int(cx), int(cy)), axes, 0, 0, 360, _fill(skin_rgb), -1, cv2.LINE_AA)
    cv2.ellipse(img, (int(cx + side * 0.35 * head), int(cy)), (int(0.45 * head), int(0.95 * head)), 0, 0, 360,
                _fill(skin_rgb * 0.85), -1, cv2.LINE_AA)
    hair = np.asarray(HAIR[rng.integers(len(HAIR))], float)
    cv2.ellipse(img, (int(cx), int(cy - 0.25 * head)), (int(0.82 * head), int(0.85 * head)), 0, 180, 360,
                _fill(hair), -1, cv2.LINE_AA)
    if rng.random() < 0.4:  # long hair down the sides
        for s in (-1, 1):
            cv2.ellipse(img, (int(cx + s * 0.7 * head), int(cy + 0.4 * head)), (int(0.22 * head), int(1.1 * head)),
                        0, 0, 360, _fill(hair), -1, cv2.LINE_AA)
    # nose: a shaded ridge and nostrils; eyes, brows, mouth
    nose = (int(cx + side * 0.06 * head), int(cy + 0.25 * head))
    cv2.line(img, (int(cx + side * 0.08 * head), int(cy)), nose, _fill(skin_rgb * 0.8), max(1, int(0.05 * head)),
             cv2.LINE_AA)
    cv2.ellipse(img, (int(cx), nose[1]), (int(0.13 * head), max(1, int(0.04 * head))), 0, 0, 180,
                _fill(skin_rgb * 0.6), max(1, int(0.03 * head)), cv2.LINE_AA)
    eye = max(1, int(0.09 * head))
    for s in (-1, 1):
        ex, ey = int(cx + s * 0.3 * head), int(cy - 0.05 * head)
        cv2.ellipse(img, (ex, ey), (int(1.6 * eye), eye), 0, 0, 360, (235.0, 235.0, 230.0), -1, cv2.LINE_AA)
        cv2.circle(img, (ex, ey), eye, (40.0, 30.0, 25.0), -1, cv2.LINE_AA)
        cv2.line(img, (ex - 2 * eye, ey - 2 * eye), (ex + 2 * eye, ey - 2 * eye - s), _fill(hair * 0.8), max(1, eye // 2 + 1),
                 cv2.LINE_AA)
    cv2.ellipse(img, (int(cx), int(cy + 0.45 * head)), (int(0.22 * head), max(1, int(0.05 * head))), 0, 0, 360,
                _fill(skin_rgb * np.array([0.75, 0.5, 0.5])), -1, cv2.LINE_AA)


def shirt(rng: np.random.Generator) -> np.ndarray:
    """A shirt colour: any plain colour word, muted."""
    names = ("white", "black", "gray", "blue", "red", "green", "beige", "brown", "purple", "sky blue", "pink", "yellow")
    return colour(names[rng.integers(len(names))], rng) * np.float32(rng.uniform(0.7, 1.0))
