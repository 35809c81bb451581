"""Datasets: the synthetic renderer (default) and readers of real benchmarks, all yielding one sample form.

A sample is a dict: 'image' uint8 (S, S, 3) RGB crop; 'K' float32 (3, 3) crop intrinsics;
'xyz' float32 (21, 3) mm camera frame, canonical joint order, right hand (left hands mirrored);
'uv' float32 (21, 2) crop pixels (pixel centres at integers); 'valid' bool (21,); 'side' the
original side ('right' or 'left'); optional 'verts' float32 (V, 3) mm; 'domain' str; 'style' dict
of prompt words (synthetic data); 'index' int.
"""

from __future__ import annotations

import importlib
from typing import Callable

import numpy as np
import torch

_FACTORIES: dict[str, Callable] = {}
# dataset name -> module registering it, imported lazily
_MODULES = {
    "synth": "handclip.data.synth",
    "synth_folder": "handclip.data.synth",
    "freihand": "handclip.data.freihand",
    "rhd": "handclip.data.rhd",
    "stb": "handclip.data.stb",
    "realworld": "handclip.data.realworld",
}


def register(name: str):
    """Decorator adding a dataset factory under `name`."""

    def wrap(factory):
        _FACTORIES[name] = factory
        return factory

    return wrap


def build_dataset(name: str, **kwargs):
    """Build the dataset `name` (e.g. 'synth', 'freihand') with its keyword arguments."""
    if name not in _FACTORIES and name in _MODULES:
        importlib.import_module(_MODULES[name])
    if name not in _FACTORIES:
        raise KeyError(f"unknown dataset {name!r}; known: {sorted(set(_MODULES) | set(_FACTORIES))}")
    return _FACTORIES[name](**kwargs)


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
