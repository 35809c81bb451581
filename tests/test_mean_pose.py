"""mean_pose: starts at the batch mean, its loss is minimal there, it predicts that mean for any image."""

import torch

import engine_toy
from handclip.data import collate
from handclip.methods import build


def test_mean_pose_fits_the_wrist_relative_mean():
    data = engine_toy.ToyHands(n=12, seed=4, noise=False)
    batch = collate([data[i] for i in range(len(data))])
    batch["valid"][3, 5] = False  # an unlabelled joint must not count
    method = build("mean_pose", input_size=8)
    out = method.training_step(batch)
    out["loss"].backward()
    # the parameters now sit at the per-joint mean, where the squared error has zero gradient
    assert method.xyz.grad.abs().max() < 1e-6 and method.uv.grad.abs().max() < 1e-6
    rel = batch["xyz"] - batch["xyz"][:, :1]
    keep = torch.ones(12, dtype=torch.bool)
    keep[3] = False
    expected_j5 = rel[keep, 5].mean(0)
    pred = method.predict({"image": torch.zeros(3, 8, 8, 3, dtype=torch.uint8)})
    assert torch.allclose(pred["xyz"][2, 5], expected_j5, atol=1e-3)
    assert torch.allclose(pred["xyz"][0, 7], rel[:, 7].mean(0), atol=1e-3)
    assert torch.allclose(pred["uv"][1, 6:], batch["uv"][:, 6:].mean(0), atol=1e-4)
    assert torch.allclose(pred["uv"][1, 5], batch["uv"][keep, 5].mean(0), atol=1e-4)
    assert torch.equal(pred["xyz"][0, 0], torch.zeros(3))  # wrist-relative: the wrist is the origin
