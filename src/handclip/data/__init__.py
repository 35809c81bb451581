"""Datasets: the synthetic renderer (default) and readers of real benchmarks, all yielding one sample form.

A sample is a dict: 'image' uint8 (S, S, 3) RGB crop; 'K' float32 (3, 3) crop intrinsics;
'xyz' float32 (21, 3) mm camera frame, canonical joint order, right hand (left hands mirrored);
'uv' float32 (21, 2) crop pixels (pixel centres at integers); 'valid' bool (21,); 'side' the
original side ('right' or 'left'); optional 'verts' float32 (V, 3) mm; 'domain' str; 'style' dict
of prompt words (synthetic data); 'index' int.
"""

from __future__ import annotations

import numpy as np
import torch

from handclip.registry import Registry

# dataset name -> module registering it, imported on first use
DATASETS = Registry(
    "dataset",
    {
        "synth": "handclip.data.synth",
        "synth_folder": "handclip.data.synth",
        "synth_cache": "handclip.data.synth",
        "synth_full": "handclip.data.synth",
        "synth_full_folder": "handclip.data.synth",
        "synth_full_cache": "handclip.data.frames_cache",
        "freihand": "handclip.data.freihand",
        "rhd": "handclip.data.rhd",
        "stb": "handclip.data.stb",
        "realworld": "handclip.data.realworld",
        "coco_hand": "handclip.data.coco_hand",
    },
)
register = DATASETS.register
build_dataset = DATASETS.build


def collate(samples: list[dict]) -> dict:
    """Stack arrays into tensors (images stay uint8), keep strings and dicts as lists."""
    out: dict = {}
    for key in samples[0]:
        values = [s[key] for s in samples]
        if isinstance(values[0], np.ndarray):
            out[key] = torch.from_numpy(np.stack(values))
        elif isinstance(values[0], (bool, int, float, np.number)):
            out[key] = torch.as_tensor(values)
        else:
            out[key] = values
    return out
