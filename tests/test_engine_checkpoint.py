"""Checkpoints: a truncated file gives a clear error, a crash while saving keeps the previous file,
and the NaN guard stops training without touching the last good checkpoint."""

import pytest
import torch

import engine_toy
from handclip.engine import checkpoint
from handclip.engine.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from handclip.engine.trainer import NonFiniteError, Trainer

torch.set_num_threads(1)


@pytest.mark.parametrize("keep", [0.0, 0.01, 0.33, 0.5, 0.95])
def test_truncated_checkpoint_names_the_file(tmp_path, keep):
    good = save_checkpoint({"model": {"w": torch.arange(1000.0)}, "step": 3}, tmp_path / "last.pt")
    data = good.read_bytes()
    bad = tmp_path / "cut.pt"
    bad.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(CheckpointError, match=r"cut\.pt.*truncated or corrupt"):
        load_checkpoint(bad)
    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(tmp_path / "missing.pt")


def test_crash_while_saving_keeps_previous_checkpoint(tmp_path, monkeypatch):
    path = save_checkpoint({"model": {"w": torch.ones(4)}, "step": 1}, tmp_path / "last.pt")

    def dying_save(state, f):
        f.write(b"PK\x03\x04 half a zip")  # the process dies part-way through the write
        raise OSError("disk full")

    monkeypatch.setattr(checkpoint.torch, "save", dying_save)
    with pytest.raises(OSError):
        save_checkpoint({"model": {"w": torch.zeros(4)}, "step": 2}, path)
    monkeypatch.undo()
    state = load_checkpoint(path)
    assert state["step"] == 1 and torch.equal(state["model"]["w"], torch.ones(4))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.pt"]  # no temporary file left


def test_rng_states_round_trip_with_weights_only(tmp_path):
    import random

    import numpy as np

    torch.manual_seed(5), np.random.seed(5), random.seed(5)
    save_checkpoint({"model": {}, "rng": checkpoint.capture_rng()}, tmp_path / "r.pt")
    expected = (torch.rand(3), np.random.rand(3), random.random())
    checkpoint.restore_rng(load_checkpoint(tmp_path / "r.pt")["rng"])
    assert torch.equal(torch.rand(3), expected[0])
    assert np.array_equal(np.random.rand(3), expected[1]) and random.random() == expected[2]


def test_nan_guard_stops_and_keeps_last_good_checkpoint(tmp_path):
    config = engine_toy.toy_config(epochs=1)
    Trainer(config, tmp_path, device="cpu").fit()
    before = load_checkpoint(tmp_path / "checkpoints" / "last.pt")

    poisoned = config | {"data": config["data"] | {"train": config["data"]["train"] | {"nan": True}}}
    poisoned["train"] = config["train"] | {"epochs": 2, "save_every_steps": 1}
    with pytest.raises(NonFiniteError, match=r"non-finite loss at epoch 2, step 11.*last good checkpoint"):
        Trainer(poisoned, tmp_path, resume=True, device="cpu").fit()
    after = load_checkpoint(tmp_path / "checkpoints" / "last.pt")
    assert after["step"] == before["step"] == 10
    for key, value in before["model"].items():
        assert torch.equal(value, after["model"][key]) and torch.isfinite(value).all()


def test_damaged_last_checkpoint_resume_from_epoch_file(tmp_path, capsys):
    import yaml

    from handclip import cli

    config = engine_toy.toy_config(epochs=2, keep_epochs=1)
    config["data"]["val"] = []
    cfg_path = tmp_path / "toy.yaml"
    cfg_path.write_text(yaml.safe_dump(config))
    run = tmp_path / "run"
    assert cli.main(["train", "--config", str(cfg_path), "--out", str(run)]) == 0
    ckpts = run / "checkpoints"
    assert sorted(p.name for p in ckpts.iterdir()) == ["epoch_002.pt", "last.pt"]  # keep_epochs=1
    last = (ckpts / "last.pt").read_bytes()
    (ckpts / "last.pt").write_bytes(last[: len(last) // 3])
    capsys.readouterr()
    assert cli.main(["train", "--out", str(run), "--resume", "train.epochs=3"]) == 1
    err = capsys.readouterr().err
    assert "last.pt" in err and "truncated or corrupt" in err and "--resume-from" in err
    assert cli.main(["train", "--out", str(run), "--resume-from", str(ckpts / "epoch_002.pt"), "train.epochs=3"]) == 0
    state = load_checkpoint(ckpts / "last.pt")
    assert state["epoch"] == 3 and state["step"] == 30
    assert (run / "curves.png").stat().st_size > 1000 and (run / "train_log.jsonl").is_file()
