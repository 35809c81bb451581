"""Export rendered hands to disk in one layout, plus a contact sheet to look at.

Layout of an export folder (read back by build_dataset('synth_folder', root=...)):

    images/00000000.png ...   RGB crops as the camera saw them (left hands are left-hand images)
    annotations.json          {"format": "handclip-synth/1", "domain", "seed", "size", "side", "n",
                               "joint_names": [21 names], "units": ..., "samples": [
                                 {"image": "images/00000000.png", "index", "side", "domain",
                                  "K": 3x3, "xyz": 21x3 mm, "uv": 21x2 px, "valid": 21 bools,
                                  "verts": Vx3 mm (faces: handclip.data.synth.mesh.load_template().faces),
                                  "style": {"hand_color", "color", "background"}}, ...]}
    contact_sheet.png         the first 16 images, 4 x 4 at 112 px

A full-frame export (`handclip synth --frame full`, dataset 'synth_full') has "frame": "full" and
"height" in annotations.json, and per sample {"image", "index", "domain", "K", "style", "hands": [{"side",
"box": [x, y, w, h] px, "xyz", "uv", "valid"}, ...]} (no vertices); its contact sheet shows the boxes
(green right hands, blue left ones). build_dataset('synth_full_folder', root=...) reads it back.

xyz/verts are millimetres in the camera frame (x right, y down, z forward), uv are pixels with
centres at integer coordinates, labels of left hands are left-hand labels (mirror to use them).
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import torch
from tqdm import tqdm

from handclip.skeleton import JOINT_NAMES

FORMAT = "handclip-synth/1"
ANNOTATIONS = "annotations.json"
CONTACT_SHEET = "contact_sheet.png"


def contact_sheet(images: list[np.ndarray], cols: int = 4, cell: int = 112) -> np.ndarray:
    """Tile RGB images (resized to `cell` wide, keeping the first image's aspect) into a grid `cols` wide,
    black where cells are empty."""
    rows = max(1, -(-len(images) // cols))
    high = round(cell * images[0].shape[0] / images[0].shape[1]) if images else cell
    sheet = np.zeros((rows * high, cols * cell, 3), np.uint8)
    for k, img in enumerate(images):
        r, c = divmod(k, cols)
        sheet[r * high:(r + 1) * high, c * cell:(c + 1) * cell] = cv2.resize(img, (cell, high), interpolation=cv2.INTER_AREA)
    return sheet


def draw_boxes(image: np.ndarray, hands: list[dict]) -> np.ndarray:
    """A copy of a full frame with each hand's box drawn (green right hands, blue left ones)."""
    out = image.copy()
    width = max(1, image.shape[1] // 160)
    for hand in hands:
        x, y, w, h = (int(round(float(v))) for v in hand["box"])
        cv2.rectangle(out, (x, y), (x + w, y + h), (40, 220, 40) if hand["side"] == "right" else (40, 120, 255), width)
    return out


def write_png(path: Path, rgb: np.ndarray) -> None:
    """Write an RGB uint8 image as PNG, failing loudly."""
    if not cv2.imwrite(str(path), np.ascontiguousarray(rgb[..., ::-1])):
        raise OSError(f"could not write {path}")


def _hand_record(hand: dict) -> dict:
    """The JSON annotation of one hand of a full frame."""
    return {"side": hand["side"], "box": np.round(np.asarray(hand["box"], float), 3).tolist(),
            "xyz": np.round(np.asarray(hand["xyz"], float), 3).tolist(), "uv": np.round(np.asarray(hand["uv"], float), 3).tolist(),
            "valid": [bool(v) for v in hand["valid"]]}


def _record(sample: dict, image_name: str) -> dict:
    """The JSON annotation of one camera-view sample (labels rounded to 0.001 mm / px, vertices to 0.01 mm)."""
    if "hands" in sample:  # a full frame
        return {"image": image_name, "index": sample["index"], "domain": sample["domain"],
                "K": np.round(sample["K"].astype(float), 4).tolist(), "style": sample["style"],
                "hands": [_hand_record(h) for h in sample["hands"]]}
    return {
        "image": image_name, "index": sample["index"], "side": sample["side"], "domain": sample["domain"],
        "K": np.round(sample["K"].astype(float), 4).tolist(), "xyz": np.round(sample["xyz"].astype(float), 3).tolist(),
        "uv": np.round(sample["uv"].astype(float), 3).tolist(), "valid": [bool(v) for v in sample["valid"]],
        "verts": np.round(sample["verts"].astype(float), 2).tolist(), "style": sample["style"],
    }


class _Views(torch.utils.data.Dataset):
    """Camera views (SynthHands.view) of a dataset, so a DataLoader can render them in workers."""

    def __init__(self, dataset):
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> dict:
        return self.dataset.view(index)


def export(dataset, out_dir, workers: int = 0) -> Path:
    """Render every sample of a SynthHands dataset into `out_dir` (layout above); returns annotations.json."""
    out = Path(out_dir)
    (out / "images").mkdir(parents=True, exist_ok=True)
    loader = torch.utils.data.DataLoader(_Views(dataset), batch_size=None, num_workers=workers)
    full = getattr(dataset, "frame", "crop") == "full"
    records, firsts = [], []
    for sample in tqdm(loader, total=len(dataset), desc=f"synth {dataset.domain}", unit="img"):
        sample = {k: v.numpy() if isinstance(v, torch.Tensor) else v for k, v in sample.items()}
        name = f"images/{sample['index']:08d}.png"
        write_png(out / name, sample["image"])
        records.append(_record(sample, name))
        if len(firsts) < 16:
            firsts.append(draw_boxes(sample["image"], sample["hands"]) if full else sample["image"])
    meta = {
        "format": FORMAT, "domain": dataset.domain, "seed": dataset.seed, "size": dataset.size,
        "side": dataset.side, "n": len(records), "joint_names": list(JOINT_NAMES),
        "units": "xyz/verts mm camera frame (x right, y down, z forward); uv px, pixel centres at integers",
        "samples": records,
    }
    if full:
        meta |= {"frame": "full", "height": dataset.height}
    path = out / ANNOTATIONS
    path.write_text(json.dumps(meta))
    write_png(out / CONTACT_SHEET, contact_sheet(firsts))
    return path
