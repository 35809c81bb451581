"""Resume after an interruption continues exactly: same parameters, optimiser state and step."""

from types import SimpleNamespace

import pytest
import torch

import engine_toy
from handclip.engine.checkpoint import load_checkpoint, load_model
from handclip.engine import trainer as trainer_module
from handclip.engine.trainer import Trainer

torch.set_num_threads(1)


def _params(path):
    return load_checkpoint(path)["model"]


def resume_matches_uninterrupted(config: dict, tmp_path) -> tuple[dict, dict]:
    """Resume the run in tmp_path/cut and check it ends on tmp_path/full's step and weights; both checkpoints."""
    Trainer(config, tmp_path / "cut", resume=True, device="cpu").fit()
    full = load_checkpoint(tmp_path / "full" / "checkpoints" / "last.pt")
    cut = load_checkpoint(tmp_path / "cut" / "checkpoints" / "last.pt")
    assert full["step"] == cut["step"] == 20
    for key in full["model"]:
        assert torch.equal(full["model"][key], cut["model"][key]), key
    return full, cut


def test_resume_mid_epoch_matches_uninterrupted_run(tmp_path, monkeypatch):
    config = engine_toy.toy_config(save_every_steps=3)
    Trainer(config, tmp_path / "full", device="cpu").fit()

    real_step = Trainer.train_step

    def crash_at_13(self, batch, epoch):
        if self.step == 13:  # second epoch, after the step-12 checkpoint at position 2
            raise KeyboardInterrupt
        return real_step(self, batch, epoch)

    monkeypatch.setattr(Trainer, "train_step", crash_at_13)
    with pytest.raises(KeyboardInterrupt):
        Trainer(config, tmp_path / "cut", device="cpu").fit()
    monkeypatch.setattr(Trainer, "train_step", real_step)
    saved = load_checkpoint(tmp_path / "cut" / "checkpoints" / "last.pt")
    assert (saved["epoch"], saved["batch_in_epoch"], saved["step"]) == (1, 2, 12)

    full, cut = resume_matches_uninterrupted(config, tmp_path)
    for a, b in zip(full["optimizer"]["state"].values(), cut["optimizer"]["state"].values()):
        assert torch.equal(a["exp_avg_sq"], b["exp_avg_sq"])
    assert full["scheduler"] == cut["scheduler"]
    # the run actually learned: mean_pose moved from zero towards the data's mean
    assert full["model"]["xyz"].abs().max() > 0.1


def test_load_model_rebuilds_method_from_saved_config(tmp_path):
    Trainer(engine_toy.toy_config(epochs=1), tmp_path, device="cpu").fit()
    method = load_model(tmp_path / "checkpoints" / "epoch_001.pt")
    assert not method.training and method.input_size == 8
    saved = _params(tmp_path / "checkpoints" / "last.pt")
    assert torch.equal(method.xyz, saved["xyz"])
    out = method.predict({"image": torch.zeros(2, 8, 8, 3, dtype=torch.uint8)})
    assert out["xyz"].shape == (2, 21, 3) and out["uv"].shape == (2, 21, 2)


def test_time_budget_stops_with_a_resumable_checkpoint_and_resume_finishes_the_run(tmp_path, monkeypatch, capsys):
    config = engine_toy.toy_config(log_every=3, max_minutes=1.0)
    Trainer(config, tmp_path / "full", device="cpu").fit()  # one minute is far more than the toy needs

    clock = iter(range(0, 10**6, 61))  # every reading of the trainer's clock is a minute and a second later
    monkeypatch.setattr(trainer_module, "time", SimpleNamespace(perf_counter=lambda: float(next(clock))))
    out = Trainer(config, tmp_path / "cut", device="cpu").fit()
    monkeypatch.undo()
    saved = load_checkpoint(tmp_path / "cut" / "checkpoints" / "last.pt")
    assert (saved["epoch"], saved["batch_in_epoch"], saved["step"]) == (0, 3, 3)  # the first logged step
    assert out["val"]["toy"] and "max_minutes=1.0 reached at step 3" in capsys.readouterr().err

    resume_matches_uninterrupted(config, tmp_path)
