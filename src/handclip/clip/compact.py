"""A compact CLIP trained here: transformers' CLIPModel of a small config, saved as one float16 safetensors file.

The file carries everything needed to rebuild it offline: the CLIPConfig (JSON in the header), a fingerprint of
the BPE vocabulary it was trained with (the package's, handclip/assets/clip), and what it was trained on. Loading
checks the fingerprint, builds the model, casts the weights back to float32 and puts it in eval mode.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from importlib import resources
from pathlib import Path

import torch

from handclip.atomic import write_atomic
from handclip.zoo import ZooError
from handclip.zoo.weights import read_weights, serialize_weights

FORMAT = "handclip-clip/1"
TOWER_KEYS = ("hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads")


@lru_cache(maxsize=1)
def tokenizer_fingerprint() -> str:
    """SHA-256 (16 hex digits) of the shipped BPE vocabulary: weights trained on other token ids are refused."""
    path = resources.files("handclip") / "assets" / "clip" / "bpe_simple_vocab_16e6.txt.gz"
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def build_model(spec: dict, seed: int = 0):
    """A randomly initialised CLIPModel from a `clip:` config block: image_size, patch_size, projection_dim and
    `vision` / `text` mappings of hidden_size, intermediate_size, num_hidden_layers, num_attention_heads."""
    from transformers import CLIPModel

    from handclip.clip.towers import clip_config

    for tower in ("vision", "text"):
        block = spec.get(tower) or {}
        missing = [k for k in TOWER_KEYS if k not in block]
        if missing:
            raise ValueError(f"clip.{tower} needs {', '.join(TOWER_KEYS)}; missing {', '.join(missing)}")
    config = clip_config(text=dict(spec["text"]), vision=dict(spec["vision"]), image_size=int(spec["image_size"]),
                         patch_size=int(spec["patch_size"]), projection_dim=int(spec["projection_dim"]))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return CLIPModel(config)


def count_parameters(model) -> int:
    """Parameter elements saved in the file."""
    return int(sum(v.numel() for v in model.state_dict().values()))


def save(model, path, info: dict) -> dict:
    """Write `model` as float16 safetensors at `path` with its config, the tokenizer fingerprint and `info`
    (JSON-able: data, recipe, metrics); returns {'bytes', 'sha256', 'params'}."""
    tensors = {k: v.detach().to(torch.float16).cpu().contiguous().clone() for k, v in model.state_dict().items()}
    meta = {"format": FORMAT, "clip_config": model.config.to_json_string(use_diff=False),
            "tokenizer": tokenizer_fingerprint(), "info": json.dumps(info)}
    data = serialize_weights(tensors, meta)
    write_atomic(path, data)
    return {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(), "params": count_parameters(model)}


def read_header(path) -> dict:
    """The file's metadata: 'format', 'clip_config' (dict), 'tokenizer', 'info' (dict); errors name the file."""
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise ZooError(f"{path}: CLIP weights file not found")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
    except Exception as err:  # noqa: BLE001 - safetensors raises several kinds for a damaged header
        raise ZooError(f"{path}: cannot read CLIP weights ({path.stat().st_size} bytes): the file is truncated or "
                       f"corrupt; write it again with handclip clip-train or reinstall handclip ({err})") from None
    if meta.get("format") != FORMAT:
        raise ZooError(f"{path}: not a CLIP written by handclip clip-train (format {meta.get('format')!r}, "
                       f"expected {FORMAT!r})")
    return {**meta, "clip_config": json.loads(meta["clip_config"]), "info": json.loads(meta.get("info") or "{}")}


def load_model(path):
    """The CLIPModel saved at `path`, float32, eval mode; ZooError naming the file when it is missing or damaged."""
    from transformers import CLIPConfig, CLIPModel

    path = Path(path)
    header = read_header(path)
    if header["tokenizer"] != tokenizer_fingerprint():
        raise ZooError(f"{path}: trained with another BPE vocabulary (fingerprint {header['tokenizer']}, this "
                       f"package's is {tokenizer_fingerprint()}); its text tower would read wrong token ids")
    model = CLIPModel(CLIPConfig.from_dict(header["clip_config"]))
    tensors = read_weights(path)
    try:
        model.load_state_dict({k: v.float() for k, v in tensors.items()}, strict=True)
    except RuntimeError as err:
        raise ZooError(f"{path}: weights do not fit the CLIP config in its own header ({str(err).splitlines()[0]}); "
                       f"the file is damaged, write it again with handclip clip-train") from None
    return model.eval()
