"""Registry of trainable methods (DG-CLIP, its baselines, CLIP-Hand3D).

A method module registers a factory with @register("name"); the engine builds it from the
`method:` block of a config via build(name, **kwargs). See handclip.methods.base.Method.
"""

from __future__ import annotations

import importlib
from typing import Callable

_FACTORIES: dict[str, Callable] = {}
# method name -> module that registers it, imported on first use so `handclip --help` stays fast
_MODULES = {
    "dg_clip": "handclip.methods.dg_clip",
    "dg_clip_baseline": "handclip.methods.dg_clip",
    "clip_hand3d": "handclip.methods.clip_hand3d",
    "mean_pose": "handclip.methods.mean_pose",
}


def register(name: str):
    """Class/function decorator adding a method factory under `name`."""

    def wrap(factory):
        _FACTORIES[name] = factory
        return factory

    return wrap


def build(name: str, **kwargs):
    """Build the method `name` with keyword arguments from its config block."""
    if name not in _FACTORIES and name in _MODULES:
        importlib.import_module(_MODULES[name])
    if name not in _FACTORIES:
        raise KeyError(f"unknown method {name!r}; known: {sorted(set(_MODULES) | set(_FACTORIES))}")
    return _FACTORIES[name](**kwargs)
