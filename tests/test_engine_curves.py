"""Learning curves: curves.json matches the run's logs (losses, lr, every validation metric), curves.png is
drawn, a resume keeps the earlier points and drops an abandoned timeline, `handclip curves` overlays runs."""

import json

import pytest
import torch
import yaml
from PIL import Image

import engine_toy
from handclip import cli
from handclip.engine.curves import read_jsonl
from handclip.engine.trainer import Trainer

torch.set_num_threads(1)


def _curves(run):
    return json.loads((run / "curves.json").read_text())


def test_curves_match_the_logs(tmp_path):
    run = tmp_path / "run"
    Trainer(engine_toy.toy_config(epochs=2), run, device="cpu").fit()
    curves = _curves(run)
    log = read_jsonl(run / "train_log.jsonl")
    assert curves["train"]["step"] == [r["step"] for r in log] == list(range(1, 21))
    for key in ("loss", "loss_xyz", "loss_uv", "grad_norm"):
        assert curves["train"]["series"][key] == pytest.approx([r[key] for r in log], rel=1e-6)
    # StepLR(step_size=1 epoch, gamma=0.5) from lr 0.05, stepped after each epoch: 0.05 for steps 1-10, then 0.025
    assert curves["train"]["series"]["lr"] == pytest.approx([0.05] * 10 + [0.025] * 10, rel=1e-6)
    history = read_jsonl(run / "val" / "history.jsonl")
    toy = curves["val"]["toy"]
    assert toy["step"] == [10, 20] and toy["epoch"] == [1, 2]
    for key in ("epe_2d", "mpjpe", "pa_mpjpe"):  # the protocol's rows, whatever else it adds
        assert toy["metrics"][key] == pytest.approx([h["results"]["toy"][key] for h in history], rel=1e-6)
        assert all(v > 0 for v in toy["metrics"][key])
    with Image.open(run / "curves.png") as png:
        assert png.format == "PNG" and png.width >= 600


def test_resume_keeps_earlier_points_and_drops_the_abandoned_ones(tmp_path):
    config = engine_toy.toy_config(epochs=2)
    cfg = tmp_path / "toy.yaml"
    cfg.write_text(yaml.safe_dump(config))
    run = tmp_path / "run"
    assert cli.main(["train", "--config", str(cfg), "--out", str(run), "train.epochs=1"]) == 0
    first = _curves(run)
    assert first["train"]["step"] == list(range(1, 11)) and first["val"]["toy"]["step"] == [10]
    assert cli.main(["train", "--out", str(run), "--resume", "train.epochs=2"]) == 0
    resumed = _curves(run)
    assert resumed["train"]["step"] == list(range(1, 21)) and resumed["val"]["toy"]["step"] == [10, 20]
    assert resumed["train"]["series"]["loss"][:10] == first["train"]["series"]["loss"]
    assert resumed["val"]["toy"]["metrics"]["mpjpe"][0] == first["val"]["toy"]["metrics"]["mpjpe"][0]
    # resuming from epoch 1 again with log_every=5: steps 11-20 of the old timeline are gone, 15 and 20 are new
    epoch1 = run / "checkpoints" / "epoch_001.pt"
    assert cli.main(["train", "--out", str(run), "--resume-from", str(epoch1), "train.epochs=2",
                     "train.log_every=5"]) == 0
    again = _curves(run)
    assert again["train"]["step"] == list(range(1, 11)) + [15, 20]
    assert again["train"]["series"]["loss"][:10] == first["train"]["series"]["loss"]
    assert again["val"]["toy"]["step"] == [10, 20]


def test_curves_command_overlays_runs(tmp_path, capsys):
    runs = []
    for lr in (0.05, 0.01):
        config = engine_toy.toy_config(epochs=1, optimizer={"name": "adam", "lr": lr})
        runs.append(tmp_path / f"lr{lr}")
        Trainer(config, runs[-1], device="cpu").fit()
    out = tmp_path / "figs" / "overlay.png"
    assert cli.main(["curves", str(runs[0]), str(runs[1] / "curves.json"), "--out", str(out)]) == 0
    data = json.loads(out.with_suffix(".json").read_text())
    assert list(data) == ["lr0.05", "lr0.01"]
    assert data["lr0.01"]["train"]["series"]["lr"][0] == pytest.approx(0.01)
    with Image.open(out) as png:
        assert png.format == "PNG"
    capsys.readouterr()
    assert cli.main(["curves", str(runs[0]), "--out", str(out)]) == 1  # never overwrites silently
    assert "--force" in capsys.readouterr().err
    assert cli.main(["curves", str(tmp_path / "none"), "--out", str(tmp_path / "x.png")]) == 1
    assert "none" in capsys.readouterr().err
