"""Reader of hand keypoints in COCO format (OneHand10K and COCO-WholeBody-Hand as mmpose ships them, realdev).

One sample per labelled hand: an annotation with `keypoints` (21 x (u, v, visibility), canonical
order) and `bbox` [x, y, w, h], or a COCO-WholeBody annotation's `lefthand_kpts` / `righthand_kpts`
with `*_box` and `*_valid`. Visibility 0 means unlabelled (valid = False). The hand side comes from
`hand_side` (or the WholeBody key), else the `side` argument; left hands are mirrored to right hands.
Where an annotation has `joint_cam` (21 x 3, mm) and its image `cam_param` {focal, princpt}, the
sample carries xyz and the real K; otherwise xyz is NaN and K a nominal camera (focal = the longer
image side), which only wrist-relative lifting reads. The crop is the square around the labelled box,
`margin` x its longer side: 1.25 turns realdev's boxes (keypoints' box plus 10 % a side) into the
1.5 x keypoint box of the other readers. Samples carry `box_side`, the box's longer side in crop pixels,
for PCK@0.2 of the box.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from handclip.data import register
from handclip.data.io import MalformedDataError, check_shape, load_image, load_json, require_dir, require_file, require_keys
from handclip.data.reader import HandReader

LAYOUT = """  annotations.json (COCO keypoints: images[], annotations[] with keypoints (63 numbers) and bbox)
  images/<file_name of each image>"""
SIDES = ("right", "left")
WHOLEBODY_KEYS = {"left": ("lefthand_kpts", "lefthand_box", "lefthand_valid"),
                  "right": ("righthand_kpts", "righthand_box", "righthand_valid")}


def _paths(root, ann_file, img_dir) -> tuple[Path, Path]:
    """The annotation file and image folder: given ones, else root/annotations.json and root/images."""
    if ann_file is None and root is None:
        raise ValueError("coco_hand needs ann_file=<COCO keypoints JSON> (and img_dir=) or root=<folder>")
    ann = Path(ann_file) if ann_file is not None else Path(root) / "annotations.json"
    images = Path(img_dir) if img_dir is not None else (Path(root) / "images" if root is not None else ann.parent)
    return require_file(ann.expanduser(), "coco_hand", LAYOUT), require_dir(images, "coco_hand image folder", LAYOUT)


def camera_K(cam_param: dict, path, what: str) -> np.ndarray:
    """3x3 intrinsics from a COCO image's cam_param {focal: [fx, fy], princpt: [cx, cy]}."""
    require_keys(cam_param, ("focal", "princpt"), path, what)
    (fx, fy), (cx, cy) = (check_shape(cam_param[k], (2,), path, f"{what} {k}") for k in ("focal", "princpt"))
    return np.array([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]])


def coco_hands(coco, path, default_side: str = "right", keypoints: bool = True) -> list[dict]:
    """Every hand of a COCO file, checked: dicts of 'image' (its images[] entry), 'bbox' (4,), 'side', 'score'
    and, with keypoints=True, 'kpts' (21, 3) (u, v, visibility) and 'xyz' (21, 3) mm or None (no joint_cam).

    Hands come from `keypoints` + `bbox` (side: `hand_side`, else default_side) or from COCO-WholeBody's
    left/right hand keys marked valid. Malformed entries raise errors naming the file and the entry.
    """
    require_keys(coco, ("images", "annotations"), path, "the file")
    images = {}
    for k, image in enumerate(coco["images"]):
        require_keys(image, ("id", "file_name"), path, f"images[{k}]")
        images[image["id"]] = image
    hands = []
    for k, ann in enumerate(coco["annotations"]):
        what = f"annotations[{k}]"
        require_keys(ann, ("image_id",), path, what)
        if ann["image_id"] not in images:
            raise MalformedDataError(f"{path}: {what} refers to image_id {ann['image_id']}, not in images[]")
        if any(keys[1] in ann for keys in WHOLEBODY_KEYS.values()):
            found = [(side, ann.get(kpts), ann[box], f"{what} {box}") for side, (kpts, box, valid) in WHOLEBODY_KEYS.items()
                     if ann.get(valid, kpts in ann or not keypoints)]
        else:
            require_keys(ann, ("bbox",) + (("keypoints",) if keypoints else ()), path, what)
            found = [(ann.get("hand_side", default_side), ann.get("keypoints"), ann["bbox"], what)]
        for side, kpts, bbox, where in found:
            if side is not None and side not in SIDES:  # None: the side is not known (default_side=None)
                raise MalformedDataError(f"{path}: {where} hand_side must be one of {SIDES}, got {side!r}")
            hand = {"image": images[ann["image_id"]], "side": side, "score": float(ann.get("score", 1.0)),
                    "bbox": check_shape(bbox, (4,), path, f"{where} bbox")}
            if keypoints:
                hand["kpts"] = check_shape(kpts, (63,), path, f"{where} keypoints").reshape(21, 3)
                hand["xyz"] = check_shape(ann["joint_cam"], (21, 3), path, f"{what} joint_cam") if "joint_cam" in ann else None
            hands.append(hand)
    return hands


class CocoHand(HandReader):
    """Hands of a COCO keypoint file as common samples (left hands mirrored, 2D labels, 3D where given)."""

    name = "coco_hand"

    def __init__(self, ann_file=None, img_dir=None, root=None, size: int = 256, side: str = "right",
                 crop: str = "bbox", margin: float = 1.25, augment=None, boxes=None):
        if side not in SIDES:
            raise ValueError(f"coco_hand side must be one of {SIDES}, got {side!r}")
        self.ann_path, self.img_dir = _paths(root, ann_file, img_dir)
        hands = coco_hands(load_json(self.ann_path), self.ann_path, side)
        self.items = [hand for hand in hands if (hand["kpts"][:, 2] > 0).any()]
        if not self.items:
            raise MalformedDataError(f"{self.ann_path}: no annotation with labelled hand keypoints")
        for hand in self.items:
            self._check(hand)
        if crop == "bbox":  # the labelled boxes are the base reader's given boxes
            crop, boxes = "box", np.array([hand["bbox"] for hand in self.items])
        super().__init__(size=size, crop=crop, margin=margin, augment=augment, boxes=boxes)
        self.report_skipped("hands with no labelled keypoint", len(hands) - len(self.items))
        self.has_3d = all(hand["xyz"] is not None for hand in self.items)
        # the protocol `handclip eval` uses by default: 2D everywhere, 3D too where every hand has joint_cam
        self.default_protocol = "coco_3d" if self.has_3d else "coco_2d"

    def _check(self, hand: dict) -> None:
        """A labelled hand needs a box of positive size, and a camera where it has 3D joints (sets hand['K'])."""
        image, box = hand["image"], hand["bbox"]
        if box[2] <= 0 or box[3] <= 0:
            raise MalformedDataError(f"{self.ann_path}: a hand of image {image['id']} has bbox {box.tolist()}; "
                                     "width and height must be positive")
        hand["K"] = None
        if hand["xyz"] is not None:
            if "cam_param" not in image:
                raise MalformedDataError(f"{self.ann_path}: a hand of image {image['id']} has joint_cam but the image has no cam_param")
            hand["K"] = camera_K(image["cam_param"], self.ann_path, f"image {image['id']} cam_param")

    def __len__(self) -> int:
        return len(self.items)

    def image_path(self, index: int) -> Path:
        """The image of sample `index`: img_dir/file_name, else img_dir/<base name> (file names that repeat the folder)."""
        name = self.items[index]["image"]["file_name"]
        path, flat = self.img_dir / name, self.img_dir / Path(name).name
        return flat if not path.is_file() and flat.is_file() else path

    def load_raw(self, index: int) -> dict:
        """The full image, its labels in image pixels (and mm where given) and the hand's own side."""
        item = self.items[index]
        image = load_image(self.image_path(index), "coco_hand")
        height, width = image.shape[:2]
        K = item["K"]
        if K is None:
            f = float(max(height, width))
            K = np.array([[f, 0.0, (width - 1) / 2], [0.0, f, (height - 1) / 2], [0.0, 0.0, 1.0]])
        return {
            "image": image,
            "K": K,
            "xyz": item["xyz"] if item["xyz"] is not None else np.full((21, 3), np.nan),
            "uv_label": item["kpts"][:, :2],
            "valid": item["kpts"][:, 2] > 0,
            "side": item["side"],
            "box_side": float(max(item["bbox"][2:])),
            "extra": {"image_id": item["image"]["id"], "visibility": item["kpts"][:, 2].astype(np.int64)},
        }


@register("coco_hand")
def build(**kwargs) -> CocoHand:
    """Factory for handclip.data.build_dataset('coco_hand', ann_file=..., img_dir=...) or (root=...)."""
    return CocoHand(**kwargs)
