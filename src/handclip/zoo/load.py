"""One loader for every way a model is named: a training checkpoint (.pt), a packed .safetensors model
(its .yaml beside it), or the name of a shipped model (None: the default one)."""

from __future__ import annotations

import torch

from handclip.engine.checkpoint import load_model_and_config
from handclip.zoo.index import resolve
from handclip.zoo.weights import load_packed


def load_model(name_or_path=None, map_location: str | torch.device = "cpu", zoo=None) -> tuple[object, dict]:
    """(method in eval mode on `map_location`, its resolved config) for a checkpoint, a .safetensors model
    or a shipped model name; errors are CheckpointError (ZooError for the zoo) naming the file or the name."""
    path = resolve(name_or_path, zoo)
    if path.suffix == ".safetensors":
        return load_packed(path, map_location)
    return load_model_and_config(path, map_location)
