"""Validation during training: predict every `data.val` set and score wrist-relative 3D and 2D errors.

Until the evaluation protocols (handclip.protocols + handclip.evaluator) are in the tree this scores
the protocol-independent numbers: mean wrist-relative 3D EPE (mm) and 2D EPE (px) over valid joints.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader

from handclip import metrics
from handclip.data import build_dataset, collate
from handclip.geometry import root_relative


def dataset_label(spec: dict) -> str:
    """A short name for a dataset entry of the config: its 'label', else name/domain or name/split."""
    if spec.get("label"):
        return str(spec["label"])
    suffix = spec.get("domain") or spec.get("split")
    return f"{spec['name']}/{suffix}" if suffix else str(spec["name"])


@torch.no_grad()
def predict_dataset(method, dataset, device: torch.device, batch_size: int) -> tuple[dict, dict]:
    """Run method.predict over a dataset; returns (pred, gt) dicts of concatenated numpy arrays."""
    method.eval()
    preds: dict[str, list] = {}
    gts: dict[str, list] = {}
    for batch in DataLoader(dataset, batch_size=batch_size, shuffle=False, collate_fn=collate):
        inputs = {k: v.to(device) if torch.is_tensor(v) else v for k, v in batch.items()}
        for key, value in method.predict(inputs).items():
            preds.setdefault(key, []).append(value.float().cpu().numpy())
        for key in ("xyz", "uv", "valid"):
            if key in batch:
                gts.setdefault(key, []).append(batch[key].numpy())
    return ({k: np.concatenate(v) for k, v in preds.items()}, {k: np.concatenate(v) for k, v in gts.items()})


def score(pred: dict, gt: dict) -> dict:
    """Mean wrist-relative 3D EPE (mm) and 2D EPE (px) over valid joints, and the sample count."""
    valid = gt.get("valid")
    valid = np.ones(gt["xyz"].shape[:2], bool) if valid is None else valid.astype(bool)
    errors = metrics.keypoint_errors(root_relative(pred["xyz"]), root_relative(gt["xyz"]))
    out = {"n": int(len(errors)), "epe_3d_mm": metrics.mean_epe(errors, valid & valid[:, :1])}
    if "uv" in pred and "uv" in gt:
        out["epe_2d_px"] = metrics.mean_epe(metrics.keypoint_errors(pred["uv"], gt["uv"]), valid)
    return out


def validate(method, specs: list[dict], protocol: str, device: torch.device, batch_size: int) -> dict:
    """Score the method on each dataset spec (kwargs of build_dataset); {label: metrics}."""
    del protocol  # the named protocols take over here once handclip.protocols lands
    results = {}
    for spec in specs:
        kwargs = {k: v for k, v in spec.items() if k != "label"}
        pred, gt = predict_dataset(method, build_dataset(**kwargs), device, batch_size)
        results[dataset_label(spec)] = score(pred, gt)
    return results
