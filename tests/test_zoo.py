"""Shipped models: packing a checkpoint (float16 only where the outputs hold), loading by name, the default
model, errors naming the bad file or name, `handclip models --json`, and every model of the real zoo."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from PIL import Image

import handclip
from handclip import cli, zoo
from handclip.engine.checkpoint import CheckpointError, save_checkpoint
from handclip.methods import build
from handclip.zoo.card import card_parameters
from handclip.zoo.index import MAX_MODEL_BYTES, MAX_ZOO_BYTES, PACKAGE_ZOO
from handclip.zoo.weights import FP16_TOLERANCE, count_parameters

torch.set_num_threads(1)
FIXTURES = Path(__file__).parent / "fixtures"
IMAGE = str(FIXTURES / "freihand" / "training" / "rgb" / "00000000.jpg")  # a real FreiHAND photo, 224x224


def mean_pose_checkpoint(path: Path, xyz: torch.Tensor, uv: torch.Tensor) -> Path:
    """A mean_pose checkpoint (input 64 px) with the given parameters, written at `path`."""
    method = build("mean_pose", input_size=64)
    with torch.no_grad():
        method.xyz.copy_(xyz)
        method.uv.copy_(uv)
    state = {"model": method.state_dict(), "config": {"method": {"name": "mean_pose", "input_size": 64}},
             "step": 40, "epoch": 2}
    return save_checkpoint(state, path)


@pytest.fixture
def exact_ckpt(tmp_path) -> Path:
    """A mean pose whose parameters are multiples of 1/64: float16 holds them exactly (change 0)."""
    g = torch.Generator().manual_seed(0)
    xyz = torch.randint(-64, 64, (21, 3), generator=g) / 64.0
    uv = torch.randint(-50, 50, (21, 2), generator=g) / 64.0
    return mean_pose_checkpoint(tmp_path / "exact" / "last.pt", xyz, uv)


@pytest.fixture
def zoo_dir(tmp_path, monkeypatch) -> Path:
    """An empty zoo folder that HANDCLIP_ZOO points at (the package's own zoo stays untouched)."""
    folder = tmp_path / "zoo"
    monkeypatch.setenv("HANDCLIP_ZOO", str(folder))
    return folder


def test_float16_only_where_the_outputs_hold(tmp_path, exact_ckpt, zoo_dir):
    entry = zoo.pack(exact_ckpt, "exact", method="mean_pose")
    assert entry["dtype"] == "float16" and entry["fp16_max_abs_diff"] == 0.0
    # float16 steps by 2^-7 between 8 and 16: 10.004 (x 100 mm) rounds up to 10.0078125, moving the joints 0.38125 mm
    xyz = torch.full((21, 3), 10.004)
    xyz[0] = 0
    coarse = mean_pose_checkpoint(tmp_path / "coarse" / "last.pt", xyz, torch.zeros(21, 2))
    entry = zoo.pack(coarse, "coarse")
    assert entry["dtype"] == "float32" and entry["fp16_max_abs_diff"] == pytest.approx(0.38125, abs=1e-3)
    assert FP16_TOLERANCE < 0.38
    from safetensors import safe_open

    for name, dtype in (("exact", torch.float16), ("coarse", torch.float32)):
        with safe_open(str(zoo_dir / f"{name}.safetensors"), "pt") as f:
            assert f.get_tensor("xyz").dtype == dtype and f.metadata()["handclip_method"] == "mean_pose"


def test_load_by_name_predicts_like_the_checkpoint(exact_ckpt, zoo_dir):
    entry = zoo.pack(exact_ckpt, "tiny-mean", method="mean_pose")
    assert zoo.resolve("tiny-mean") == zoo_dir / "tiny-mean.safetensors"
    [by_name] = handclip.load("tiny-mean", device="cpu").predict(IMAGE)
    [by_ckpt] = handclip.load(exact_ckpt, device="cpu").predict(IMAGE)
    np.testing.assert_array_equal(by_name["xyz"], by_ckpt["xyz"])
    np.testing.assert_array_equal(by_name["uv"], by_ckpt["uv"])
    assert np.abs(by_name["xyz"]).max() > 10  # not a zero pose
    # the card, the index and the loaded method agree on the parameter count: 21 x (3 + 2)
    card = (zoo_dir / "tiny-mean.md").read_text()
    assert entry["params"] == card_parameters(card) == 105
    assert yaml.safe_load((zoo_dir / "tiny-mean.yaml").read_text())["method"] == {"name": "mean_pose", "input_size": 64}


def test_image_dependent_model_packed_in_float32_is_exact(tmp_path, zoo_dir):
    torch.manual_seed(0)
    method = build("dg_clip_baseline", input_size=64, width=0.25)
    config = {"method": {"name": "dg_clip_baseline", "input_size": 64, "width": 0.25}}
    ckpt = save_checkpoint({"model": method.state_dict(), "config": config}, tmp_path / "dg" / "last.pt")
    entry = zoo.pack(ckpt, "tiny-dg", tolerance=0.0)
    assert entry["dtype"] == "float32" and entry["params"] == sum(p.numel() for p in method.parameters())
    [by_name] = handclip.load("tiny-dg", device="cpu").predict(IMAGE, boxes=(20, 10, 150, 180))
    [by_ckpt] = handclip.load(ckpt, device="cpu").predict(IMAGE, boxes=(20, 10, 150, 180))
    np.testing.assert_array_equal(by_name["xyz"], by_ckpt["xyz"])
    np.testing.assert_array_equal(by_name["uv"], by_ckpt["uv"])


def test_commands_take_a_name_and_predict_uses_the_default(tmp_path, exact_ckpt, zoo_dir, capsys):
    assert cli.main(["pack", "--checkpoint", str(exact_ckpt), "--name", "first", "--method", "mean_pose"]) == 0
    assert cli.main(["eval", "--checkpoint", "first", "--dataset", "realworld", "--root", str(FIXTURES / "realworld"),
                     "--out", str(tmp_path / "ev")]) == 0
    summary = tmp_path / "ev" / "summary.json"
    # a second model, packed with the first one's evaluation and made the default
    other = mean_pose_checkpoint(tmp_path / "other" / "last.pt", torch.zeros(21, 3), torch.full((21, 2), 0.25))
    assert cli.main(["pack", "--checkpoint", str(other), "--name", "second", "--default",
                     "--metrics", str(summary)]) == 0
    capsys.readouterr()
    assert cli.main(["models", "--json"]) == 0
    listed = {m["name"]: m for m in json.loads(capsys.readouterr().out)}
    assert sorted(listed) == ["first", "second"]
    assert [n for n, m in listed.items() if m["default"]] == ["second"]
    for m in listed.values():
        assert {"name", "method", "file", "metrics", "params"} <= set(m) and m["method"] == "mean_pose"
    realworld = listed["second"]["metrics"]["realworld"]
    assert realworld["protocol"] == "realworld" and realworld["metrics"]["mpjpe"] > 0
    assert "| realworld | realworld |" in (zoo_dir / "second.md").read_text()

    out = tmp_path / "pred"
    assert cli.main(["predict", IMAGE, "--out", str(out)]) == 0  # no --checkpoint: the default, 'second'
    uv = np.array(json.loads((out / "00000000.json").read_text())["uv"])
    [expected] = handclip.load("second", device="cpu").predict(IMAGE)
    np.testing.assert_allclose(uv, expected["uv"], atol=1e-3)
    assert cli.main(["export", "--checkpoint", "first", "--onnx", str(tmp_path / "first.onnx"),
                     "--speed-batches", "", "--threads", "1"]) == 0
    capsys.readouterr()
    assert cli.main(["models"]) == 0
    assert "second *" in capsys.readouterr().out


def test_pack_refuses_to_replace_without_force_and_keeps_the_card(exact_ckpt, zoo_dir, capsys):
    zoo.pack(exact_ckpt, "m")
    card = zoo_dir / "m.md"
    card.write_text(card.read_text().replace("TODO: training data", "Renders of 8 domains"))
    with pytest.raises(zoo.ZooError, match="--force"):
        zoo.pack(exact_ckpt, "m")
    assert cli.main(["pack", "--checkpoint", str(exact_ckpt), "--name", "m", "--method", "dg_clip", "--force"]) == 1
    assert "not 'dg_clip'" in capsys.readouterr().err
    zoo.pack(exact_ckpt, "m", force=True)
    assert "Renders of 8 domains" in card.read_text()
    with pytest.raises(zoo.ZooError, match="lower-case"):
        zoo.pack(exact_ckpt, "Bad/Name")


def test_missing_and_damaged_files_are_named(tmp_path, exact_ckpt, zoo_dir, capsys):
    with pytest.raises(zoo.ZooError, match="no model is shipped"):
        handclip.load()
    assert cli.main(["predict", IMAGE, "--out", str(tmp_path / "p")]) == 1
    assert "no model is shipped" in capsys.readouterr().err
    zoo.pack(exact_ckpt, "alpha")
    zoo.pack(exact_ckpt, "beta")
    with pytest.raises(zoo.ZooError, match="known models: alpha, beta"):
        handclip.load("gamma")
    assert cli.main(["predict", IMAGE, "--checkpoint", "gamma", "--out", str(tmp_path / "p")]) == 1
    err = capsys.readouterr().err
    assert "'gamma'" in err and "alpha, beta" in err and len(err.strip().splitlines()) == 1
    with pytest.raises(CheckpointError, match=r"nowhere\.safetensors.*not found"):
        handclip.load(tmp_path / "nowhere.safetensors")

    weights = zoo_dir / "beta.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(data[: len(data) // 2])
    with pytest.raises(zoo.ZooError, match=r"beta\.safetensors.*damaged"):
        handclip.load("beta")
    # the same truncated file loaded by path (no index to compare with): the reader's error names it
    loose = tmp_path / "loose"
    loose.mkdir()
    (loose / "beta.safetensors").write_bytes(data[: len(data) // 2])
    (loose / "beta.yaml").write_text((zoo_dir / "beta.yaml").read_text())
    with pytest.raises(zoo.ZooError, match=r"beta\.safetensors.*truncated or corrupt"):
        handclip.load(loose / "beta.safetensors")
    weights.unlink()
    with pytest.raises(zoo.ZooError, match=r"beta\.safetensors.*missing"):
        handclip.load("beta")
    (zoo_dir / "alpha.yaml").unlink()
    with pytest.raises(zoo.ZooError, match=r"alpha\.yaml.*missing"):
        handclip.load("alpha")
    (zoo_dir / "zoo.json").write_text("{ not json")
    with pytest.raises(zoo.ZooError, match=r"zoo\.json.*damaged"):
        zoo.list_models()


def test_every_shipped_model_loads_and_predicts(monkeypatch):
    """The real zoo of the package: every listed model loads by name, predicts on a real photo, matches its card;
    files and sizes as issue 12 asks. With no model shipped yet only the index and the folder are checked."""
    monkeypatch.delenv("HANDCLIP_ZOO", raising=False)
    models = zoo.list_models(PACKAGE_ZOO)
    names = [m["name"] for m in models]
    assert len(set(names)) == len(names)
    listed = {m[k] for m in models for k in ("file", "config", "card")} | {"zoo.json"}
    stray = sorted(p.name for p in PACKAGE_ZOO.iterdir() if p.name not in listed)
    assert not stray, f"files in {PACKAGE_ZOO} that zoo.json does not list: {stray}"
    if not models:
        return
    assert sum(m["default"] for m in models) == 1
    assert not any(m["default"] for m in models if zoo.is_detector(m))
    assert sum(m["bytes"] for m in models) <= MAX_ZOO_BYTES
    for m in models:
        assert (PACKAGE_ZOO / m["file"]).stat().st_size == m["bytes"] <= MAX_MODEL_BYTES, m["name"]
        card = (PACKAGE_ZOO / m["card"]).read_text()
        assert "TODO" not in card, f"{m['card']}: complete the card's TODO lines"
        assert yaml.safe_load((PACKAGE_ZOO / m["config"]).read_text())["method"]["name"] == m["method"], m["name"]
        if zoo.is_detector(m):  # finds hands: boxes with a score and a side on the real photo
            from handclip.detection.detector import load_detector

            detector = load_detector(m["name"], device="cpu")
            assert card_parameters(card) == m["params"] == count_parameters(zoo.load_model(m["name"])[0]), m["name"]
            image = np.asarray(Image.open(IMAGE).convert("RGB"))
            for hand in detector.detect([image], min_score=0.0)[0]:
                assert len(hand["box"]) == 4 and 0.0 <= hand["score"] <= 1.0 and hand["side"] in ("left", "right")
            continue
        predictor = handclip.load(m["name"], device="cpu")  # its BatchNorms folded: the card counts the trained model's
        assert card_parameters(card) == m["params"] == count_parameters(zoo.load_model(m["name"])[0]), m["name"]
        [result] = predictor.predict(IMAGE)
        assert result["xyz"].shape == (21, 3) and np.isfinite(result["xyz"]).all()
        assert result["uv"].shape == (21, 2) and np.isfinite(result["uv"]).all()


def test_a_run_starts_from_a_shipped_model_by_name(tmp_path, zoo_dir):
    """`method.init_weights` takes a packed model's name (a fresh clone continues from the zoo, not from runs/):
    the weights arrive in float32 as packed; an unknown name says what to do."""
    torch.manual_seed(0)
    tiny = dict(input_size=32, backbone="tiny", deconv_width=32, widths=(32, 16, 16, 8), heads=2, text_width=16,
                embed_dim=16, clip_loss=False)
    stage1 = build("clip_hand3d", pretrain_joints=True, **tiny)
    config = {"method": {"name": "clip_hand3d", "pretrain_joints": True, **tiny}}
    ckpt = save_checkpoint({"model": stage1.state_dict(), "config": config}, tmp_path / "s1" / "last.pt")
    zoo.pack(ckpt, "tiny-hand3d", tolerance=1.0)  # float16 accepted: the start is what was packed
    assert zoo.list_models()[0]["dtype"] == "float16"
    stage2 = build("clip_hand3d", init_weights="tiny-hand3d", **tiny)
    stage2._load_initial_weights()
    start = stage2.lixel.conv_z[-1].weight
    assert start.dtype == torch.float32
    assert torch.equal(start, stage1.lixel.conv_z[-1].weight.half().float())
    assert not torch.equal(start, build("clip_hand3d", **tiny).lixel.conv_z[-1].weight)
    with pytest.raises(FileNotFoundError, match="no-such-model.*handclip models"):
        build("clip_hand3d", init_weights="no-such-model", **tiny)._load_initial_weights()
