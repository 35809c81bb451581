"""HandDetector: photos in, every hand out as {'box' [x, y, w, h] photo px, 'score', 'side'}; load_detector.

Each photo is letterboxed to the method's input size, the method gives its best centre candidates, and
these are mapped back to photo pixels, cut to the photo, thinned by NMS and limited to `max_hands` above
`min_score`. POSE_SCALE turns a detected box into the square crop the pose models were trained on.
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
# the renders the pose models learn from frame the hand's box at 45-75 % of the crop (0.6 on average)
POSE_SCALE = 1.0 / 0.6


def pose_box(box) -> list[float]:
    """The square [x, y, s, s] around a detected box's centre, s = POSE_SCALE x its longer side."""
    x, y, w, h = map(float, box)
    side = POSE_SCALE * max(w, h)
    return [x + w / 2 - side / 2, y + h / 2 - side / 2, side, side]


class HandDetector:
    """A trained hand_detector method run on whole photos (arrays HWC uint8 RGB)."""

    def __init__(self, method, device: str | torch.device | None = None, batch_size: int = 16):
        self.device = device if isinstance(device, torch.device) else preflight.device(device)
        self.method = method.to(self.device).eval()
        self.size, self.batch_size = int(method.input_size), int(batch_size)

    @torch.no_grad()
    def detect(self, images: list[np.ndarray], max_hands: int = MAX_HANDS, min_score: float = MIN_SCORE) -> list[list[dict]]:
        """Per image, its hands best first: {'box': [x, y, w, h] photo px, 'score': float, 'side': 'left'|'right'}."""
        if max_hands < 1 or not 0.0 <= min_score <= 1.0:
            raise ValueError(f"max_hands must be >= 1 and min_score in [0, 1], got {max_hands} and {min_score}")
        found = []
        for start in range(0, len(images), self.batch_size):
            chunk = images[start:start + self.batch_size]
            boxed = [letterbox(image, self.size) for image in chunk]
            canvases = torch.from_numpy(np.stack([canvas for canvas, _ in boxed])).to(self.device)
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

    @staticmethod
    def _kept(boxes, scores, box_map, shape, max_hands: int, min_score: float) -> tuple[np.ndarray, np.ndarray]:
        """(indices of one image's candidates kept, best first: above min_score, not empty once cut to the photo,
        after NMS; their boxes in photo pixels cut to the photo)."""
        height, width = shape
        photo = box_map.to_photo(boxes)
        lo = np.clip(photo[:, :2], 0, [width, height])
        hi = np.clip(photo[:, :2] + photo[:, 2:], 0, [width, height])
        photo = np.concatenate([lo, hi - lo], 1)
        ok = np.flatnonzero((scores >= min_score) & (photo[:, 2] > 1) & (photo[:, 3] > 1))
        keep = ok[nms(photo[ok], scores[ok], NMS_IOU, max_hands)]
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
    return HandDetector(method, device=device, batch_size=batch_size)
