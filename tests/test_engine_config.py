"""Config inheritance, typed dotted overrides, lookup by name, and the resolved copy's round trip."""

import pytest

from handclip.engine.config import (
    ConfigError, apply_overrides, find_config, load_config, read_resolved, save_config,
)


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_inheritance_merges_parents_first_and_child_wins(tmp_path):
    _write(tmp_path / "base.yaml", "method: {name: mean_pose, input_size: 256}\ntrain: {epochs: 5, "
           "optimizer: {name: adam, lr: 1e-3, betas: [0.9, 0.99]}}\n")
    _write(tmp_path / "extra.yaml", "train: {batch_size: 7, epochs: 6}\ndata: {train: {name: synth, n: 10}}\n")
    child = _write(tmp_path / "sub" / "cpu.yaml",
                   "inherit: [../base.yaml, ../extra.yaml]\ntrain: {optimizer: {lr: 2e-4}}\n")
    cfg = load_config(child)
    assert "inherit" not in cfg
    assert cfg["train"]["epochs"] == 6  # the later parent wins over the earlier
    assert cfg["train"]["batch_size"] == 7
    assert cfg["train"]["optimizer"] == {"name": "adam", "lr": 2e-4, "betas": [0.9, 0.99], "weight_decay": 0.0}
    assert cfg["method"] == {"name": "mean_pose", "input_size": 256}
    assert cfg["train"]["amp"] == "none"  # engine default filled in


def test_overrides_are_typed_and_create_keys():
    cfg = apply_overrides({"train": {"epochs": 1}}, [
        "train.epochs=3", "train.optimizer.lr=1e-4", "train.amp=bf16", "data.val=[]", "train.sync_batchnorm=true"])
    assert cfg["train"]["epochs"] == 3 and isinstance(cfg["train"]["epochs"], int)
    assert cfg["train"]["optimizer"]["lr"] == pytest.approx(1e-4) and isinstance(cfg["train"]["optimizer"]["lr"], float)
    assert cfg["train"]["amp"] == "bf16" and cfg["data"]["val"] == [] and cfg["train"]["sync_batchnorm"] is True
    with pytest.raises(ConfigError, match="key.sub=value"):
        apply_overrides(cfg, ["train.epochs"])
    with pytest.raises(ConfigError, match="train.epochs is not a mapping"):
        apply_overrides(cfg, ["train.epochs.x=1"])


def test_errors_name_the_file(tmp_path):
    cyc = _write(tmp_path / "a.yaml", "inherit: b.yaml\n")
    _write(tmp_path / "b.yaml", "inherit: a.yaml\n")
    with pytest.raises(ConfigError, match="inheritance cycle"):
        load_config(cyc)
    bad = _write(tmp_path / "bad.yaml", "- 1\n- 2\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml: a config must be a YAML mapping"):
        load_config(bad)
    orphan = _write(tmp_path / "orphan.yaml", "inherit: nowhere.yaml\n")
    with pytest.raises(ConfigError, match=r"orphan\.yaml: inherited config 'nowhere.yaml' not found"):
        load_config(orphan)
    with pytest.raises(ConfigError, match="not found"):
        find_config("no/such_config")


def test_package_config_by_name_and_resolved_round_trip(tmp_path):
    assert find_config("mean_pose/cpu") == find_config("mean_pose/cpu.yaml")
    cfg = load_config("mean_pose/cpu", ["train.epochs=1", "train.optimizer.lr=3e-3"])
    back = read_resolved(save_config(cfg, tmp_path / "config.yaml"))
    assert back == cfg
    assert load_config(tmp_path / "config.yaml") == cfg  # a resolved config is itself a valid config
