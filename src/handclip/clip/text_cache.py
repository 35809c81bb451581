"""Fixed prompts' CLIP text features, computed once per CLIP weights and cached to a file.

The key is the towers' weight hash plus a hash of the sentences, so other weights or other prompts
never reuse a stale file. The folder is `cache_dir`, else $HANDCLIP_CACHE, else ~/.cache/handclip.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import torch
from tqdm import tqdm


def default_cache_dir() -> Path:
    """$HANDCLIP_CACHE or ~/.cache/handclip, the folder of cached features."""
    return Path(os.environ.get("HANDCLIP_CACHE", Path.home() / ".cache" / "handclip"))


def cache_path(towers, sentences: list[str], cache_dir: str | Path | None = None) -> Path:
    """File holding the features of `sentences` under these towers' weights."""
    text_key = hashlib.sha256("\n".join(sentences).encode()).hexdigest()[:16]
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    return folder / "clip_text" / f"{towers.weights_hash()}_{text_key}.pt"


def text_features(towers, sentences: list[str], cache_dir: str | Path | None = None,
                  batch_size: int = 256) -> torch.Tensor:
    """Unit-length f^CT of every sentence (N, D) on CPU, read from the cache or computed and written."""
    path = cache_path(towers, sentences, cache_dir)
    if path.is_file():
        try:
            feats = torch.load(path, map_location="cpu", weights_only=True)
            if feats.shape == (len(sentences), towers.dim):
                return feats
        except Exception:  # noqa: BLE001 - a corrupt cache raises many kinds; it is recomputed and overwritten
            pass
    chunks = []
    for start in tqdm(range(0, len(sentences), batch_size), desc="CLIP text features", leave=False):
        chunks.append(towers.encode_text(sentences[start : start + batch_size]).float().cpu())
    feats = torch.cat(chunks)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    torch.save(feats, tmp)
    os.replace(tmp, path)
    return feats
