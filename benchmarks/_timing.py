"""Shared timing helper of the benchmark scripts: eager inference throughput of an image model."""

from __future__ import annotations

import torch

from handclip import timing


def images_per_second(model, batch: int, size: int, min_seconds: float) -> float:
    """Median wall-clock images/s of `model` on random (batch, 3, size, size) input (handclip.timing's rule)."""
    x = torch.rand(batch, 3, size, size)
    with torch.inference_mode():
        return timing.images_per_second(lambda: model(x), batch, min_seconds=min_seconds)["wall"]
