"""Readers of exported synthetic folders (handclip.data.synth.export layout): crops as common samples
('synth_folder'), full frames as they were rendered ('synth_full_folder')."""

from __future__ import annotations

import numpy as np
import torch

from handclip.data import register
from handclip.data.io import MalformedDataError, check_shape, load_image, load_json, require_dir, require_file, require_keys
from handclip.data.reader import HandReader
from handclip.data.synth.dataset import VALID
from handclip.data.synth.export import ANNOTATIONS, FORMAT

LAYOUT = "  annotations.json (format handclip-synth/1), images/*.png  (written by `handclip synth`)"


def _check_format(meta, path, frame: str) -> None:
    """Refuse annotations that are not a synthetic export of this frame kind ('crop' or 'full')."""
    if not isinstance(meta, dict) or meta.get("format") != FORMAT or not isinstance(meta.get("samples"), list):
        raise MalformedDataError(f"{path}: not a {FORMAT} annotation file (need 'format' and a 'samples' list)")
    if meta.get("frame", "crop") != frame:
        reader = "synth_full_folder" if frame == "crop" else "synth_folder"
        kind = {"crop": "crops", "full": "full frames"}.get(meta.get("frame", "crop"), "unknown frames")
        raise MalformedDataError(f"{path}: an export of {kind}; read it with "
                                 f"build_dataset('{reader}', root=...)")


class SynthFolder(HandReader):
    """Exported renders read back like a real dataset: left hands mirrored, crop 'full' by default."""

    name = "synth_folder"

    def __init__(self, root, size: int = 256, crop: str = "full", margin: float = 1.5, augment=None,
                 valid: str = "all"):
        super().__init__(size=size, crop=crop, margin=margin, augment=augment)
        if valid not in VALID:
            raise ValueError(f"synth_folder: valid must be one of {VALID}, got {valid!r}")
        self.all_valid = valid == "all"
        self.root = require_dir(root, "synthetic export", LAYOUT)
        path = require_file(self.root / ANNOTATIONS, "synthetic export", LAYOUT)
        meta = load_json(path)
        _check_format(meta, path, "crop")
        self.path = path
        self.samples = meta["samples"]
        for k, rec in enumerate(self.samples):  # numpy now: a list of floats per vertex costs ~10x the memory
            require_keys(rec, ("image", "side", "style", "domain", "K", "xyz", "verts", "valid"), path, f"sample {k}")
            for key, shape in (("K", (3, 3)), ("xyz", (21, 3)), ("verts", (None, 3)), ("valid", (21,))):
                rec[key] = check_shape(rec[key], shape, path, f"sample {k} {key}").astype(np.float32)

    def __len__(self) -> int:
        return len(self.samples)

    def load_raw(self, index: int) -> dict:
        """One stored view: image, K, xyz and verts (mm), visibility, side, style."""
        rec = self.samples[index]
        return {
            "image": load_image(self.root / rec["image"], "synthetic export"),
            "K": rec["K"],
            "xyz": rec["xyz"],
            "verts": rec["verts"],
            "valid": np.ones(21, bool) if self.all_valid else rec["valid"].astype(bool),
            "side": rec["side"],
            "extra": {"style": rec["style"], "domain": rec["domain"]},
        }


@register("synth_folder")
def build_synth_folder(root, size: int = 256, crop: str = "full", margin: float = 1.5, augment=None,
                       valid: str = "all") -> SynthFolder:
    """Factory of build_dataset('synth_folder', root=...); valid as for 'synth' ('visible' or 'all')."""
    return SynthFolder(root, size=size, crop=crop, margin=margin, augment=augment, valid=valid)


class SynthFullFolder(torch.utils.data.Dataset):
    """An exported full-frame folder read back as 'synth_full' samples (image, K, hands, style, domain, index)."""

    def __init__(self, root):
        self.root = require_dir(root, "synthetic full-frame export", LAYOUT)
        path = require_file(self.root / ANNOTATIONS, "synthetic full-frame export", LAYOUT)
        meta = load_json(path)
        _check_format(meta, path, "full")
        self.samples = meta["samples"]
        for k, rec in enumerate(self.samples):
            require_keys(rec, ("image", "K", "hands", "style", "domain", "index"), path, f"sample {k}")
            rec["K"] = check_shape(rec["K"], (3, 3), path, f"sample {k} K").astype(np.float32)
            for j, hand in enumerate(rec["hands"]):
                where = f"sample {k} hand {j}"
                require_keys(hand, ("side", "box", "xyz", "uv", "valid"), path, where)
                for key, shape in (("box", (4,)), ("xyz", (21, 3)), ("uv", (21, 2)), ("valid", (21,))):
                    hand[key] = check_shape(hand[key], shape, path, f"{where} {key}").astype(np.float32)
                hand["valid"] = hand["valid"].astype(bool)

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> dict:
        rec = self.samples[index]
        return {"image": load_image(self.root / rec["image"], "synthetic full-frame export"), "K": rec["K"],
                "hands": rec["hands"], "style": rec["style"], "domain": rec["domain"], "index": rec["index"]}


@register("synth_full_folder")
def build_synth_full_folder(root) -> SynthFullFolder:
    """Factory of build_dataset('synth_full_folder', root=...)."""
    return SynthFullFolder(root)

