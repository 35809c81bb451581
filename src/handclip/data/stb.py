"""Stereo Hand Pose Tracking Benchmark reader (STB, Zhang et al. 2016): SK and BB subsets.

Sequences B1..B6 x {Counting, Random}; labels/<seq>_<SK|BB>.mat hold handPara (3, 21, frames) in mm
with the palm centre at index 0. Split by sequence: test = B1Counting + B1Random (3,000 SK images,
6,000 BB images as both stereo views count), train = B2..B6. SK labels live in the depth camera
and move to the colour camera by X_colour = R X_depth + t (R from the rotation vector below).
BB labels live in the left camera; the right camera sits `BB_BASELINE` mm along +x.
Canonical slot 0 needs the wrist: it is estimated from the palm with
handclip.geometry.wrist_from_palm (palm = wrist + palm_k (middle MCP - wrist)), so protocols
with root='palm' and the same k recover the labelled palm exactly (palm_from_wrist(xyz, palm_k)
gives it back in any sample, mirrored or rolled). STB shows left hands: they are mirrored.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from handclip.data import register
from handclip.data.io import MissingDataError, check_shape, load_image, load_mat, require_dir, require_file
from handclip.data.reader import HandReader
from handclip.geometry import axis_angle_to_matrix, wrist_from_palm
from handclip.skeleton import to_canonical

SEQUENCES = tuple(f"B{b}{kind}" for b in range(1, 7) for kind in ("Counting", "Random"))
SPLIT_SEQUENCES = {
    "test": SEQUENCES[:2],
    "train": SEQUENCES[2:],
    "all": SEQUENCES,
}
SK_K = np.array([[607.92271, 0.0, 314.78337], [0.0, 607.88192, 236.42484], [0.0, 0.0, 1.0]])
SK_ROTATION_VECTOR = np.array([0.00531, -0.01196, 0.00301])
SK_TRANSLATION = np.array([-24.0381, -0.4563, -1.2326])  # mm
BB_K = np.array([[822.79041, 0.0, 318.47345], [0.0, 822.79041, 250.31296], [0.0, 0.0, 1.0]])
BB_BASELINE = 120.054  # mm
LAYOUT = """  labels/<seq>_SK.mat, labels/<seq>_BB.mat (handPara 3x21xframes, mm)
  images/<seq>/SK_color_<i>.png, images/<seq>/BB_left_<i>.png, images/<seq>/BB_right_<i>.png
  (or <seq>/... directly under the root), <seq> in B1Counting, B1Random, ..., B6Random"""


def sk_depth_to_colour(xyz_depth: np.ndarray) -> np.ndarray:
    """Move SK labels (..., 3) from the depth camera frame to the colour camera frame (mm)."""
    R = axis_angle_to_matrix(SK_ROTATION_VECTOR)
    return xyz_depth @ R.T + SK_TRANSLATION


class STB(HandReader):
    """STB SK or BB subset, split by sequence, as common samples (mirrored to right hands, mm)."""

    name = "stb"

    def __init__(
        self,
        root,
        split: str = "test",
        subset: str = "SK",
        size: int = 256,
        views=("left", "right"),
        sequences=None,
        palm_k: float = 0.5,
        crop: str = "keypoints",
        margin: float = 1.5,
        augment=None,
        boxes=None,
    ):
        super().__init__(size=size, crop=crop, margin=margin, augment=augment, boxes=boxes)
        if subset not in ("SK", "BB"):
            raise ValueError(f"stb subset must be 'SK' or 'BB', got {subset!r}")
        if sequences is None and split not in SPLIT_SEQUENCES:
            raise ValueError(f"stb split must be one of {sorted(SPLIT_SEQUENCES)}, got {split!r}")
        self.subset, self.palm_k = subset, float(palm_k)
        self.views = ("color",) if subset == "SK" else tuple(views)
        if subset == "BB" and (not self.views or set(self.views) - {"left", "right"}):
            raise ValueError(f"stb BB views must be a subset of ('left', 'right'), got {views!r}")
        self.root = require_dir(root, "STB", LAYOUT)
        self.sequences = tuple(sequences) if sequences is not None else SPLIT_SEQUENCES[split]
        self.labels = {seq: self._load_sequence(seq) for seq in self.sequences}
        self.items = [(seq, f, v) for seq in self.sequences for f in range(len(self.labels[seq])) for v in self.views]
        for seq in self.sequences:  # fail early on a missing image folder or subset
            for view in self.views:
                require_file(self.image_path(seq, 0, view), "STB", LAYOUT)

    def _load_sequence(self, seq: str) -> np.ndarray:
        """Canonical-order labels (frames, 21, 3) in mm of the colour (SK) or left (BB) camera."""
        path = self.root / "labels" / f"{seq}_{self.subset}.mat"
        if not path.is_file():
            raise MissingDataError(f"STB: missing label file {str(path)!r}; expected layout:\n{LAYOUT}")
        para = check_shape(load_mat(path, ("handPara",))["handPara"], (3, 21, None), path, "handPara")
        xyz = to_canonical(np.transpose(para, (2, 1, 0)), "stb")
        return sk_depth_to_colour(xyz) if self.subset == "SK" else xyz

    def image_path(self, seq: str, frame: int, view: str) -> Path:
        """images/<seq>/<file> if that folder exists, else <seq>/<file> under the root."""
        name = f"SK_color_{frame}.png" if self.subset == "SK" else f"BB_{view}_{frame}.png"
        folder = self.root / "images" / seq
        if not folder.is_dir():
            folder = self.root / seq
        if not folder.is_dir():
            raise MissingDataError(f"STB: no image folder for {seq}: neither {str(self.root / 'images' / seq)!r} nor {str(folder)!r}")
        return folder / name

    def __len__(self) -> int:
        return len(self.items)

    def load_raw(self, index: int) -> dict:
        """The 640x480 image of one frame/view with its left-hand labels (wrist estimated from the palm)."""
        seq, frame, view = self.items[index]
        palm_xyz = self.labels[seq][frame]
        if view == "right":
            palm_xyz = palm_xyz - np.array([BB_BASELINE, 0.0, 0.0])
        return {
            "image": load_image(self.image_path(seq, frame, view), "STB"),
            "K": SK_K if self.subset == "SK" else BB_K,
            "xyz": wrist_from_palm(palm_xyz, self.palm_k),
            "valid": np.ones(21, bool),
            "side": "left",
            "extra": {"sequence": seq, "frame": frame},
        }


@register("stb")
def build(**kwargs) -> STB:
    """Factory for handclip.data.build_dataset('stb', root=..., split=..., subset=..., size=...)."""
    return STB(**kwargs)
