"""A pre-rendered training cache, so that no training step waits on the renderer.

`build_dataset("synth_cache", domains={"texture": 0.6, "source": 0.4}, n=..., render_size=...)` renders
the mixture once (worker processes, tqdm) into `root` (default: a folder keyed by the settings under the cache dir):

    meta.json      what was rendered (domains and counts, size, seed, renderer fingerprint)
    images.npy     uint8 (N, S, S, 3) right-hand crops, read by memory map
    labels.npz     K (N, 3, 3), xyz (N, 21, 3) mm, valid (N, 21), domain (N,) index into meta's domains
    verts.npy      float16 (N, V, 3) mm (only with verts=True, for mesh methods)

and reads it back through the common reader pipeline (augmentation: scale, shift, roll, colour), so a
sample is rendered once and seen many times under different crops. A folder holding a cache of other
settings is refused rather than overwritten; sample k of domain d is ('synth', d, seed, k), the same
pixels `build_dataset("synth", ...)` gives.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
from tqdm import tqdm

from handclip.clip.text_cache import default_cache_dir
from handclip.data import register
from handclip.data.io import MalformedDataError
from handclip.data.reader import HandReader
from handclip.data.synth.dataset import SynthHands
from handclip.data.synth.domains import get as get_domain

FORMAT = "handclip-synth-cache/1"
PARTIAL = ".partial.npy"  # arrays being rendered; renamed when complete, so meta.json is written last


@lru_cache(maxsize=1)
def renderer_fingerprint() -> str:
    """Hash of the renderer's sources and mesh asset: a cache made by another renderer is stale."""
    digest = hashlib.sha256()
    pkg = resources.files("handclip") / "data" / "synth"
    for name in sorted(p.name for p in pkg.iterdir() if p.name.endswith(".py") and p.name != "cache.py"):
        digest.update((pkg / name).read_bytes())
    digest.update((resources.files("handclip") / "assets" / "webxr_hand" / "right_hand.npz").read_bytes())
    return digest.hexdigest()[:16]


def split_counts(domains: dict, n: int) -> dict[str, int]:
    """Samples per domain from mixture weights, summing to n (largest remainders get the leftovers)."""
    if not domains or any(float(w) < 0 for w in domains.values()) or sum(map(float, domains.values())) <= 0:
        raise ValueError(f"synth_cache: domains must map domain names to non-negative weights, got {domains!r}")
    for name in domains:
        get_domain(name)
    names = list(domains)
    w = np.array([float(domains[k]) for k in names])
    exact = w / w.sum() * n
    counts = np.floor(exact).astype(int)
    counts[np.argsort(counts - exact)[: n - counts.sum()]] += 1
    return {k: int(c) for k, c in zip(names, counts)}


def cache_folder(root, meta: dict, label: str, kind: str, name: str) -> tuple[Path, bool]:
    """The folder of the cache `meta` describes, created, and whether it already holds that cache complete:
    `root`, or (None) $HANDCLIP_CACHE (or ~/.cache/handclip)/`kind`/`name`-<hash of meta>. A folder holding a
    cache of other settings, or other files, is refused; `label` names the dataset in the errors."""
    if root is None:
        key = hashlib.sha256(json.dumps(meta, sort_keys=True).encode()).hexdigest()[:12]
        root = default_cache_dir() / kind / f"{name}-{key}"
    root = Path(root).expanduser()
    if (root / "meta.json").exists():
        old = json.loads((root / "meta.json").read_text())
        if old == meta:
            return root, True
        raise FileExistsError(f"{label}: {root} holds a cache of other settings ({_diff(old, meta)}); "
                              f"give another root, or delete that folder to re-render")
    if root.exists() and any(not p.name.endswith(PARTIAL) for p in root.iterdir()):
        raise FileExistsError(f"{label}: {root} exists and is not an unfinished cache; give an empty or new folder")
    root.mkdir(parents=True, exist_ok=True)
    for stale in root.glob(f"*{PARTIAL}"):  # an interrupted render: start it again
        stale.unlink()
    return root, False


def rendered(worker, jobs: list, workers: int, desc: str):
    """worker(job) of every job, in any order, with tqdm; in `workers` processes when more than one."""
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    pool = ctx.Pool(workers) if workers > 1 else None
    try:
        yield from tqdm(pool.imap_unordered(worker, jobs, chunksize=16) if pool else map(worker, jobs),
                        total=len(jobs), desc=desc, unit="img")
    finally:
        if pool:
            pool.terminate()


def read_cache(root: Path, fmt: str, labels: str) -> tuple[dict, np.ndarray, dict]:
    """(meta, images.npy by memory map, the arrays of the `labels` .npz) of a complete cache of format `fmt`."""
    meta = json.loads((root / "meta.json").read_text())
    if meta.get("format") != fmt:
        raise MalformedDataError(f"{root / 'meta.json'}: not a {fmt} cache")
    with np.load(root / labels) as z:
        arrays = {k: z[k] for k in z.files}
    return meta, np.load(root / "images.npy", mmap_mode="r"), arrays


def domain_jobs(counts: dict[str, int], *settings) -> tuple[list[tuple], np.ndarray]:
    """Render jobs (slot, domain, count, *settings, index) of a mixture, slots in domain order, and each
    slot's domain number (int16)."""
    jobs = [(0, name, count, *settings, k) for name, count in counts.items() for k in range(count)]
    jobs = [(slot, *job[1:]) for slot, job in enumerate(jobs)]
    dom = np.repeat(np.arange(len(counts), dtype=np.int16), list(counts.values()))
    return jobs, dom


def _render(job: tuple) -> tuple[int, dict]:
    """Worker: render sample `index` of one domain (right-hand view)."""
    slot, domain, count, size, seed, index = job
    return slot, SynthHands(domain=domain, n=count, size=size, seed=seed)[index]


def build_cache(root, domains: dict, n: int, size: int, seed: int = 0, verts: bool = False, workers: int = 2) -> Path:
    """Render the mixture into `root` (created); returns root. Existing matching caches are kept.

    root None: a folder under $HANDCLIP_CACHE (or ~/.cache/handclip)/synth named by the settings and the
    renderer's fingerprint, so a changed renderer or recipe renders anew instead of reusing stale pixels."""
    counts = split_counts(domains, n)
    meta = {"format": FORMAT, "domains": counts, "n": int(n), "size": int(size), "seed": int(seed),
            "verts": bool(verts), "renderer": renderer_fingerprint()}
    root, complete = cache_folder(root, meta, "synth_cache", "synth", f"{'+'.join(counts)}-{n}-{size}px")
    if complete:
        return root
    images = np.lib.format.open_memmap(root / "images.partial.npy", "w+", np.uint8, (n, size, size, 3))
    K, xyz, valid = np.zeros((n, 3, 3), np.float32), np.zeros((n, 21, 3), np.float32), np.zeros((n, 21), bool)
    jobs, dom = domain_jobs(counts, size, seed)
    vbuf = None
    for slot, s in rendered(_render, jobs, workers, f"render cache {root.name}"):
        images[slot], K[slot], xyz[slot], valid[slot] = s["image"], s["K"], s["xyz"], s["valid"]
        if verts:
            if vbuf is None:
                vbuf = np.lib.format.open_memmap(root / "verts.partial.npy", "w+", np.float16, (n,) + s["verts"].shape)
            vbuf[slot] = s["verts"]
    images.flush()
    np.savez(root / "labels.npz", K=K, xyz=xyz, valid=valid, domain=dom)
    (root / "images.partial.npy").rename(root / "images.npy")
    if vbuf is not None:
        vbuf.flush()
        (root / "verts.partial.npy").rename(root / "verts.npy")
    (root / "meta.json").write_text(json.dumps(meta, indent=1))  # written last: its presence means complete
    return root


def _diff(old: dict, new: dict) -> str:
    """The settings that differ, as 'key: old -> new'."""
    return ", ".join(f"{k}: {old.get(k)!r} -> {new.get(k)!r}" for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k))


class SynthCache(HandReader):
    """The cached renders as a reader: crop 'full' (the renders' own framing) with optional augmentation."""

    name = "synth_cache"

    def __init__(self, domains: dict, n: int, root=None, size: int = 256, render_size: int = 256, seed: int = 0,
                 verts: bool = False, workers: int = 2, augment=None):
        super().__init__(size=size, crop="full", augment=augment)
        self.root = build_cache(root, domains, n, render_size, seed, verts, workers)
        self.meta, self.images, self.labels = read_cache(self.root, FORMAT, "labels.npz")
        self.domain_names = list(self.meta["domains"])
        self.verts = np.load(self.root / "verts.npy", mmap_mode="r") if verts else None

    def __len__(self) -> int:
        return len(self.images)

    def load_raw(self, index: int) -> dict:
        """One cached right-hand render with its exact labels."""
        raw = {"image": np.asarray(self.images[index]), "K": self.labels["K"][index], "xyz": self.labels["xyz"][index],
               "valid": self.labels["valid"][index], "side": "right"}
        if self.verts is not None:
            raw["verts"] = self.verts[index].astype(np.float32)
        raw["extra"] = {"domain": self.domain_names[int(self.labels["domain"][index])]}
        return raw


@register("synth_cache")
def build_synth_cache(domains: dict, n: int, root=None, size: int = 256, render_size: int = 256, seed: int = 0,
                      verts: bool = False, workers: int = 2, augment=None) -> SynthCache:
    """Factory of build_dataset('synth_cache', ...): renders the cache on first use, then reads it."""
    return SynthCache(domains, n, root=root, size=size, render_size=render_size, seed=seed, verts=verts, workers=workers,
                      augment=augment)
