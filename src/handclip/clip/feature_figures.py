"""DG-CLIP's two CLIP-feature figures: t-SNE of domains vs text-augmented source features (paper Fig. 3)
and retrieval of the source images nearest to an image+text feature (paper Fig. 4).

Both take frozen CLIPTowers and datasets yielding handclip samples; they return matplotlib Figures
(Agg, no pyplot state) and the numbers behind them, which the command writes as PNG next to JSON.
"""

from __future__ import annotations

import numpy as np
import torch
from tqdm import tqdm


def dataset_images(dataset, n: int) -> np.ndarray:
    """The first n images (n, S, S, 3) uint8 of a dataset (all of them if it holds fewer)."""
    count = min(n, len(dataset))
    if count == 0:
        raise ValueError(f"dataset {dataset!r} holds no sample")
    return np.stack([dataset[i]["image"] for i in range(count)])


def image_features(towers, images: np.ndarray, batch_size: int = 32, desc: str = "CLIP image features") -> torch.Tensor:
    """Unit-length f^CI (n, D) of uint8 images (n, S, S, 3), on CPU."""
    feats = []
    for start in tqdm(range(0, len(images), batch_size), desc=desc, leave=False):
        x = torch.from_numpy(images[start : start + batch_size]).permute(0, 3, 1, 2).float() / 255.0
        feats.append(towers.encode_image(x).float().cpu())
    return torch.cat(feats)


def mix(image_feats: torch.Tensor, text_feats: torch.Tensor, ratio: float) -> torch.Tensor:
    """f^CLIP = r f^CI + (1 - r) f^CT (Fig. 3 uses r = 0.5)."""
    return ratio * image_feats + (1.0 - ratio) * text_feats


def tsne_figure(groups: dict[str, torch.Tensor], seed: int = 0, title: str = ""):
    """2D t-SNE of all groups' features together; returns (Figure, {label: (n, 2) coordinates})."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from sklearn.manifold import TSNE

    labels = list(groups)
    feats = torch.cat([groups[k] for k in labels]).numpy()
    if len(feats) < 5:
        raise ValueError(f"t-SNE needs at least 5 features, got {len(feats)}")
    perplexity = float(min(30.0, (len(feats) - 1) / 3.0))
    xy = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(feats)
    coords, start = {}, 0
    for k in labels:
        coords[k] = xy[start : start + len(groups[k])]
        start += len(groups[k])
    fig = Figure(figsize=(6, 6), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    for k in labels:
        ax.scatter(coords[k][:, 0], coords[k][:, 1], s=10, alpha=0.7, label=k, marker="x" if k == "aug" else "o")
    ax.legend()
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title or "t-SNE of CLIP features")
    fig.tight_layout()
    return fig, coords


def retrieve(query: torch.Tensor, gallery: torch.Tensor, k: int, exclude: int | None = None) -> tuple[list[int], list[float]]:
    """Indices and cosine similarities of the k gallery features most similar to `query`."""
    sims = torch.nn.functional.cosine_similarity(gallery, query.unsqueeze(0), dim=1)
    if exclude is not None:
        sims[exclude] = float("-inf")
    top = sims.topk(min(k, len(gallery) - (exclude is not None)))
    return top.indices.tolist(), top.values.tolist()


def retrieval_figure(query_image: np.ndarray, prompt: str, images: np.ndarray, indices: list[int],
                     sims: list[float], title: str = ""):
    """Query image + prompt, then the ranked images with their cosine similarities."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    cols = len(indices) + 1
    fig = Figure(figsize=(2.2 * cols, 2.8), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, cols, 1)
    ax.imshow(query_image)
    ax.set_title("query", fontsize=9)
    ax.set_xlabel(prompt, fontsize=7, wrap=True)
    ax.set_xticks([])
    ax.set_yticks([])
    for rank, (i, s) in enumerate(zip(indices, sims), start=1):
        ax = fig.add_subplot(1, cols, rank + 1)
        ax.imshow(images[i])
        ax.set_title(f"#{rank}  cos {s:.3f}", fontsize=9)
        ax.set_axis_off()
    fig.suptitle(title or "source images nearest to f^CLIP(x, t)", fontsize=10)
    fig.tight_layout()
    return fig
