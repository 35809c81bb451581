"""Shared pipeline of the real-dataset readers: raw view -> mirrored right hand -> (augmented) square crop.

A reader implements `load_raw(i)` returning the dataset's own view of one hand: full image, K,
xyz in mm in canonical joint order, side, valid, optional verts / mask / extra arrays. This class
turns it into the common sample of handclip.data: left hands mirrored to right hands, cropped to
`size` from the keypoints' box (or the whole image, or given boxes), with labels kept exact. Training
augmentation may mirror a crop back into a left hand (Augment.mirror); 'side' stays the photographed side.

Given boxes (crop='box', e.g. from a hand detector) are a JSON file or array of one [x, y, w, h]
per sample in the original image's pixels, before any mirroring; the crop is the square of side
margin x max(w, h) around the box centre.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch

from handclip.data.crop import crop_hand, full_box, hand_tilt
from handclip.data.io import check_shape, load_json
from handclip.data.transforms import Augment
from handclip.geometry import apply_affine, project, square_box
from handclip.skeleton import mirror_image, mirror_K, mirror_uv, mirror_xyz

log = logging.getLogger(__name__)

CROPS = ("keypoints", "full", "box")


class HandReader(torch.utils.data.Dataset):
    """Base of the real-dataset readers; subclasses set `name` and implement __len__ and load_raw."""

    name = "reader"

    def __init__(self, size: int = 256, crop: str = "keypoints", margin: float = 1.5, augment=None, boxes=None):
        if crop not in CROPS:
            raise ValueError(f"{self.name}: crop must be one of {CROPS}, got {crop!r}")
        if (crop == "box") != (boxes is not None):
            raise ValueError(f"{self.name}: crop='box' and boxes=<file or array of [x, y, w, h]> go together")
        self.boxes = None
        if boxes is not None:
            from_file = isinstance(boxes, (str, Path))
            self.boxes = check_shape(load_json(boxes) if from_file else boxes, (None, 4), boxes if from_file else "boxes argument", "boxes")
        self.size = int(size)
        self.crop = crop
        self.margin = float(margin)
        self.augment = augment if isinstance(augment, Augment) or augment is None else Augment.from_config(augment)
        self.skipped: dict[str, int] = {}

    def load_raw(self, index: int) -> dict:
        """The dataset's own view of hand `index` as a dict.

        Keys: 'image' (full RGB), 'K', 'xyz' (mm, canonical order, own side), 'side', 'valid';
        optional 'verts' (mm), 'mask', 'uv_label' (the dataset's own 2D labels: checks, and the 'uv' of
        joints without 3D labels), 'box_side' (a labelled hand box's longer side, px: the sample then also carries
        'image_px', the photo's pixels per crop pixel) and 'extra' (a dict
        merged into the sample as is).
        """
        raise NotImplementedError

    def report_skipped(self, reason: str, count: int) -> None:
        """Count items left out of the index (never silently) and log them once."""
        if count:
            self.skipped[reason] = self.skipped.get(reason, 0) + count
            log.warning("%s: skipped %d item(s): %s", self.name, count, reason)

    def right_hand(self, raw: dict) -> dict:
        """Mirror a left-hand raw view (image, K, xyz, verts, mask, uv labels) into a right hand."""
        if raw["side"] != "left":
            return raw
        width = raw["image"].shape[1]
        out = dict(raw)
        out["image"] = mirror_image(raw["image"])
        out["K"] = mirror_K(np.asarray(raw["K"], np.float64), width)
        out["xyz"] = mirror_xyz(raw["xyz"])
        if raw.get("verts") is not None:
            out["verts"] = mirror_xyz(raw["verts"])
        if raw.get("mask") is not None:
            out["mask"] = mirror_image(raw["mask"])
        if raw.get("uv_label") is not None:
            out["uv_label"] = mirror_uv(raw["uv_label"], width)
        return out

    def crop_box(self, raw: dict, index: int) -> tuple[float, float, float]:
        """The square crop box of sample `index` (raw view already mirrored) according to `self.crop`."""
        h, w = raw["image"].shape[:2]
        if self.crop == "full":
            return full_box(h, w)
        if self.crop == "box":
            if len(self.boxes) != len(self):
                raise ValueError(f"{self.name}: {len(self.boxes)} boxes given for {len(self)} samples")
            x, y, bw, bh = self.boxes[index]
            cx = x + bw / 2 - 0.5  # box edges -> centre in pixel-centre coordinates
            cx = (w - 1) - cx if raw["side"] == "left" else cx
            return cx, y + bh / 2 - 0.5, self.margin * max(bw, bh)
        labelled = np.isfinite(raw["xyz"]).all(-1)
        if not labelled.any() and raw.get("uv_label") is not None:  # 2D-only labels: their box
            return square_box(raw["uv_label"], self.margin, np.asarray(raw["valid"], bool))
        if not labelled.any():
            raise ValueError(f"{self.name}: crop='keypoints' needs labels; use crop='full' for unlabelled data")
        return square_box(project(raw["xyz"][labelled], raw["K"]), self.margin)

    @staticmethod
    def tilt(raw: dict) -> float:
        """The roll that turns the view's hand upright (crop.hand_tilt), from its 3D labels or else its 2D ones."""
        uv = project(raw["xyz"], raw["K"])
        if raw.get("uv_label") is not None:
            uv = np.where(np.isfinite(uv), uv, np.asarray(raw["uv_label"], np.float64))
        return hand_tilt(uv)

    def __getitem__(self, index: int) -> dict:
        if not 0 <= index < len(self):
            raise IndexError(f"{self.name}: index {index} out of range [0, {len(self)})")
        raw = self.right_hand(self.load_raw(index))
        box, angle, rng = self.crop_box(raw, index), 0.0, None
        if self.augment is not None:
            rng = np.random.default_rng(int(torch.randint(2**31 - 1, ()).item()))
            box, angle = self.augment.geometry(box, rng, self.tilt(raw) if self.augment.upright > 0 else 0.0)
        c = crop_hand(raw["image"], raw["K"], raw["xyz"], box, self.size, angle, raw.get("verts"), raw.get("mask"))
        image = c["image"] if rng is None else self.augment.colour(c["image"], rng)
        uv = c["uv"]
        if raw.get("uv_label") is not None:  # joints without 3D labels keep their 2D labels, moved by the crop
            uv = np.where(np.isfinite(uv), uv, apply_affine(np.asarray(raw["uv_label"], np.float64), c["affine"]))
        sample = {
            "image": image,
            "K": c["K"].astype(np.float32),
            "xyz": c["xyz"].astype(np.float32),
            "uv": uv.astype(np.float32),
            "valid": np.asarray(raw["valid"], bool),
            "side": raw["side"],
            "domain": self.name,
            "index": int(index),
        }
        if "verts" in c:
            sample["verts"] = c["verts"].astype(np.float32)
        if "mask" in c:
            sample["mask"] = c["mask"]
        if "box_side" in raw:  # a labelled hand box's longer side (image px) in crop px, for PCK of the box, and
            zoom = np.sqrt(abs(np.linalg.det(c["affine"][:, :2])))  # the photo's px per crop px, for its own px
            sample["box_side"], sample["image_px"] = np.float32(raw["box_side"] * zoom), np.float32(1.0 / zoom)
        if self.augment is not None:  # camera roll applied to xyz/K (degrees), for labels kept in the old frame
            sample["roll"] = np.float32(angle)
        sample.update(raw.get("extra", {}))
        if rng is not None and self.augment.mirror > 0 and rng.random() < self.augment.mirror:
            from handclip.data.synth.dataset import mirror_sample  # here: synth's cache reader imports this module

            sample = mirror_sample(sample)  # a left hand's crop: trains models that take either hand as photographed
            if "roll" in sample:
                sample["roll"] = -sample["roll"]
        return sample
