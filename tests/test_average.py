"""Checkpoint weight averaging (handclip.engine.average) on hand-computed weights, and its errors."""

import pytest
import torch

from handclip.engine.average import average_checkpoints, write_average
from handclip.engine.checkpoint import CheckpointError, load_checkpoint, save_checkpoint


def _checkpoint(path, weight, count, step):
    model = {"conv.weight": torch.tensor(weight, dtype=torch.float32), "bn.running_mean": torch.tensor([weight[0]]),
             "bn.num_batches_tracked": torch.tensor(count)}
    return save_checkpoint({"model": model, "config": {"step": step}, "step": step, "epoch": step,
                            "optimizer": {"state": {}}}, path)


def test_floats_are_averaged_integers_and_config_come_from_the_last(tmp_path):
    paths = [_checkpoint(tmp_path / f"{i}.pt", w, c, i) for i, (w, c) in enumerate([([1.0, 4.0], 10), ([2.0, 8.0], 20),
                                                                                      ([6.0, 0.0], 30)])]
    out = average_checkpoints(paths)
    assert out["model"]["conv.weight"].tolist() == [3.0, 4.0]  # (1+2+6)/3, (4+8+0)/3
    assert out["model"]["bn.running_mean"].tolist() == [3.0]
    assert out["model"]["bn.num_batches_tracked"].item() == 30 and out["model"]["bn.num_batches_tracked"].dtype == torch.int64
    assert out["config"] == {"step": 2} and out["step"] == 2 and "optimizer" not in out
    written = write_average(paths[:2], tmp_path / "avg.pt")
    assert load_checkpoint(written)["model"]["conv.weight"].tolist() == [1.5, 6.0]


def test_another_runs_weights_a_missing_file_and_an_existing_output_are_refused(tmp_path):
    a = _checkpoint(tmp_path / "a.pt", [1.0, 2.0], 1, 1)
    b = _checkpoint(tmp_path / "b.pt", [1.0, 2.0, 3.0], 1, 2)
    with pytest.raises(CheckpointError, match="conv.weight has shape"):
        average_checkpoints([a, b])
    with pytest.raises(CheckpointError, match="not found"):
        average_checkpoints([a, tmp_path / "gone.pt"])
    with pytest.raises(CheckpointError, match="exists"):
        write_average([a], a)
    assert load_checkpoint(a)["model"]["conv.weight"].tolist() == [1.0, 2.0]  # untouched


def test_weighted_mean_and_a_packed_model_among_the_checkpoints(tmp_path):
    from safetensors.torch import save_file

    packed = tmp_path / "shipped.safetensors"  # a packed model: weights only, no config
    save_file({"conv.weight": torch.tensor([4.0, 0.0]), "bn.running_mean": torch.tensor([4.0]),
               "bn.num_batches_tracked": torch.tensor(99)}, str(packed))
    run = _checkpoint(tmp_path / "run.pt", [1.0, 3.0], 7, 5)
    out = average_checkpoints([packed, run], weights=[3, 1])
    assert out["model"]["conv.weight"].tolist() == [3.25, 0.75]  # (3*4 + 1)/4, (3*0 + 3)/4
    assert out["model"]["bn.running_mean"].tolist() == [3.25]
    assert out["model"]["bn.num_batches_tracked"].item() == 7 and out["step"] == 5  # integers and config: the run's
    assert out["averaged_weights"] == [0.75, 0.25]
    assert average_checkpoints([packed, run])["model"]["conv.weight"].tolist() == [2.5, 1.5]  # equal by default


def test_bad_weights_and_a_damaged_packed_model_are_refused(tmp_path):
    run = _checkpoint(tmp_path / "run.pt", [1.0, 3.0], 7, 5)
    with pytest.raises(CheckpointError, match="one positive weight per checkpoint"):
        average_checkpoints([run, run], weights=[1.0])
    with pytest.raises(CheckpointError, match="one positive weight per checkpoint"):
        average_checkpoints([run, run], weights=[1.0, 0.0])
    damaged = tmp_path / "damaged.safetensors"
    damaged.write_bytes(b"not a safetensors file")
    with pytest.raises(CheckpointError, match="damaged.safetensors: cannot read model weights"):
        average_checkpoints([damaged, run])


def test_keep_last_takes_named_weights_from_the_last_unaveraged(tmp_path):
    a = save_checkpoint({"model": {"conv.weight": torch.tensor([2.0]), "matching.w": torch.tensor([1.0, 1.0, 1.0])},
                         "step": 1}, tmp_path / "a.pt")
    b = save_checkpoint({"model": {"conv.weight": torch.tensor([4.0]), "matching.w": torch.tensor([5.0, 7.0])},
                         "step": 2}, tmp_path / "b.pt")
    with pytest.raises(CheckpointError, match="matching.w has shape"):
        average_checkpoints([a, b])
    out = average_checkpoints([a, b], keep_last=("matching.",))
    assert out["model"]["conv.weight"].tolist() == [3.0] and out["model"]["matching.w"].tolist() == [5.0, 7.0]
