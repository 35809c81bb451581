"""A pre-rendered cache of full frames for the hand detector ('synth_full_cache'), so no step waits on the renderer.

`build_dataset("synth_full_cache", domains={"texture": 0.5, "webcam": 0.5}, n=..., render_width=320)` renders the
mixture of 'synth_full' frames once (worker processes, tqdm) into `root` (default: a folder keyed by the
settings and the renderer fingerprint under the cache dir):

    meta.json    what was rendered (domains and counts, frame size, seed, renderer fingerprint)
    images.npy   uint8 (N, H, W, 3) frames, read by memory map
    hands.npz    boxes (N, MAX_HANDS, 4) px, left, palm, valid (N, MAX_HANDS), domain (N,)

A sample is one frame letterboxed into a `size` px square canvas (handclip.detection.letterbox), with its
hands padded to MAX_HANDS: 'image' uint8 (S, S, 3), 'boxes' float32 (MAX_HANDS, 4) canvas px, 'left',
'palm' (the palm faces the camera: handclip.detection.side_cues), 'hand_valid', 'ignore' bool (MAX_HANDS,).
With augmentation the frame is zoomed and placed at random (cut or padded), mirrored (left and right hands
swap, palms stay), given a face clear of its hands (handclip.data.face_negatives) and colour-jittered; a hand
left less than half inside the canvas, or smaller than MIN_SIDE px, is marked 'ignore' (neither a hand nor
background to the loss).
Frame k of domain d is ('synth_full', d, seed, k): the pixels build_dataset("synth_full", ...) gives.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from handclip.data import register
from handclip.data.face_negatives import STYLES, add_face
from handclip.data.synth.cache import (cache_folder, domain_jobs, read_cache, renderer_fingerprint, rendered,
                                      split_counts)
from handclip.data.synth.full import SynthFrames
from handclip.data.transforms import Augment
from handclip.detection.letterbox import letterbox

FORMAT = "handclip-synth-full-cache/2"  # 2: per-hand palm flags
MAX_HANDS = 4  # hand slots per sample; the renderer draws one or two
MIN_SIDE = 6.0  # px on the canvas: smaller hands are ignored rather than learnt
KEEP = 0.5  # a hand cut by the canvas stays a hand while this fraction of its box is inside
COLOUR_KEYS = ("brightness", "contrast", "saturation", "hue")


@dataclass
class FrameAugment:
    """Random zoom (factor of the letterbox scale, log-uniform), placement, mirroring, a face negative drawn in
    with probability `faces` (in `face_style`: handclip.data.face_negatives.STYLES), and colour jitter."""

    zoom: tuple[float, float] = (0.5, 1.6)
    flip: float = 0.5
    faces: float = 0.0
    face_style: str = "flat"
    colour: Augment = field(default_factory=lambda: Augment(scale=(1.0, 1.0), shift=0.0, rotation=0.0))

    @classmethod
    def from_config(cls, cfg) -> "FrameAugment | None":
        """None/False -> none, True -> defaults, a dict of zoom, flip, faces, face_style and colour keys -> those
        overridden."""
        if not cfg:
            return None
        cfg = {} if cfg is True else dict(cfg)
        unknown = set(cfg) - {"zoom", "flip", "faces", "face_style", *COLOUR_KEYS}
        if unknown:
            raise ValueError(f"synth_full_cache: unknown augmentation keys {sorted(unknown)}; known: zoom, flip, "
                             f"faces, face_style, {', '.join(COLOUR_KEYS)}")
        colour = Augment(scale=(1.0, 1.0), shift=0.0, rotation=0.0, **{k: cfg[k] for k in COLOUR_KEYS if k in cfg})
        faces = float(cfg.get("faces", cls.faces))
        if not 0.0 <= faces <= 1.0:
            raise ValueError(f"synth_full_cache: augment.faces is a probability in [0, 1], got {faces}")
        style = str(cfg.get("face_style", cls.face_style))
        if style not in STYLES:
            raise ValueError(f"synth_full_cache: augment.face_style is one of {STYLES}, got {style!r}")
        return cls(tuple(cfg.get("zoom", cls.zoom)), float(cfg.get("flip", cls.flip)), faces, style, colour)


def _render(job: tuple) -> tuple[int, dict]:
    """Worker: frame `index` of one domain."""
    slot, domain, count, width, height, seed, index = job
    return slot, SynthFrames(domain=domain, n=count, width=width, height=height, seed=seed)[index]


def build_frames_cache(root, domains: dict, n: int, width: int, height: int, seed: int = 0, workers: int = 2) -> Path:
    """Render the mixture into `root` (created) and return it; a complete cache of the same settings is kept.

    root None: a folder under $HANDCLIP_CACHE (or ~/.cache/handclip)/synth_full named by the settings and the
    renderer's fingerprint, so a changed renderer renders anew instead of reusing stale pixels."""
    counts = split_counts(domains, n)
    for name in counts:  # a bad frame size fails here, not in a worker
        SynthFrames(domain=name, n=1, width=width, height=height)
    meta = {"format": FORMAT, "domains": counts, "n": int(n), "width": int(width), "height": int(height),
            "seed": int(seed), "renderer": renderer_fingerprint()}
    root, complete = cache_folder(root, meta, "synth_full_cache", "synth_full", f"{'+'.join(counts)}-{n}-{width}x{height}")
    if complete:
        return root
    images = np.lib.format.open_memmap(root / "images.partial.npy", "w+", np.uint8, (n, height, width, 3))
    boxes = np.zeros((n, MAX_HANDS, 4), np.float32)
    left, palm, valid = (np.zeros((n, MAX_HANDS), bool) for _ in range(3))
    jobs, dom = domain_jobs(counts, width, height, seed)
    for slot, s in rendered(_render, jobs, workers, f"render frames {root.name}"):
        images[slot] = s["image"]
        for j, hand in enumerate(s["hands"][:MAX_HANDS]):
            boxes[slot, j], left[slot, j], palm[slot, j] = hand["box"], hand["side"] == "left", hand["palm"]
            valid[slot, j] = True
    images.flush()
    np.savez(root / "hands.npz", boxes=boxes, left=left, palm=palm, valid=valid, domain=dom)
    (root / "images.partial.npy").rename(root / "images.npy")
    (root / "meta.json").write_text(json.dumps(meta, indent=1))  # written last: its presence means complete
    return root


def place_hands(boxes: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Canvas boxes (M, 4) cut to the canvas, and which to ignore: less than KEEP of the box inside, or a
    side under MIN_SIDE px once cut. The canvas spans [-0.5, size - 0.5] (pixel centres at integers)."""
    lo = np.clip(boxes[:, :2], -0.5, size - 0.5)
    hi = np.clip(boxes[:, :2] + boxes[:, 2:], -0.5, size - 0.5)
    cut = np.concatenate([lo, hi - lo], 1)
    inside = np.prod(cut[:, 2:], 1) / np.maximum(np.prod(boxes[:, 2:], 1), 1e-9)
    return cut.astype(np.float32), (inside < KEEP) | (cut[:, 2:].min(1) < MIN_SIDE)


class SynthFullCache(torch.utils.data.Dataset):
    """The cached frames as letterboxed detector samples (see the module docstring)."""

    def __init__(self, domains: dict, n: int, root=None, size: int = 256, render_width: int = 320,
                 render_height: int | None = None, seed: int = 0, workers: int = 2, augment=None):
        render_height = render_height or round(render_width * 3 / 4)
        self.size, self.augment = int(size), FrameAugment.from_config(augment)
        self.root = build_frames_cache(root, domains, n, render_width, render_height, seed, workers)
        self.meta, self.images, self.hands = read_cache(self.root, FORMAT, "hands.npz")
        self.domain_names = list(self.meta["domains"])

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> dict:
        image, boxes = np.asarray(self.images[index]), self.hands["boxes"][index].copy()
        left, palm, valid = self.hands["left"][index].copy(), self.hands["palm"][index], self.hands["valid"][index]
        height, width = image.shape[:2]
        scale, offset, rng = None, None, None
        if self.augment is not None:
            rng = np.random.default_rng(int(torch.randint(2**31 - 1, ()).item()))
            if rng.random() < self.augment.flip:
                image, left = image[:, ::-1], ~left
                boxes[:, 0] = width - 1 - boxes[:, 0] - boxes[:, 2]
            if self.augment.faces and rng.random() < self.augment.faces:
                image = add_face(image, boxes[valid], rng, self.augment.face_style)
            scale = self.size / max(height, width) * float(np.exp(rng.uniform(*np.log(self.augment.zoom))))
            span = np.array([self.size - round(width * scale), self.size - round(height * scale)])
            offset = np.round(rng.uniform(np.minimum(span, 0), np.maximum(span, 0))).astype(int)
        canvas, box_map = letterbox(np.ascontiguousarray(image), self.size, scale, offset)
        if rng is not None:
            canvas = self.augment.colour.colour(canvas, rng)
        placed, ignore = place_hands(box_map.to_canvas(boxes), self.size)
        return {"image": canvas, "boxes": np.where(valid[:, None], placed, 0).astype(np.float32), "left": left & valid,
                "palm": palm & valid, "hand_valid": valid.copy(), "ignore": ignore & valid, "index": int(index),
                "domain": self.domain_names[int(self.hands["domain"][index])]}


@register("synth_full_cache")
def build_synth_full_cache(domains: dict, n: int, root=None, size: int = 256, render_width: int = 320,
                           render_height: int | None = None, seed: int = 0, workers: int = 2,
                           augment=None) -> SynthFullCache:
    """Factory of build_dataset('synth_full_cache', ...): renders the cache on first use, then reads it."""
    return SynthFullCache(domains, n, root=root, size=size, render_width=render_width, render_height=render_height,
                          seed=seed, workers=workers, augment=augment)
