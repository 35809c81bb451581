"""`handclip train` and `handclip eval` end to end on the toy dataset: files written, numbers checked."""

import json
from pathlib import Path

import numpy as np
import torch
import yaml

import engine_toy
from handclip import cli
from handclip.engine.checkpoint import load_checkpoint, load_model

torch.set_num_threads(1)


def test_train_resume_extend_then_eval(tmp_path, capsys):
    config = engine_toy.toy_config(epochs=1)
    config["data"]["val"] = [{"name": "engine_toy", "n": 6, "seed": 1, "noise": False, "label": "toy"}]
    cfg_path = tmp_path / "toy.yaml"
    cfg_path.write_text(yaml.safe_dump(config))
    run = tmp_path / "run"
    assert cli.main(["train", "--config", str(cfg_path), "--out", str(run), "train.optimizer.lr=0.1"]) == 0
    assert yaml.safe_load((run / "config.yaml").read_text())["train"]["optimizer"]["lr"] == 0.1
    # --resume reads the run's resolved config; an override extends the run by one epoch
    assert cli.main(["train", "--out", str(run), "--resume", "train.epochs=2"]) == 0
    assert load_checkpoint(run / "checkpoints" / "last.pt")["step"] == 20
    assert (run / "checkpoints" / "epoch_002.pt").is_file() and (run / "val" / "toy" / "pck.png").is_file()

    capsys.readouterr()
    assert cli.main(["eval", "--checkpoint", str(run / "checkpoints" / "last.pt"), "--out", str(tmp_path / "ev")]) == 0
    printed = capsys.readouterr().out
    assert "mpjpe" in printed and "toy" in printed
    summary = json.loads((tmp_path / "ev" / "summary.json").read_text())
    assert (tmp_path / "ev" / "toy" / "pck.png").stat().st_size > 1000

    # hand-computed wrist-relative MPJPE of the constant prediction on the noise-free toy set
    pred = load_model(run / "checkpoints" / "last.pt").xyz.detach().numpy() * 100.0
    gt = engine_toy.ToyHands(n=6, seed=1).xyz
    gt = gt - gt[:, :1]
    expected = np.linalg.norm(pred[None] - gt, axis=-1).mean()
    assert abs(summary["results"]["toy"]["metrics"]["mpjpe"] - expected) < 1e-3


def test_commands_report_bad_input(tmp_path, capsys):
    assert cli.main(["train", "--config", "no/such_config", "--out", str(tmp_path / "r")]) == 1
    assert "not found" in capsys.readouterr().err
    assert cli.main(["train", "--out", str(tmp_path / "r"), "--resume", "--config", "mean_pose/cpu"]) == 1
    assert "nothing to resume" in capsys.readouterr().err
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    assert cli.main(["eval", "--checkpoint", str(bad)]) == 1
    assert "bad.pt" in capsys.readouterr().err


def test_eval_on_a_dataset_folder(tmp_path, capsys):
    config = engine_toy.toy_config(epochs=1)
    config["data"]["val"] = []
    from handclip.engine.trainer import Trainer

    Trainer(config, tmp_path / "run", device="cpu").fit()
    ckpt = str(tmp_path / "run" / "checkpoints" / "last.pt")
    fixtures = str(Path(__file__).parent / "fixtures" / "realworld")
    assert cli.main(["eval", "--checkpoint", ckpt, "--dataset", "realworld", "--root", fixtures]) == 0
    assert "protocol realworld" in capsys.readouterr().out  # the dataset's own protocol by default
    metrics = json.loads((tmp_path / "run" / "eval" / "realworld" / "metrics.json").read_text())
    assert metrics["num_samples"] > 0 and metrics["metrics"]["mpjpe"] > 0
    # a reader pointed at the wrong folder: exit 1 with the missing file named
    assert cli.main(["eval", "--checkpoint", ckpt, "--dataset", "rhd", "--root", fixtures]) == 1
    assert "anno_evaluation.pickle" in capsys.readouterr().err
