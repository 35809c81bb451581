"""Logits matrices for the report: shapes and ranges per method, none for methods without a text side."""

import torch

from handclip.logits_probe import CLIP_HAND3D_AXES, logits_matrices
from handclip.methods import build
from test_clip_hand3d_method import TINY, template_batch


def test_clip_hand3d_gives_three_bounded_matrices():
    torch.manual_seed(0)
    method = build("clip_hand3d", clip="random-tiny", **TINY)
    method.train()
    out = logits_matrices(method, "clip_hand3d", template_batch(3))
    assert list(out) == list(CLIP_HAND3D_AXES)
    for matrix in out.values():
        # cosine similarities times a temperature clamped to [1, 100]
        assert matrix.shape == (3, 3) and torch.isfinite(matrix).all() and matrix.abs().max() <= 100.0
    assert method.training  # the probe leaves the mode as it found it


def test_dg_clip_gives_negative_l1_distances_and_baselines_give_none():
    torch.manual_seed(0)
    batch = template_batch(3)
    [(name, matrix)] = logits_matrices(build("dg_clip", input_size=64, width=0.25), "dg_clip", batch).items()
    assert "e1'" in name and matrix.shape == (3, 3) and (matrix <= 0).all() and (matrix < 0).any()
    assert logits_matrices(build("dg_clip_baseline", input_size=64, width=0.25), "dg_clip_baseline", batch) == {}
    assert logits_matrices(build("mean_pose", input_size=64), "mean_pose", batch) == {}
