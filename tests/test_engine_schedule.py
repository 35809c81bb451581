"""The per-step warm-up + cosine learning-rate schedule."""

import math

import pytest
import torch

from handclip.engine.trainer import build_scheduler, warmup_cosine


def test_warmup_cosine_hand_computed():
    assert warmup_cosine(0, 4, 20, 0.0) == pytest.approx(0.25)
    assert warmup_cosine(3, 4, 20, 0.0) == pytest.approx(1.0)
    assert warmup_cosine(4, 4, 20, 0.0) == pytest.approx(1.0)
    assert warmup_cosine(12, 4, 20, 0.0) == pytest.approx(0.5)  # half way through the cosine
    assert warmup_cosine(20, 4, 20, 0.1) == pytest.approx(0.1)
    assert warmup_cosine(99, 4, 20, 0.1) == pytest.approx(0.1)  # stays at the floor past the end


def test_scheduler_steps_per_update():
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=2.0)
    sched = build_scheduler(opt, {"name": "warmup_cosine", "warmup_steps": 2, "min_factor": 0.0}, total_steps=10)
    assert sched.per_step
    lrs = []
    for _ in range(10):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs[0] == pytest.approx(1.0) and lrs[1] == pytest.approx(2.0)
    assert lrs[6] == pytest.approx(2.0 * 0.5 * (1 + math.cos(math.pi * 4 / 8)))
    assert all(a >= b for a, b in zip(lrs[1:], lrs[2:]))
