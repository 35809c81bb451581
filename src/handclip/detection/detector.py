"""HandDetector: photos in, every hand out as {'box' [x, y, w, h] photo px, 'score', 'side'}; load_detector.

Each photo is letterboxed to a square canvas (canvas_size: the method's input size, or up to MAX_UPSCALE x it
for larger photos, so that their hands do not shrink below the sizes it finds best), the method gives its best
centre candidates, and these are mapped back to photo pixels, cut to the photo, thinned by NMS and limited to
`max_hands` above `min_score`. POSE_SCALE turns a detected box into the square crop the pose models were
trained on.
"""

from __future__ import annotations

import numpy as np
import torch

from handclip import preflight
from handclip.detection.boxes import nms
from handclip.detection.letterbox import letterbox

DETECTOR_METHOD = "hand_detector"
MAX_HANDS = 2
MIN_SCORE = 0.3
NMS_IOU = 0.5
# a box with more than this share of its area inside a better one is dropped too (a hand's fingers boxed again
# inside the hand's box); calibrated on held-out renders (scripts/inside_boxes_calibrate.py, docs/detector.md)
NMS_INSIDE = 0.6
# the renders the pose models learn from frame the hand's box at 45-75 % of the crop (0.6 on average)
POSE_SCALE = 1.0 / 0.6
# a 640x480 photo on a 384 px canvas rather than a 256 px one: hxp3d hands found 54 % -> 80 % with the first
# detector/cpu weights (hands ~50 px -> ~80 px), while lstm2d's 256 px frames are best left at 256
MAX_UPSCALE = 1.5


def canvas_size(shape, size: int) -> int:
    """The canvas for a photo of shape (H, W, ...): its longer side rounded up to a multiple of 32, at least
    `size` (the network's training input) and at most MAX_UPSCALE x size."""
    longer = -(-max(shape[:2]) // 32) * 32
    return int(min(max(longer, size), MAX_UPSCALE * size))


def pose_box(box) -> list[float]:
    """The square [x, y, s, s] around a detected box's centre, s = POSE_SCALE x its longer side."""
    x, y, w, h = map(float, box)
    side = POSE_SCALE * max(w, h)
    return [x + w / 2 - side / 2, y + h / 2 - side / 2, side, side]


class HandDetector:
    """A trained hand_detector method run on whole photos (arrays HWC uint8 RGB)."""

    def __init__(self, method, device: str | torch.device | None = None, batch_size: int = 16,
                 inside: float | None = NMS_INSIDE):
        self.device = device if isinstance(device, torch.device) else preflight.device(device)
        self.inside = inside  # NMS's inside_threshold (None: IoU alone)
        self.method = method.to(self.device).eval()
        self.size, self.batch_size = int(method.input_size), int(batch_size)

    @torch.no_grad()
    def detect(self, images: list[np.ndarray], max_hands: int = MAX_HANDS, min_score: float = MIN_SCORE) -> list[list[dict]]:
        """Per image, its hands best first: {'box': [x, y, w, h] photo px, 'score': float, 'side': 'left'|'right'}."""
        if max_hands < 1 or not 0.0 <= min_score <= 1.0:
            raise ValueError(f"max_hands must be >= 1 and min_score in [0, 1], got {max_hands} and {min_score}")
        found: list = [None] * len(images)
        by_canvas: dict[int, list[int]] = {}
        for i, image in enumerate(images):
            by_canvas.setdefault(canvas_size(image.shape, self.size), []).append(i)
        for canvas, members in by_canvas.items():
            for start in range(0, len(members), self.batch_size):
                batch = members[start:start + self.batch_size]
                for i, hands in zip(batch, self._detect([images[i] for i in batch], canvas, max_hands, min_score)):
                    found[i] = hands
        return found

    def _detect(self, chunk: list[np.ndarray], canvas: int, max_hands: int, min_score: float) -> list[list[dict]]:
        """detect() of photos sharing one canvas size."""
        found = []
        boxed = [letterbox(image, canvas) for image in chunk]
        canvases = torch.from_numpy(np.stack([c for c, _ in boxed])).to(self.device)
        out = {k: v.float().cpu().numpy() for k, v in self.method.predict({"image": canvases}).items()}
        kept = [self._kept(out["boxes"][j], out["scores"][j], box_map, image.shape[:2], max_hands, min_score)
                for j, (image, (_, box_map)) in enumerate(zip(chunk, boxed))]
        if "left" in out:
            left = [out["left"][j][keep] for j, (keep, _) in enumerate(kept)]
        else:  # the crop classifier: one pass over every kept hand of the chunk
            index = np.concatenate([np.full(len(keep), j) for j, (keep, _) in enumerate(kept)]).astype(np.int64)
            boxes = np.concatenate([out["boxes"][j][keep] for j, (keep, _) in enumerate(kept)]).reshape(-1, 4)
            probs = self.method.sides(canvases, torch.from_numpy(boxes).to(self.device),
                                      torch.from_numpy(index).to(self.device)).cpu().numpy()
            left = np.split(probs, np.cumsum([len(keep) for keep, _ in kept])[:-1])
        for j, (keep, photo) in enumerate(kept):
            found.append([{"box": [round(float(v), 2) for v in photo[i]], "score": round(float(out["scores"][j][k]), 4),
                           "side": "left" if left[j][i] > 0.5 else "right"} for i, k in enumerate(keep)])
        return found

    def _kept(self, boxes, scores, box_map, shape, max_hands: int, min_score: float) -> tuple[np.ndarray, np.ndarray]:
        """(indices of one image's candidates kept, best first: above min_score, not empty once cut to the photo,
        after NMS; their boxes in photo pixels cut to the photo)."""
        height, width = shape
        photo = box_map.to_photo(boxes)
        lo = np.clip(photo[:, :2], 0, [width, height])
        hi = np.clip(photo[:, :2] + photo[:, 2:], 0, [width, height])
        photo = np.concatenate([lo, hi - lo], 1)
        ok = np.flatnonzero((scores >= min_score) & (photo[:, 2] > 1) & (photo[:, 3] > 1))
        keep = ok[nms(photo[ok], scores[ok], NMS_IOU, max_hands, self.inside)]
        return keep, photo[keep]


def load_detector(name_or_path=None, device: str | torch.device | None = None, batch_size: int = 16,
                  zoo=None) -> HandDetector:
    """A HandDetector for a checkpoint .pt, a packed .safetensors or a shipped detector's name (None: the shipped
    one); a missing, damaged or non-detector file raises CheckpointError naming it."""
    from handclip.engine.checkpoint import CheckpointError
    from handclip.zoo import default_detector, load_model

    name = name_or_path if name_or_path is not None else default_detector(zoo)
    if name is None:
        raise CheckpointError("no hand detector is shipped; give --detector a hand_detector checkpoint .pt or "
                              ".safetensors (handclip train --config detector/cpu), or a box with --box / --boxes")
    try:
        method, config = load_model(name, map_location="cpu", zoo=zoo)
    except CheckpointError as err:
        raise type(err)(f"hand detector: {err}") from None
    trained = (config.get("method") or {}).get("name")
    if trained != DETECTOR_METHOD:
        raise CheckpointError(f"hand detector: {name} holds a {trained!r} model, not a {DETECTOR_METHOD}; give a "
                              f"checkpoint trained with handclip train --config detector/cpu")
    from handclip.models.fold import for_inference

    return HandDetector(for_inference(method), device=device, batch_size=batch_size)  # it never trains
