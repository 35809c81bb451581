"""Mixed precision: bf16 autocast trains on CPU; fp16 on CPU is refused with a clear message."""

import pytest
import torch

import engine_toy
from handclip.engine.checkpoint import load_checkpoint
from handclip.engine.trainer import Trainer, autocast

torch.set_num_threads(1)


def test_bf16_autocast_trains_on_cpu(tmp_path):
    config = engine_toy.toy_config(epochs=1, amp="bf16", grad_clip=0.5)
    config["data"]["val"] = []
    Trainer(config, tmp_path, device="cpu").fit()
    weights = load_checkpoint(tmp_path / "checkpoints" / "last.pt")["model"]
    assert all(torch.isfinite(weights[k]).all() and weights[k].dtype == torch.float32 for k in ("xyz", "uv"))
    assert weights["xyz"].abs().max() > 0.05


def test_autocast_modes():
    with autocast("bf16", torch.device("cpu")):
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.bfloat16
    with autocast("none", torch.device("cpu")):
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.float32
    with pytest.raises(ValueError, match="fp16 needs CUDA"):
        autocast("fp16", torch.device("cpu"))
    with pytest.raises(ValueError, match="none, bf16 or fp16"):
        autocast("fp8", torch.device("cpu"))


def test_grad_clip_bounds_the_applied_gradient(tmp_path):
    clip = 1e-4
    trainer = Trainer(engine_toy.toy_config(grad_clip=clip, optimizer={"name": "adam", "lr": 0.0}), tmp_path,
                      device="cpu")
    trainer.setup()
    batches = iter(trainer.loader(0, 0))
    trainer.train_step(next(batches), 0)  # mean_pose starts at this batch's mean
    terms = trainer.train_step(next(batches), 0)
    clipped = torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in trainer.params]))
    assert terms["grad_norm"] > 10 * clip  # the raw norm, as logged
    assert clipped <= clip * (1 + 1e-4)
