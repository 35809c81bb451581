"""Rendered Hand Pose dataset reader (RHD v2, Zimmermann & Brox, ICCV 2017).

Each annotation holds both hands (left joints 0-20, right 21-41, RHD order, metres) with 2D
visibility. hand='dominant' (the evaluation convention) keeps the hand with more mask pixels
(mask values 2-17 left, 18-33 right); 'both' keeps every hand with at least one visible keypoint
(hands with none are counted in `skipped`); 'left'/'right' keep one side. Left hands are mirrored
to right hands; visibility becomes 'valid'.
"""

from __future__ import annotations

from handclip.data import register
from handclip.data.io import MalformedDataError, check_shape, load_image, load_label_image, load_pickle, require_dir, require_file, require_keys
from handclip.data.reader import HandReader
from handclip.skeleton import to_canonical

SPLITS = {"training": "training", "train": "training", "evaluation": "evaluation", "test": "evaluation", "eval": "evaluation"}
HANDS = ("dominant", "both", "left", "right")
LAYOUT = """  training/anno_training.pickle, training/color/%05d.png, training/mask/%05d.png
  evaluation/anno_evaluation.pickle, evaluation/color/%05d.png, evaluation/mask/%05d.png"""
OFFSET = {"left": 0, "right": 21}


class RHD(HandReader):
    """RHD training or evaluation set as common samples (mirrored to right hands, mm)."""

    name = "rhd"

    def __init__(self, root, split: str = "evaluation", size: int = 256, hand: str = "dominant", crop: str = "keypoints", margin: float = 1.5, augment=None, boxes=None):
        super().__init__(size=size, crop=crop, margin=margin, augment=augment, boxes=boxes)
        if split not in SPLITS:
            raise ValueError(f"rhd split must be one of {sorted(SPLITS)}, got {split!r}")
        if hand not in HANDS:
            raise ValueError(f"rhd hand must be one of {HANDS}, got {hand!r}")
        self.split, self.hand = SPLITS[split], hand
        self.root = require_dir(root, "RHD", LAYOUT)
        self.folder = self.root / self.split
        self.anno_path = require_file(self.folder / f"anno_{self.split}.pickle", "RHD", LAYOUT)
        self.anno = self._load_annotations()
        self.items = self._index()

    def _load_annotations(self) -> dict:
        """Read the pickle and check each entry's keys and shapes (xyz 42x3, uv_vis 42x3, K 3x3)."""
        anno = load_pickle(self.anno_path)
        if not isinstance(anno, dict) or not anno:
            raise MalformedDataError(f"{self.anno_path}: expected a non-empty dict id -> annotation, got {type(anno).__name__}")
        out = {}
        for key, rec in anno.items():
            require_keys(rec, ("xyz", "uv_vis", "K"), self.anno_path, f"entry {key!r}")
            out[int(key)] = {
                "xyz": check_shape(rec["xyz"], (42, 3), self.anno_path, f"entry {key!r} 'xyz'") * 1000.0,
                "uv_vis": check_shape(rec["uv_vis"], (42, 3), self.anno_path, f"entry {key!r} 'uv_vis'"),
                "K": check_shape(rec["K"], (3, 3), self.anno_path, f"entry {key!r} 'K'"),
            }
        return out

    def _index(self) -> list[tuple[int, str | None]]:
        """(image id, side) pairs; side None = decided per image by the mask (dominant hand)."""
        ids = sorted(self.anno)
        if self.hand == "dominant":
            return [(i, None) for i in ids]
        sides = ("left", "right") if self.hand == "both" else (self.hand,)
        items, dropped = [], 0
        for i in ids:
            for side in sides:
                vis = self.anno[i]["uv_vis"][OFFSET[side] : OFFSET[side] + 21, 2]
                if vis.any():
                    items.append((i, side))
                else:
                    dropped += 1
        self.report_skipped("hands with no visible keypoint", dropped)
        return items

    def __len__(self) -> int:
        return len(self.items)

    def dominant_side(self, image_id: int) -> str:
        """'left' or 'right': the hand with more mask pixels (ties go to the right hand)."""
        mask = load_label_image(self.folder / "mask" / f"{image_id:05d}.png", "RHD mask")
        left = int(((mask >= 2) & (mask <= 17)).sum())
        right = int(((mask >= 18) & (mask <= 33)).sum())
        return "left" if left > right else "right"

    def load_raw(self, index: int) -> dict:
        """The 320x320 render and the chosen hand's labels (mm, canonical order, own side)."""
        image_id, side = self.items[index]
        side = side or self.dominant_side(image_id)
        rec = self.anno[image_id]
        image = load_image(self.folder / "color" / f"{image_id:05d}.png", "RHD")
        uv_vis = to_canonical(rec["uv_vis"], "rhd", OFFSET[side])
        return {
            "image": image,
            "K": rec["K"],
            "xyz": to_canonical(rec["xyz"], "rhd", OFFSET[side]),
            "uv_label": uv_vis[:, :2],
            "valid": uv_vis[:, 2] > 0.5,
            "side": side,
            "extra": {"image_id": image_id},
        }


@register("rhd")
def build(**kwargs) -> RHD:
    """Factory for handclip.data.build_dataset('rhd', root=..., split=..., size=...)."""
    return RHD(**kwargs)
