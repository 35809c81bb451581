"""Text -> image retrieval over captioned renders: for each text query, the renders a CLIP ranks highest, drawn
with their true words (the figure of docs/clip_style.md; `handclip clip-retrieval`)."""

from __future__ import annotations

import numpy as np
import torch
from tqdm import tqdm

from handclip.clip.caption_cache import decode_words, encode_words
from handclip.clip.feature_figures import image_features, retrieve


def gallery(domain: str, hands: int, scenes: int, size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`hands` right-hand renders then `scenes` hand-free scenes of (domain, seed): images and word codes."""
    from handclip.data.synth.dataset import SynthHands
    from handclip.data.synth.scenery import scenery_sample

    renders = SynthHands(domain=domain, n=max(1, hands), size=size, seed=seed)
    samples = [renders[i] for i in tqdm(range(hands), desc="render hands", leave=False)]
    samples += [scenery_sample(domain, seed, i, size) for i in tqdm(range(scenes), desc="render scenes", leave=False)]
    return np.stack([s["image"] for s in samples]), np.array([encode_words(s["style"]) for s in samples])


def short_words(codes) -> str:
    """'peach / purple room' for a hand render, 'no hand / purple room' for a scene."""
    words = decode_words(codes)
    return f"{words['hand_color'] or 'no hand'} / {words['color']} {words['background']}"


@torch.no_grad()
def search(towers, queries: list[str], images: np.ndarray, k: int) -> list[tuple[list[int], list[float]]]:
    """Per query, the indices and cosine similarities of the k images ranked highest."""
    feats = image_features(towers, images)
    texts = towers.encode_text(list(queries)).float().cpu()
    return [retrieve(t, feats, k) for t in texts]


def figure(queries: list[str], images: np.ndarray, codes: np.ndarray, hits, title: str = ""):
    """One row per query: its top renders, each titled with its true words and cosine similarity."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    cols = max(len(h[0]) for h in hits)
    fig = Figure(figsize=(1.9 * cols, 2.2 * len(queries) + 0.4), dpi=100)
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(queries), cols, squeeze=False)
    for r, (query, (indices, sims)) in enumerate(zip(queries, hits)):
        for c, ax in enumerate(axes[r]):
            ax.set_xticks([])
            ax.set_yticks([])
            if c >= len(indices):
                ax.set_axis_off()
                continue
            ax.imshow(images[indices[c]])
            ax.set_title(f"{short_words(codes[indices[c]])}\ncos {sims[c]:.2f}", fontsize=7)
        axes[r][0].set_ylabel(query, fontsize=7, wrap=True)
    fig.suptitle(title or "text query -> top renders", fontsize=9)
    fig.tight_layout()
    return fig
