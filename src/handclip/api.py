"""The Python API: `handclip.load(ckpt).predict(images)` turns photos into 3D hand joints (and meshes).

Each image is cropped to the square box around the given hand box (or the whole image), left hands
are mirrored into right hands for the model and mirrored back, and keypoints are mapped back to the
original image's pixels. With a hand detector (`load(..., detector=...)`, the shipped one by default),
`Predictor.hands(images)` finds every hand's box and side first and predicts each. A model trained on mirrored
crops as well (`reads_either_hand`) reads each detected hand as photographed, and the hand's side is then the
chirality of its predicted skeleton rather than the detector's guess.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import torch

from handclip import preflight
from handclip.geometry import apply_affine, crop_image, crop_K
from handclip.skeleton import mirror_image, mirror_K, mirror_uv, mirror_xyz

# focal length of the nominal camera (in crop widths) used when the caller gives no intrinsics;
# only methods that lift uv + depth to xyz look at K, and the output stays wrist-relative anyway
NOMINAL_FOCAL = 2.0
LOOK_KEYS = ("xyz", "uv", "verts", "confidence")  # what a prediction answers per hand


def read_image(source) -> np.ndarray:
    """An RGB uint8 HWC array from a path (upright by its EXIF orientation) or an array (greyscale expanded,
    alpha dropped)."""
    if isinstance(source, (str, Path)):
        from handclip.data.io import load_image

        return load_image(source, upright=True)
    image = np.asarray(source)
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, -1)
    if image.ndim != 3 or image.shape[2] not in (3, 4) or image.dtype != np.uint8:
        raise ValueError(f"images must be uint8 HxWx3 RGB arrays, got {image.dtype} {image.shape}")
    return np.ascontiguousarray(image[..., :3])


def box_to_square(box, image_shape) -> tuple[float, float, float]:
    """(cx, cy, side) of the square around box (x, y, w, h) in px; None means the whole image. A box needs
    finite numbers, a positive size and some overlap with the image; one reaching past the image warns
    (the part outside is cropped as black)."""
    height, width = image_shape[:2]
    if box is None:
        box = (0, 0, width, height)
    x, y, w, h = map(float, box)
    if not all(math.isfinite(v) for v in (x, y, w, h)) or w <= 0 or h <= 0:
        raise ValueError(f"box (x, y, w, h) needs finite numbers and positive width and height, got {tuple(box)}")
    if x >= width or y >= height or x + w <= 0 or y + h <= 0:
        raise ValueError(f"box {tuple(box)} lies outside the {width}x{height} image; give x, y, w, h in its pixels")
    if x < 0 or y < 0 or x + w > width or y + h > height:
        warnings.warn(f"box {tuple(box)} reaches past the {width}x{height} image; the part outside is black in the "
                      f"crop", stacklevel=2)
    # pixel centres at integers: the box covers [x - 0.5, x + w - 0.5]
    return x + w / 2 - 0.5, y + h / 2 - 0.5, max(w, h)


def invert_affine(A: np.ndarray) -> np.ndarray:
    """The 2x3 affine undoing the 2x3 affine A."""
    M = np.linalg.inv(A[:, :2])
    return np.hstack([M, -M @ A[:, 2:]])


def _per_image(value, n: int, name: str, single) -> list:
    """Broadcast one value (None or single(value) true) to n images, or check a per-image list has n entries."""
    if value is None or single(value):
        return [value] * n
    value = list(value)
    if len(value) != n:
        raise ValueError(f"{name}: got {len(value)} entries for {n} images")
    return value


def _is_box(v) -> bool:
    """True for one (x, y, w, h) box."""
    return isinstance(v, (tuple, list, np.ndarray)) and len(v) == 4 and all(np.isscalar(x) for x in v)


def reads_either_hand(config: dict) -> bool:
    """Whether a model's training crops were mirrored as well (data.train.augment.mirror > 0), so that it reads a
    left hand as photographed and its skeleton's chirality names the side."""
    from handclip.data.transforms import Augment

    augment = Augment.from_config(((config.get("data") or {}).get("train") or {}).get("augment"))
    return augment is not None and augment.mirror > 0


def skeleton_side(xyz) -> str:
    """'left' or 'right': the chirality of a predicted 3D skeleton (fingers curl towards the palm)."""
    from handclip.detection.side_cues import curl_chirality

    return "left" if curl_chirality(xyz) < 0 else "right"


class Predictor:
    """Runs a trained Method on full images: crop, mirror left hands, predict, map back."""

    def __init__(self, method, device: str | torch.device | None = None, batch_size: int = 16, detector=None,
                 reads_side: bool = False, upright_look: bool = False, min_confidence: float = 0.0,
                 look_around: bool = False, second_look: float = 0.0):
        """detector: a handclip.detection.detector.HandDetector for hands(), or None. reads_side: the method reads
        either hand as photographed (reads_either_hand), so hands() names each side from the predicted skeleton.
        upright_look: also read each hand turned upright and keep the surer look (handclip.refine.UprightLook).
        look_around: read each hand upright and four ways around it and blend the looks (UprightLook's around; a
        method that reads either hand reads the mirrored crop's five looks as well).
        min_confidence: hands() drops a detected box whose pose has a lower mean joint confidence (the hand check:
        a face or a sleeve gives the pose model no sure joint; 0 keeps every box).
        second_look: for a method that reads either hand and no other looks, hands() reads a box whose confidence is
        at least min_confidence but under second_look again, mirrored and turned upright (handclip.refine.SecondLook),
        and keeps it where the two looks' blended confidence reaches second_look (0: one look decides)."""
        from handclip.refine import UprightLook

        self.device = device if isinstance(device, torch.device) else preflight.device(device)
        looks = upright_look or look_around
        self.method = (UprightLook(method, around=look_around, mirrored=look_around and reads_side) if looks
                       else method).to(self.device).eval()
        self.batch_size = batch_size
        self.size = int(method.input_size)
        self.detector = detector
        self.reads_side = bool(reads_side)
        self.min_confidence = float(min_confidence)
        self.second_look = float(second_look) if reads_side and not looks else 0.0
        self._faces = None

    def faces(self, num_verts: int):
        """Triangles of the predicted mesh: the method's own `faces`, else the synthetic template's
        when the vertex count matches, else None (the mesh is drawn as points)."""
        if self._faces is None:
            faces = getattr(self.method, "faces", None)
            if faces is None:
                from handclip.data.synth.mesh import load_template

                faces = load_template().faces
            self._faces = np.asarray(faces.cpu() if isinstance(faces, torch.Tensor) else faces)
        return self._faces if self._faces.max() < num_verts else None

    def crop(self, image: np.ndarray, box=None, left: bool | None = False, K=None) -> dict:
        """The model input for one image: crop uint8 (S, S, 3), crop intrinsics, and the affine back. left: True
        mirrors a left hand in; None says the side is not known (see _back_to_image)."""
        square = box_to_square(box, image.shape)
        crop, A = crop_image(image, square, self.size)
        if K is None:
            f = NOMINAL_FOCAL * self.size
            K_crop = np.array([[f, 0, (self.size - 1) / 2], [0, f, (self.size - 1) / 2], [0, 0, 1]], np.float32)
        else:
            K_crop = crop_K(np.asarray(K, np.float64), square, self.size)
        if left:
            crop, K_crop = mirror_image(crop), mirror_K(K_crop, self.size)
        return {"image": crop, "K": np.asarray(K_crop, np.float32), "A_inv": invert_affine(A),
                "left": None if left is None else bool(left),
                "box": [float(v) for v in (box if box is not None else (0, 0, image.shape[1], image.shape[0]))]}

    @torch.no_grad()
    def predict(self, images, boxes=None, left=None, K=None) -> list[dict]:
        """Predict every image (array HWC uint8 RGB or path; one or a list).

        boxes: None (whole image), one (x, y, w, h) for all, or one per image (None allowed);
        left: bool or None, or one per image: True for left hands, False for right ones, None for not known (a
        right hand, or the skeleton's side for a model that reads either hand); K: optional 3x3 intrinsics.
        Returns one dict per image: 'xyz' (21, 3) mm wrist-relative camera frame of the real (possibly
        left) hand, 'uv' (21, 2) px in the original image, 'verts' (V, 3) mm when the model has a
        mesh, 'confidence' (21,) in [0, 1] when the method gives one (CLIP-Hand3D: lixel peak probability;
        DG-CLIP: heatmap peak), 'box', 'side'.
        """
        from tqdm import tqdm

        if isinstance(images, (str, Path, np.ndarray)):
            images = [images]
        n = len(images)
        boxes = _per_image(boxes, n, "boxes", _is_box)
        lefts = _per_image(left, n, "left", lambda v: isinstance(v, (bool, np.bool_)))
        if any(v is not None and not isinstance(v, (bool, np.bool_)) for v in lefts):
            raise ValueError(f"left: True, False or None per image, got {left!r}")
        Ks = _per_image(K, n, "K", lambda v: np.shape(v) == (3, 3))
        results = []
        for start in tqdm(range(0, n, self.batch_size), desc="predict", disable=n <= self.batch_size, unit="batch"):
            chunk = range(start, min(n, start + self.batch_size))
            results += self.predict_crops([self.crop(read_image(images[i]), boxes[i], lefts[i], Ks[i])
                                           for i in chunk])
        return results

    @torch.no_grad()
    def predict_crops(self, crops: list[dict]) -> list[dict]:
        """predict()'s dicts for crop() outputs in one forward pass, whichever images they come from (so a
        caller can crop in other threads and batch the hands of several images)."""
        if not crops:
            return []
        return self._results(crops, self.method.predict(self._batch(crops)))

    @torch.no_grad()
    def checked_crops(self, crops: list[dict], floor: float) -> list[dict | None]:
        """predict_crops() with the hand check: None for a crop whose pose's mean joint confidence is under floor;
        with second_look, a crop at or over floor but under second_look is read again (SecondLook) and kept where
        the two looks' blend reaches second_look (its pose then the blend's)."""
        from handclip.refine import SecondLook

        if not crops:
            return []
        batch = self._batch(crops)
        out = self.method.predict(batch)
        if floor <= 0 or "confidence" not in out:
            return self._results(crops, out)
        sure = out["confidence"].mean(-1)
        keep = sure >= floor
        unsure = (keep & (sure < self.second_look)).nonzero()[:, 0]
        if len(unsure):
            again = SecondLook(self.method).again({"image": batch["image"][unsure], "K": batch["K"][unsure]},
                                                  {k: out[k][unsure] for k in LOOK_KEYS if k in out})
            for k in LOOK_KEYS:
                if k in out:
                    out[k] = out[k].clone()
                    out[k][unsure] = again[k].to(out[k])
            keep[unsure] = again["confidence"].mean(-1) >= self.second_look
        return [pose if kept else None for pose, kept in zip(self._results(crops, out), keep.tolist())]

    def _batch(self, crops: list[dict]) -> dict:
        """The method's batch of crop() outputs."""
        return {
            "image": torch.from_numpy(np.stack([c["image"] for c in crops])).to(self.device),
            "K": torch.from_numpy(np.stack([c["K"] for c in crops])).to(self.device),
            # a crop shows a right hand where its side was given (left ones mirrored in) or the model reads no side
            "right_hand": np.array([c["left"] is not None or not self.reads_side for c in crops]),
        }

    def _results(self, crops: list[dict], out: dict) -> list[dict]:
        """The method's predict() output for crops, each back in its image (_back_to_image)."""
        missing = {"xyz", "uv"} - set(out)
        if missing:
            raise KeyError(f"{type(self.method).__name__}.predict returned no {sorted(missing)}")
        out = {k: v.float().cpu().numpy() for k, v in out.items() if k in LOOK_KEYS}
        return [self._back_to_image(c, {k: v[j] for k, v in out.items()}) for j, c in enumerate(crops)]

    def hands(self, images, max_hands: int | None = None, min_score: float | None = None, K=None,
              min_confidence: float | None = None) -> list[list[dict]]:
        """Every hand of every image (array or path; one or a list): the detector's boxes and sides, each hand
        predicted as predict() does from the square crop around its box (pose_box). Per image a list, best
        score first and empty when no hand is found, of predict()'s dicts with the detected 'box', 'side' and
        'score'. max_hands and min_score default to the detector's (2, 0.3), min_confidence to the Predictor's
        (the hand check). With reads_side, each crop is read as photographed and 'side' is its skeleton's
        chirality."""
        from handclip.detection import detector as detection

        if self.detector is None:
            raise ValueError("this Predictor has no hand detector: load one (handclip.load(..., detector=NAME|PATH)) "
                             "or give each hand's box to predict()")
        if isinstance(images, (str, Path, np.ndarray)):
            images = [images]
        pictures = [read_image(image) for image in images]
        found = self.detector.detect(pictures, detection.MAX_HANDS if max_hands is None else max_hands,
                                     detection.MIN_SCORE if min_score is None else min_score)
        return self.pose_hands(pictures, found, K, min_confidence)

    def pose_hands(self, pictures: list[np.ndarray], found: list[list[dict]], K=None,
                   min_confidence: float | None = None) -> list[list[dict]]:
        """hands() for detections already made: per picture (RGB array) its detected hands ({'box', 'side',
        'score'}), each predicted from the square around its box; those whose pose's mean joint 'confidence' is
        under min_confidence (default: the Predictor's) are dropped."""
        from handclip.detection import detector as detection

        Ks = _per_image(K, len(pictures), "K", lambda v: np.shape(v) == (3, 3))
        flat = [(i, hand) for i, image_hands in enumerate(found) for hand in image_hands]
        with warnings.catch_warnings():  # the square around a hand at the border reaches past the image: expected
            warnings.simplefilter("ignore")
            crops = [self.crop(pictures[i], detection.pose_box(hand["box"]),
                               None if self.reads_side else hand["side"] == "left", Ks[i]) for i, hand in flat]
        floor = self.min_confidence if min_confidence is None else float(min_confidence)
        poses = []
        for start in range(0, len(crops), self.batch_size):
            poses += self.checked_crops(crops[start:start + self.batch_size], floor)
        results: list[list[dict]] = [[] for _ in pictures]
        for (i, hand), pose in zip(flat, poses):
            if pose is not None:  # else the hand check: the pose model is not sure this box holds a hand
                results[i].append({**pose, **hand, "side": pose["side"]})  # the side the pose was read with
        return results

    def _back_to_image(self, crop: dict, pred: dict) -> dict:
        """Undo the mirroring of left hands and the crop for one prediction. A hand whose side is not known is a
        right one, unless the model reads either hand (reads_side): then its skeleton names the side."""
        uv, xyz, verts = pred["uv"], pred["xyz"], pred.get("verts")
        if crop["left"]:
            uv, xyz = mirror_uv(uv, self.size), mirror_xyz(xyz)
            verts = None if verts is None else mirror_xyz(verts)
        known = crop["left"] is not None or not self.reads_side
        side = ("left" if crop["left"] else "right") if known else skeleton_side(xyz)
        result = {"xyz": xyz, "uv": apply_affine(uv.astype(np.float64), crop["A_inv"]).astype(np.float32),
                  "box": crop["box"], "side": side}
        if verts is not None:
            result["verts"] = verts
        if "confidence" in pred:
            result["confidence"] = pred["confidence"]
        return result


def load(checkpoint=None, device: str | torch.device | None = None, batch_size: int = 16,
         detector: str | Path | None = "auto", upright_look: bool = False,
         min_confidence: float | str = "auto", look_around: bool = False, second_look: bool = True) -> Predictor:
    """A Predictor for a checkpoint .pt, a packed .safetensors model or a shipped model's name (`handclip models`);
    None loads the default shipped model. The method is rebuilt from the config stored with the weights, for
    inference only (its BatchNorms folded into their convolutions, channels-last: handclip.models.fold).
    detector: a hand detector for Predictor.hands() (name or file); 'auto' the shipped one if any; None none.
    upright_look: a second look at each hand turned upright (Predictor); look_around: five looks blended, ten with
    the mirrored crop for a model that reads either hand (Predictor).
    min_confidence: the hand check of
    Predictor.hands(); 'auto' the shipped model's calibrated one (zoo entry `min_confidence`; looking around
    `min_confidence_look_around` where it has one), 0 for files. second_look: with the 'auto' check and one look,
    a box the check is unsure of is read again (Predictor's second_look, the entry's `min_confidence_second_look`)."""
    from handclip.detection.detector import load_detector
    from handclip.zoo import default_detector, hand_check, load_model

    if detector == "auto":
        detector = default_detector()
    finder = None if detector is None else load_detector(detector, device=device, batch_size=batch_size)
    from handclip.models.fold import for_inference

    method, config = load_model(checkpoint)
    for_inference(method)  # a Predictor never trains
    auto = min_confidence == "auto"
    floor = hand_check(checkpoint, look_around=look_around) if auto else float(min_confidence)
    again = hand_check(checkpoint, second_look=True) if auto and second_look and not (upright_look or look_around) else 0.0
    return Predictor(method, device=device, batch_size=batch_size, detector=finder, reads_side=reads_either_hand(config),
                     upright_look=upright_look, min_confidence=floor, look_around=look_around, second_look=again)


def to_json(result: dict, decimals: int = 3) -> dict:
    """A prediction dict with arrays as (rounded) nested lists, for json.dump."""
    return {k: (np.round(np.asarray(v, np.float64), decimals).tolist() if isinstance(v, np.ndarray) else v)
            for k, v in result.items()}
