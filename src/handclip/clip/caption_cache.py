"""Pre-rendered captioned renders for training a CLIP: hands and hand-free scenes with their true words.

`build(root, domains, hands, scenes, size, seed)` renders once (worker processes, tqdm) into `root` (default:
a folder keyed by the settings and the renderer's fingerprint under the cache dir):

    meta.json   what was rendered (per-domain counts of hands and scenes, size, seed, renderer fingerprint)
    images.npy  uint8 (N, S, S, 3): the hands first, then the scenes; read by memory map
    words.npz   hand_color, color, background (N,) int16 indices into handclip.data.synth.words' columns
                (hand_color -1: a scene, no hand), domain (N,) index into meta's domains

Hand k of domain d is SynthHands(d, seed)[k] (right hands), scene k is scenery.scenery_sample(d, seed, k).
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
from pathlib import Path

import numpy as np
from tqdm import tqdm

from handclip.clip.text_cache import default_cache_dir
from handclip.data.synth.cache import renderer_fingerprint, split_counts
from handclip.data.synth.dataset import SynthHands
from handclip.data.synth.scenery import scenery_sample
from handclip.data.synth.words import VOCABULARY

FORMAT = "handclip-clip-captions/1"
COLUMNS = tuple(VOCABULARY)  # hand_color, color, background


def encode_words(style: dict) -> tuple[int, ...]:
    """A render's words as column indices (hand_color -1 when the render has no hand)."""
    return tuple(VOCABULARY[k].index(style[k]) if style.get(k) is not None else -1 for k in COLUMNS)


def decode_words(codes) -> dict:
    """Column indices back to words (hand_color None for a scene)."""
    return {k: (VOCABULARY[k][int(c)] if c >= 0 else None) for k, c in zip(COLUMNS, codes)}


def render_job(job: tuple) -> tuple[int, np.ndarray, tuple[int, ...]]:
    """Worker: (slot, image, word codes) of one hand or scene."""
    slot, kind, domain, size, seed, index = job
    if kind == "hand":
        sample = SynthHands(domain=domain, n=index + 1, size=size, seed=seed)[index]
    else:
        sample = scenery_sample(domain, seed, index, size)
    return slot, sample["image"], encode_words(sample["style"])


def build(root, domains: dict, hands: int, scenes: int, size: int, seed: int = 0, workers: int = 2) -> Path:
    """Render the captioned set into `root` (created; None: under the cache dir) unless it holds it already."""
    hand_counts, scene_counts = split_counts(domains, hands), split_counts(domains, scenes) if scenes else {}
    meta = {"format": FORMAT, "domains": list(domains), "hands": hand_counts, "scenes": scene_counts,
            "size": int(size), "seed": int(seed), "renderer": renderer_fingerprint()}
    if root is None:
        key = hashlib.sha256(json.dumps(meta, sort_keys=True).encode()).hexdigest()[:12]
        root = default_cache_dir() / "clip_captions" / f"{hands}+{scenes}-{size}px-{key}"
    root = Path(root).expanduser()
    if (root / "meta.json").exists():
        old = json.loads((root / "meta.json").read_text())
        if old == meta:
            return root
        raise FileExistsError(f"{root} holds captioned renders of other settings (or another renderer); give "
                              f"another folder, or delete it to render anew")
    if root.exists() and any(p.name != "images.partial.npy" for p in root.iterdir()):
        raise FileExistsError(f"{root} exists and is not an unfinished caption cache; give an empty or new folder")
    jobs = [("hand", d, size, seed, k) for d, c in hand_counts.items() for k in range(c)]
    jobs += [("scene", d, size, seed, k) for d, c in scene_counts.items() for k in range(c)]
    n = len(jobs)
    root.mkdir(parents=True, exist_ok=True)
    images = np.lib.format.open_memmap(root / "images.partial.npy", "w+", np.uint8, (n, size, size, 3))
    codes = np.zeros((n, len(COLUMNS)), np.int16)
    domain = np.array([meta["domains"].index(j[1]) for j in jobs], np.int16)
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    pool = ctx.Pool(workers) if workers > 1 else None
    numbered = [(slot, *job) for slot, job in enumerate(jobs)]
    results = pool.imap_unordered(render_job, numbered, chunksize=16) if pool else map(render_job, numbered)
    try:
        for slot, image, words in tqdm(results, total=n, desc=f"render captioned set {root.name}", unit="img"):
            images[slot], codes[slot] = image, words
    finally:
        if pool:
            pool.terminate()
    images.flush()
    np.savez(root / "words.npz", **{k: codes[:, i] for i, k in enumerate(COLUMNS)}, domain=domain)
    (root / "images.partial.npy").rename(root / "images.npy")
    (root / "meta.json").write_text(json.dumps(meta, indent=1))  # written last: its presence means complete
    return root


class CaptionCache:
    """The rendered set read back: `images` (memory map) and `codes` (N, 3) word indices per render."""

    def __init__(self, root):
        self.root = Path(root)
        try:
            self.meta = json.loads((self.root / "meta.json").read_text())
            self.images = np.load(self.root / "images.npy", mmap_mode="r")
            with np.load(self.root / "words.npz") as z:
                self.codes = np.stack([z[k] for k in COLUMNS], 1).astype(np.int64)
        except (OSError, ValueError, KeyError) as err:
            raise FileNotFoundError(f"{self.root}: not a complete caption cache ({err}); delete it to render anew") from None

    def __len__(self) -> int:
        return len(self.images)
