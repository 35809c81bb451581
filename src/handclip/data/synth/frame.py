"""Full-frame scenes for a hand detector: one or two hands at realistic scales in a 320-640 px frame.

A frame holds one hand (60 %) or two (40 %; two hands of one person are a left and a right one 80 % of
the time). Each hand's box (the projected hand mesh and all 21 joints) spans 10-70 % of the frame width
(log-uniform: small hands are common), lies wholly inside the frame and overlaps the other hand's box
by at most IoU 0.2. Left hands are mirrored right hands (x -> -x before placing), so their labels are
exact left-hand labels. The camera is a wide one (focal 0.7-1.2 frame widths), the style a domain's.
"""

from __future__ import annotations

import numpy as np

from handclip.data.synth.appearance import photograph
from handclip.data.synth.domains import sample_style
from handclip.data.synth.scene import PosedHand, limb, pose_hand, visible
from handclip.geometry import project
from handclip.skeleton import mirror_xyz
from handclip.detection.boxes import iou_matrix
from handclip.detection.side_cues import palm_facing

WIDTHS = (320, 640)  # frame widths the renderer supports
BOX_FRACTION = (0.1, 0.7)  # box width over frame width
TWO_HANDS, PAIRED = 0.4, 0.8
MAX_IOU, TRIES = 0.2, 12


def mirrored(posed: PosedHand) -> PosedHand:
    """A right hand seen in a mirror: a left hand (every point and normal x -> -x)."""
    return PosedHand(mirror_xyz(posed.hand), mirror_xyz(posed.joints), mirror_xyz(posed.arm), mirror_xyz(posed.arm_normals))


def frame_intrinsics(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """A wide camera: focal 0.7-1.2 frame widths (FOV 45-71 deg), principal point near the centre."""
    f = rng.uniform(0.7, 1.2) * width
    c = np.array([(width - 1) / 2, (height - 1) / 2]) + rng.normal(0, 0.01 * width, 2)
    return np.array([[f, 0, c[0]], [0, f, c[1]], [0, 0, 1.0]])


def hand_box(posed: PosedHand, K: np.ndarray) -> np.ndarray:
    """[x, y, w, h] of the projected hand mesh and joints (pixel centres at integers), rounded outwards to
    1/64 px so that x + w and y + h stay exact in float32 and the box holds every joint there too."""
    uv = project(np.concatenate([posed.hand, posed.joints]), K)
    lo, hi = np.floor(uv.min(0) * 64) / 64, np.ceil(uv.max(0) * 64) / 64
    return np.r_[lo, hi - lo]


def place(posed: PosedHand, K: np.ndarray, width: int, height: int, fraction: float, rng: np.random.Generator,
          others: list) -> PosedHand | None:
    """Move a wrist-centred hand so its box is `fraction` of the frame width, inside the frame, overlapping
    no box of `others` by more than MAX_IOU; None when no such place turns up in TRIES draws."""
    f = K[0, 0]
    extent = np.ptp(posed.hand[:, 0]) + 1e-6
    t = np.array([0.0, 0.0, f * extent / (fraction * width) - posed.hand[:, 2].min() + extent / 2])
    for _ in range(2):  # perspective: correct the depth from the projected box
        box = hand_box(posed.moved(t), K)
        t[2] = max(t[2] * box[2] / (fraction * width), 150.0 - posed.hand[:, 2].min())
    for _ in range(TRIES):
        box = hand_box(posed.moved(t), K)
        if box[2] >= width - 1 or box[3] >= height - 1:
            return None
        target = rng.uniform([0, 0], [width - 1 - box[2], height - 1 - box[3]])
        shift = t.copy()
        for _ in range(3):  # bring the box's corner to the target and its width back to the fraction
            box = hand_box(posed.moved(shift), K)
            shift[:2] += (target - box[:2]) * shift[2] / f
            box = hand_box(posed.moved(shift), K)
            shift *= box[2] / (fraction * width)  # scaling about the camera keeps the box's place
        box = hand_box(posed.moved(shift), K)
        inside = box[0] >= 0 and box[1] >= 0 and box[0] + box[2] <= width - 1 and box[1] + box[3] <= height - 1
        scale_ok = BOX_FRACTION[0] <= box[2] / width <= BOX_FRACTION[1]
        if inside and scale_ok and (not others or iou_matrix(box, np.asarray(others)).max() <= MAX_IOU):
            return posed.moved(shift)
    return None


def render_frame(domain: str, rng: np.random.Generator, width: int = 480, height: int | None = None,
                 side: str = "both", style: dict | None = None) -> dict:
    """A full frame: image (h, w, 3), mask, K, style and 'hands', each {'side', 'palm', 'box', 'xyz', 'uv',
    'valid'}.

    `side`: 'right' or 'left' for hands of that side only, 'both' to draw each hand's side; `style`
    fixes style words ({'color': 'flower'}).
    """
    height = height or round(width * 3 / 4)
    if not (WIDTHS[0] <= width <= WIDTHS[1] and WIDTHS[0] // 2 <= height <= WIDTHS[1]):
        raise ValueError(f"synth_full: frame width must be in {WIDTHS} and height in [{WIDTHS[0] // 2}, {WIDTHS[1]}] px, "
                         f"got {width}x{height}")
    K = frame_intrinsics(rng, width, height)
    count = 2 if rng.random() < TWO_HANDS else 1
    first = ("left", "right")[rng.integers(2)] if side == "both" else side
    sides = [first]
    if count == 2:
        other = {"left": "right", "right": "left"}[first] if rng.random() < PAIRED else first
        sides.append(other if side == "both" else side)
    placed, boxes, kept = [], [], []
    for s in sides:
        posed = pose_hand(rng)
        posed = mirrored(posed) if s == "left" else posed
        fraction = float(np.exp(rng.uniform(*np.log(BOX_FRACTION))))
        # a hand too tall for the frame at its drawn scale tries smaller ones; the first always finds room
        for scale in (fraction, fraction / 2, BOX_FRACTION[0] * 1.05) if not placed else (fraction,):
            at = place(posed, K, width, height, scale, rng, boxes)
            if at is not None:
                break
        if at is not None:
            placed.append(at)
            boxes.append(hand_box(at, K))
            kept.append(s)
    style = sample_style(domain, rng, width, style)
    shot = photograph([limb(p, mirrored=s == "left") for p, s in zip(placed, kept)], style, K, (height, width), rng)
    hands = []
    for p, s, box in zip(placed, kept, boxes):
        uv = project(p.joints, K)
        hands.append({"side": s, "palm": bool(palm_facing(p.joints, s == "left")), "box": box.astype(np.float32),
                      "xyz": p.joints.astype(np.float32), "uv": uv.astype(np.float32),
                      "valid": visible(uv, p.joints[:, 2], shot.cover, (height, width))})
    return {"image": shot.image, "mask": shot.mask, "K": K.astype(np.float32), "hands": hands, "style": dict(style.words)}
