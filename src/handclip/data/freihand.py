"""FreiHAND v2 reader (Zimmermann et al., ICCV 2019): training (four image versions) and evaluation sets.

Training: image i of training/rgb/%08d.jpg uses label i mod N (N = 32,560 label rows); the versions
gs, hom, sample, auto are the consecutive blocks of N images. Evaluation: evaluation/rgb/%08d.jpg
with evaluation_K.json and evaluation_scale.json; evaluation_xyz.json / evaluation_verts.json are
optional (without them samples carry NaN labels and valid = False, enough for writing pred.json).
Labels are stored in metres and returned in mm; MANO parameters (61 values) pass through as 'mano',
in the original camera (see 'roll' when rotation augmentation is on). All hands are right hands.
The default split is the evaluation set, as for every reader (`handclip eval` relies on it).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from handclip.data import register
from handclip.data.io import MissingDataError, check_shape, load_image, load_json, load_json_array, load_label_image, require_dir, require_file
from handclip.data.reader import HandReader

VERSIONS = ("gs", "hom", "sample", "auto")
SPLITS = {"training": "training", "train": "training", "evaluation": "evaluation", "test": "evaluation", "eval": "evaluation"}
LAYOUT = """  training_xyz.json, training_K.json, training_mano.json, training_verts.json
  training/rgb/%08d.jpg, training/mask/%08d.jpg
  evaluation_K.json, evaluation_scale.json [evaluation_xyz.json, evaluation_verts.json, evaluation_mano.json]
  evaluation/rgb/%08d.jpg"""


class FreiHAND(HandReader):
    """FreiHAND v2 training or evaluation set as common samples (right hands, mm)."""

    name = "freihand"

    def __init__(
        self,
        root,
        split: str = "evaluation",
        size: int = 224,
        versions=VERSIONS,
        verts: bool = True,
        mask: bool = False,
        crop: str = "full",
        margin: float = 1.5,
        augment=None,
        boxes=None,
    ):
        super().__init__(size=size, crop=crop, margin=margin, augment=augment, boxes=boxes)
        if split not in SPLITS:
            raise ValueError(f"freihand split must be one of {sorted(SPLITS)}, got {split!r}")
        self.split = SPLITS[split]
        self.root = require_dir(root, "FreiHAND", LAYOUT)
        versions = (versions,) if isinstance(versions, str) else tuple(versions)
        bad = [v for v in versions if v not in VERSIONS]
        if bad:
            raise ValueError(f"freihand versions {bad} unknown; choose from {VERSIONS}")
        if self.split == "evaluation" and versions != VERSIONS and versions != ("gs",):
            raise ValueError("freihand evaluation has one image version; leave `versions` at its default")
        self.versions = [VERSIONS.index(v) for v in versions] if self.split == "training" else [0]
        self.with_mask = bool(mask) and self.split == "training"
        self._load_labels(verts)
        self._check_versions()

    def _file(self, stem: str) -> Path:
        return require_file(self.root / f"{self.split}_{stem}.json", "FreiHAND", LAYOUT)

    def _load_labels(self, with_verts: bool) -> None:
        """Read K (and xyz, verts, mano, scale where present), checking every shape against N."""
        K_path = self._file("K")
        self.K = check_shape(load_json(K_path), (None, 3, 3), K_path, "K")
        n = len(self.K)
        self.xyz = self.verts = self.mano = self.scale = None
        xyz_path = self.root / f"{self.split}_xyz.json"
        if self.split == "training" or xyz_path.is_file():
            xyz_path = self._file("xyz")
            self.xyz = check_shape(load_json(xyz_path), (n, 21, 3), xyz_path, "xyz") * 1000.0
        verts_path = self.root / f"{self.split}_verts.json"
        if with_verts and (self.split == "training" or verts_path.is_file()):
            if not verts_path.is_file():
                raise MissingDataError(f"FreiHAND: missing file {str(verts_path)!r}; pass verts=False to read without vertices")
            verts = load_json_array(verts_path, (n, 778, 3), "verts")  # 1.6 GB of text for training: streamed
            verts *= 1000.0
            self.verts = verts.astype(np.float32)  # 0.3 GB for the training set
        mano_path = self.root / f"{self.split}_mano.json"
        if mano_path.is_file():
            mano = np.asarray(load_json(mano_path), dtype=np.float64)
            self.mano = check_shape(mano.reshape(len(mano), -1) if mano.ndim == 3 else mano, (n, 61), mano_path, "mano")
        if self.split == "evaluation":
            scale_path = self._file("scale")
            self.scale = check_shape(load_json(scale_path), (n,), scale_path, "scale") * 1000.0
        self.n_labels = n

    def _check_versions(self) -> None:
        """Fail early, naming the version, when a version block's last image is absent."""
        for k, v in enumerate(self.versions):
            last = self.root / self.split / "rgb" / f"{self.image_id((k + 1) * self.n_labels - 1):08d}.jpg"
            if not last.is_file():
                raise MissingDataError(
                    f"FreiHAND: missing {str(last)!r}, the last image of version {VERSIONS[v]!r}; "
                    f"choose the versions you have with versions=(...), e.g. versions=('gs',)"
                )

    def __len__(self) -> int:
        return self.n_labels * len(self.versions)

    def image_id(self, index: int) -> int:
        """File number of sample `index`: label index + version block x N."""
        return (index % self.n_labels) + self.versions[index // self.n_labels] * self.n_labels

    def load_raw(self, index: int) -> dict:
        """The 224x224 FreiHAND image and its labels (mm) for sample `index`."""
        label = index % self.n_labels
        image = load_image(self.root / self.split / "rgb" / f"{self.image_id(index):08d}.jpg", "FreiHAND")
        labelled = self.xyz is not None
        raw = {
            "image": image,
            "K": self.K[label],
            "xyz": self.xyz[label] if labelled else np.full((21, 3), np.nan),
            "valid": np.full(21, labelled),
            "side": "right",
            "extra": {"label_index": label},
        }
        if self.verts is not None:
            raw["verts"] = self.verts[label]
        if self.with_mask:
            mask = load_label_image(self.root / self.split / "mask" / f"{label:08d}.jpg", "FreiHAND mask")
            raw["mask"] = (mask > 127).astype(np.uint8)  # JPEG-compressed binary mask
        if self.mano is not None:
            raw["extra"]["mano"] = self.mano[label].astype(np.float32)
        if self.scale is not None:
            raw["extra"]["scale"] = np.float32(self.scale[label])
        return raw


@register("freihand")
def build(**kwargs) -> FreiHAND:
    """Factory for handclip.data.build_dataset('freihand', root=..., split=..., size=...)."""
    return FreiHAND(**kwargs)
