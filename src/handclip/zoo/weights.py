"""Shipped weights: a method's state as safetensors (float16 where the outputs barely move, else float32),
read back into the method its resolved config builds.

Float16 halves the file. Whether it is safe is measured, not assumed: the method predicts a fixed batch
of rendered hands through handclip.api.Predictor (the user's path) with its own weights and with the weights
rounded to float16; the largest change of any output (xyz and verts in mm, uv in px) must stay within
FP16_TOLERANCE. Loaded weights are cast back to the method's float32, so inference runs in float32.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import torch

from handclip.engine.checkpoint import build_method, load_weights
from handclip.engine.config import ConfigError, read_resolved
from handclip.zoo.index import ZooError

FP16_TOLERANCE = 0.1  # mm (xyz, verts) and px (uv): far below the errors of any hand-pose model
PARITY_IMAGES = 4
PARITY_SEED = 20240
OUTPUTS = ("xyz", "uv", "verts")


def count_parameters(method) -> int:
    """Number of parameter elements the method saves (frozen CLIP towers, left out of its state, not counted)."""
    saved = set(method.state_dict())
    return int(sum(p.numel() for name, p in method.named_parameters() if name in saved))


def weight_tensors(method, dtype: torch.dtype) -> dict[str, torch.Tensor]:
    """The method's state as contiguous CPU tensors, floating ones cast to `dtype` (integers and flags kept)."""
    return {k: (v.to(dtype) if v.is_floating_point() else v).detach().cpu().contiguous().clone()
            for k, v in method.state_dict().items()}


def parity_images(size: int, count: int = PARITY_IMAGES) -> list[np.ndarray]:
    """A fixed batch of rendered hands (handclip's synthetic renderer, seeded) at the method's input size: hand
    images give heatmaps clear peaks, where noise would leave near-ties whose argmax any rounding flips."""
    from handclip.data import build_dataset

    renders = build_dataset("synth", n=count, size=size, seed=PARITY_SEED)
    return [renders[i]["image"] for i in range(count)]


def max_output_difference(method, other, images: list[np.ndarray]) -> float:
    """Largest absolute difference between two methods' predictions (xyz, uv, verts) on `images`; a method
    that is not a pose model (a hand detector) measures it itself with `output_difference`."""
    if hasattr(method, "output_difference"):
        return float(method.output_difference(other, images))
    from handclip.api import Predictor

    ours = Predictor(method, device="cpu").predict(images)
    theirs = Predictor(other, device="cpu").predict(images)
    return max(float(np.abs(a[k] - b[k]).max()) for a, b in zip(ours, theirs) for k in OUTPUTS if k in a)


def choose_dtype(method, tolerance: float = FP16_TOLERANCE) -> tuple[str, float]:
    """('float16' or 'float32', the output difference float16 weights cause on parity_images)."""
    rounded = copy.deepcopy(method).cpu().eval()
    load_weights(rounded, weight_tensors(method, torch.float16), "float16 copy")  # copy_ casts back to float32
    diff = max_output_difference(method.cpu().eval(), rounded, parity_images(int(method.input_size)))
    return ("float16" if np.isfinite(diff) and diff <= tolerance else "float32"), diff


def serialize_weights(tensors: dict[str, torch.Tensor], metadata: dict[str, str]) -> bytes:
    """The safetensors bytes of `tensors` with string `metadata` in the header."""
    from safetensors.torch import save

    return save(tensors, metadata=metadata)


def read_weights(path: str | Path) -> dict[str, torch.Tensor]:
    """The tensors of a safetensors file, with a ZooError naming a missing, truncated or corrupt file."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(path)
    if not path.is_file():
        raise ZooError(f"{path}: model weights file not found")
    try:
        return load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError, RuntimeError) as err:
        raise ZooError(f"{path}: cannot read model weights ({path.stat().st_size} bytes): the file is truncated or "
                       f"corrupt; reinstall handclip or pack the model again. Underlying error: {err}") from None


def config_path(weights: str | Path) -> Path:
    """The resolved config shipped beside a weights file: same name, .yaml."""
    return Path(weights).with_suffix(".yaml")


def load_packed(weights: str | Path, map_location: str | torch.device = "cpu") -> tuple[object, dict]:
    """(method in eval mode, resolved config) of a packed model: <name>.safetensors and <name>.yaml beside it."""
    yaml_path = config_path(weights)
    try:
        config = read_resolved(yaml_path)
    except ConfigError as err:
        raise ZooError(f"{err} (the config of {Path(weights).name}); reinstall handclip or pack the model again") from None
    tensors = read_weights(weights)
    method = build_method(config)
    load_weights(method, tensors, weights)
    return method.to(torch.device(map_location)).eval(), config
