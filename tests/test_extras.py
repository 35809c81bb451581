"""Optional extras: a feature whose package is missing says which `pip install 'handclip[...]'` to run;
training without tensorboard keeps its JSON logs and curves."""

from __future__ import annotations

import sys

import pytest
import torch

import engine_toy
from handclip import cli
from handclip.engine.checkpoint import save_checkpoint
from handclip.engine.trainer import Trainer
from handclip.errors import MissingExtraError, require_extra
from handclip.methods import build

torch.set_num_threads(1)


def test_missing_module_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import onnxruntime now raises ImportError
    with pytest.raises(MissingExtraError, match=r"handclip export needs the optional package 'onnxruntime'.*"
                                                r"pip install 'handclip\[export\]'"):
        require_extra("export", "handclip export", "onnx", "onnxruntime")


@pytest.mark.parametrize("module, argv, extra", [
    ("onnxruntime", ["export", "--onnx", "{tmp}/m.onnx"], "export"),
    ("sklearn", ["dg-clip-figures", "--figure", "tsne", "--out", "{tmp}/fig"], "figures"),
])
def test_commands_say_which_extra_to_install(monkeypatch, capsys, tmp_path, module, argv, extra):
    ckpt = tmp_path / "m.pt"
    save_checkpoint({"model": build("mean_pose", input_size=16).state_dict(),
                     "config": {"method": {"name": "mean_pose", "input_size": 16}}}, ckpt)
    monkeypatch.setitem(sys.modules, module, None)
    argv = [a.format(tmp=tmp_path) for a in argv] + (["--checkpoint", str(ckpt)] if argv[0] == "export" else [])
    assert cli.main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and f"pip install 'handclip[{extra}]'" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.pt"]  # refused before any work


def test_training_without_tensorboard(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)
    Trainer(engine_toy.toy_config(epochs=1), tmp_path, device="cpu").fit()
    assert "pip install 'handclip[logs]'" in capsys.readouterr().err
    assert (tmp_path / "train_log.jsonl").is_file() and (tmp_path / "curves.png").is_file()
    assert not (tmp_path / "tb").exists()
