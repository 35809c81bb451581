"""DG-CLIP's CLIP-feature figures: retrieval ranking on hand-made features, t-SNE and command outputs."""

import json

import numpy as np
import torch

from handclip.cli import main
from handclip.clip import feature_figures as ff


def test_retrieve_ranks_by_cosine_and_skips_the_query():
    gallery = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, 0.1]])
    idx, sims = ff.retrieve(torch.tensor([1.0, 0.0]), gallery, k=2, exclude=0)
    assert idx == [3, 2]  # cos 0.9988 (same direction, longer), then cos 0.7071
    assert np.allclose(sims, [2 / np.hypot(2, 0.1), 1 / np.sqrt(2)], atol=1e-6)
    assert torch.allclose(ff.mix(torch.ones(2), torch.zeros(2), 0.9), torch.full((2,), 0.9))


def test_tsne_keeps_groups_apart(tmp_path):
    g = torch.Generator().manual_seed(0)
    groups = {"aug": torch.randn(12, 8, generator=g) + 10, "source": torch.randn(12, 8, generator=g) - 10}
    fig, coords = ff.tsne_figure(groups, seed=0)
    assert {k: v.shape for k, v in coords.items()} == {"aug": (12, 2), "source": (12, 2)}
    gap = np.linalg.norm(coords["aug"].mean(0) - coords["source"].mean(0))
    assert gap > 2 * max(coords["aug"].std(0).max(), coords["source"].std(0).max())
    fig.savefig(tmp_path / "t.png")
    assert (tmp_path / "t.png").stat().st_size > 0


def test_retrieval_command_writes_png_and_json(tmp_path):
    out = tmp_path / "fig"
    assert main(["dg-clip-figures", "--figure", "retrieval", "--clip", "random-tiny", "--n", "4", "--size", "64",
                 "--k", "2", "--query", "1", "--out", str(out)]) == 0
    report = json.loads((out / "figures.json").read_text())
    assert (out / "retrieval.png").stat().st_size > 0
    assert len(report["retrieval"]["indices"]) == 2 and 1 not in report["retrieval"]["indices"]
    assert report["retrieval"]["prompt"].endswith(("room", "background"))
