"""Ordinary mistakes across the commands, one table: each must exit with the expected status, print one line
(per message) naming the thing and what to do, no traceback, and change nothing that existed before."""

from __future__ import annotations

import hashlib
import os
import re
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from PIL import Image

import engine_toy
from handclip import cli
from handclip.engine.checkpoint import save_checkpoint
from handclip.engine.config import save_config
from handclip.engine.trainer import Trainer
from handclip.methods import build

torch.set_num_threads(1)
NO_CUDA = pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
TQDM_BAR = re.compile(r"\d+%\|")


def _png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height greyscale pixels, with no pixel data (a decompression bomb's face)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Path:
    """A workspace holding what users point the commands at: a finished run, a checkpoint, images, odd files."""
    root = tmp_path_factory.mktemp("ws")
    config = engine_toy.toy_config(epochs=1)
    config["data"]["val"] = []
    (root / "toy.yaml").write_text(yaml.safe_dump(config))
    Trainer(config, root / "run", device="cpu").fit()
    (root / "norun").mkdir()
    (root / "norun" / "notes.md").write_text("my notes\n")
    save_config(config, root / "locked" / "config.yaml")
    save_checkpoint({"model": {}, "config": config}, root / "locked" / "checkpoints" / "last.pt")
    (root / "locked" / "train.lock").write_text(f"{os.getppid()} {os.uname().nodename} ?\n")  # a live process
    method_cfg = {"method": {"name": "mean_pose", "input_size": 64}}
    save_checkpoint({"model": build("mean_pose", input_size=64).state_dict(), "config": method_cfg}, root / "model.pt")
    Image.fromarray(np.full((48, 64, 3), 90, np.uint8)).save(root / "hand.png")
    (root / "mixed").mkdir()
    Image.fromarray(np.full((48, 64, 3), 90, np.uint8)).save(root / "mixed" / "good.png")
    (root / "mixed" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    (root / "empty").mkdir()
    (root / "notes.txt").write_text("not an image\n")
    (root / "notes.jpg").write_text("not an image either\n")
    (root / "text.pt").write_text("this is a text file saved as .pt\n")
    (root / "clip.mp4").write_bytes(os.urandom(2000))
    (root / "bomb.png").write_bytes(_png_header(14000, 14000))
    (root / "afile").write_text("a file where a folder is expected\n")
    (root / "list.yaml").write_text("- 1\n- 2\n")
    (root / "set").mkdir()
    (root / "set" / "annotations.json").write_text("{}")
    return root


def snapshot(root: Path) -> dict[str, str]:
    """sha256 of every file under root, by relative path."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


TRAIN = ["train", "--config", "{ws}/toy.yaml"]
PREDICT = ["predict", "{ws}/hand.png", "--checkpoint", "{ws}/model.pt"]
EXPORT = ["export", "--checkpoint", "{ws}/model.pt"]
# id, argv ({ws} is the workspace), exit status, texts the message must hold (thing and remedy), lines expected
CASES = [
    ("train-into-existing-run", TRAIN + ["--out", "{ws}/run"], 1, ["run", "already holds a run", "--resume", "--overwrite"]),
    ("train-resume-and-overwrite", TRAIN + ["--out", "{ws}/run", "--resume", "--overwrite"], 1, ["--resume", "--overwrite", "one of them"]),
    ("train-overwrite-foreign-folder", TRAIN + ["--out", "{ws}/norun", "--overwrite"], 1, ["norun", "notes.md", "new or empty folder"]),
    ("train-out-is-a-file", TRAIN + ["--out", "{ws}/afile"], 1, ["afile", "is a file", "give a folder"]),
    ("train-unknown-section", TRAIN + ["--out", "{ws}/new", "optim.lrr=1"], 1, ["optim.lrr", "did you mean train.optimizer.lr"]),
    ("train-misspelled-nested-key", TRAIN + ["--out", "{ws}/new", "train.optimzer.lr=5"], 1, ["train.optimzer.lr", "did you mean train.optimizer.lr"]),
    ("train-unknown-key", TRAIN + ["--out", "{ws}/new", "train.steps=abc"], 1, ["train.steps", "did you mean train.epochs"]),
    ("train-epochs-not-int", TRAIN + ["--out", "{ws}/new", "train.epochs=abc"], 1, ["train.epochs", "integer >= 1", "'abc'"]),
    ("train-batch-size-zero", TRAIN + ["--out", "{ws}/new", "train.batch_size=0"], 1, ["train.batch_size", "integer >= 1", "got 0"]),
    ("train-negative-lr", TRAIN + ["--out", "{ws}/new", "train.optimizer.lr=-1"], 1, ["train.optimizer.lr", ">= 0", "got -1"]),
    ("train-bool-setting", TRAIN + ["--out", "{ws}/new", "train.sync_batchnorm=1"], 1, ["train.sync_batchnorm", "true or false"]),
    ("train-unknown-optimizer", TRAIN + ["--out", "{ws}/new", "train.optimizer.name=sgd"], 1, ["train.optimizer.name", "adam or adamw", "sgd"]),
    ("train-unknown-method", TRAIN + ["--out", "{ws}/new", "method.name=mean_pos"], 1, ["method.name", "did you mean mean_pose"]),
    ("train-unknown-method-key", TRAIN + ["--out", "{ws}/new", "method.input_sise=8"], 1, ["method.input_sise", "did you mean method.input_size"]),
    ("train-unknown-dataset", TRAIN + ["--out", "{ws}/new", "data.train.name=engine_toi"], 1, ["data.train.name", "did you mean engine_toy"]),
    ("train-dataset-value-type", TRAIN + ["--out", "{ws}/new", "data.train.n=many"], 1, ["data.train.n", "integer", "'many'"]),
    ("train-unknown-protocol", TRAIN + ["--out", "{ws}/new", "eval.protocol=fast"], 1, ["eval.protocol", "unknown evaluation protocol", "known"]),
    ("train-override-without-value", TRAIN + ["--out", "{ws}/new", "train.epochs"], 1, ["train.epochs", "key.sub=value"]),
    ("train-config-not-found", ["train", "--config", "no/such_config", "--out", "{ws}/new"], 1, ["no/such_config", "not found", "known"]),
    ("train-config-not-a-mapping", ["train", "--config", "{ws}/list.yaml", "--out", "{ws}/new"], 1, ["list.yaml", "YAML mapping"]),
    ("train-no-out-no-config", ["train", "--resume"], 1, ["--out"]),
    ("train-nothing-to-resume", TRAIN + ["--out", "{ws}/norun", "--resume"], 1, ["last.pt", "nothing to resume", "without --resume"]),
    ("train-resume-live-lock", ["train", "--out", "{ws}/locked", "--resume"], 1, ["locked", "another training", "train.lock"]),
    ("train-resume-from-text", ["train", "--resume-from", "{ws}/text.pt", "--out", "{ws}/new"], 1, ["text.pt", "text file", ".pt file written by handclip train"]),
    pytest.param("train-cuda-without-cuda", TRAIN + ["--out", "{ws}/new", "--device", "cuda"], 1, ["--device cuda", "CUDA is not available", "--device cpu"], marks=NO_CUDA),
    ("eval-text-checkpoint", ["eval", "--checkpoint", "{ws}/text.pt"], 1, ["text.pt", "text file, not a checkpoint"]),
    ("eval-missing-checkpoint", ["eval", "--checkpoint", "{ws}/missing.pt"], 1, ["missing.pt"]),
    ("eval-unknown-protocol", ["eval", "--checkpoint", "{ws}/model.pt", "--protocol", "fast"], 1, ["--protocol", "'fast'", "known"]),
    ("eval-out-is-a-file", ["eval", "--checkpoint", "{ws}/run/checkpoints/last.pt", "--out", "{ws}/afile"], 1, ["--out", "afile", "is a file"]),
    ("eval-out-under-a-file", ["eval", "--checkpoint", "{ws}/run/checkpoints/last.pt", "--out", "{ws}/afile/sub"], 1, ["--out", "afile", "choose another --out"]),
    ("eval-batch-size-zero", ["eval", "--checkpoint", "{ws}/model.pt", "--batch-size", "0"], 1, ["--batch-size", "at least 1"]),
    ("eval-dataset-without-root", ["eval", "--checkpoint", "{ws}/model.pt", "--dataset", "rhd", "--out", "{ws}/ev"], 1, ["--dataset", "--root"]),
    ("eval-wrong-dataset-folder", ["eval", "--checkpoint", "{ws}/model.pt", "--dataset", "realworld", "--root", "{ws}/empty", "--out", "{ws}/ev"], 1, ["params.mat", "expected layout"]),
    ("eval-unknown-dataset", ["eval", "--checkpoint", "{ws}/model.pt", "--dataset", "realworl", "--root", "{ws}/empty", "--out", "{ws}/ev"], 1, ["realworl", "did you mean realworld"]),
    pytest.param("eval-cuda-without-cuda", ["eval", "--checkpoint", "{ws}/model.pt", "--device", "cuda"], 1, ["--device cuda", "--device cpu"], marks=NO_CUDA),
    ("predict-missing-input", ["predict", "{ws}/missing.jpg", "--checkpoint", "{ws}/model.pt", "--out", "{ws}/p"], 1, ["missing.jpg", "no such file", "give an image"]),
    ("predict-empty-folder", ["predict", "{ws}/empty", "--checkpoint", "{ws}/model.pt", "--out", "{ws}/p"], 1, ["empty", "no image files", "give a folder of images"]),
    ("predict-not-an-image", ["predict", "{ws}/notes.jpg", "--checkpoint", "{ws}/model.pt", "--out", "{ws}/p"], 1, ["notes.jpg", "cannot decode image"]),
    ("predict-garbage-video", ["predict", "{ws}/clip.mp4", "--checkpoint", "{ws}/model.pt", "--out", "{ws}/p"], 1, ["clip.mp4", "cannot open this video"]),
    ("predict-decompression-bomb", ["predict", "{ws}/bomb.png", "--checkpoint", "{ws}/model.pt", "--out", "{ws}/p"], 1, ["bomb.png", "too large", "downscale"]),
    ("predict-box-nan", PREDICT + ["--box", "nan,0,10,10", "--out", "{ws}/p"], 2, ["--box", "finite", "nan,0,10,10"]),
    ("predict-box-inf", PREDICT + ["--box", "0,0,inf,10", "--out", "{ws}/p"], 2, ["--box", "finite"]),
    ("predict-box-zero-size", PREDICT + ["--box", "0,0,0,10", "--out", "{ws}/p"], 2, ["--box", "positive w and h"]),
    ("predict-box-outside-image", PREDICT + ["--box", "1000,1000,20,20", "--out", "{ws}/p"], 1, ["box", "outside the 64x48 image"]),
    ("predict-out-is-a-file", PREDICT + ["--out", "{ws}/afile"], 1, ["--out", "afile", "is a file"]),
    ("predict-text-checkpoint", ["predict", "{ws}/hand.png", "--checkpoint", "{ws}/text.pt", "--out", "{ws}/p"], 1, ["text.pt", "text file"]),
    ("predict-batch-size-zero", PREDICT + ["--batch-size", "0", "--out", "{ws}/p"], 1, ["--batch-size", "at least 1"]),
    ("predict-negative-max-frames", PREDICT + ["--max-frames", "-1", "--out", "{ws}/p"], 1, ["--max-frames", "at least 0"]),
    pytest.param("predict-cuda-without-cuda", PREDICT + ["--device", "cuda", "--out", "{ws}/p"], 1, ["--device cuda", "--device cpu"], marks=NO_CUDA),
    ("export-onnx-under-a-file", EXPORT + ["--onnx", "{ws}/afile/model.onnx"], 1, ["--onnx", "afile", "choose another --onnx"]),
    ("export-onnx-is-a-folder", EXPORT + ["--onnx", "{ws}/empty"], 1, ["--onnx", "is a folder", "model.onnx"]),
    ("export-speed-batches-not-int", EXPORT + ["--onnx", "{ws}/m.onnx", "--speed-batches", "1,x"], 1, ["--speed-batches", "'x'", "like 1,8"]),
    ("export-speed-batches-zero", EXPORT + ["--onnx", "{ws}/m.onnx", "--speed-batches", "0"], 1, ["--speed-batches", "at least 1"]),
    ("export-negative-threads", EXPORT + ["--onnx", "{ws}/m.onnx", "--threads", "-2"], 1, ["--threads", "at least 0"]),
    ("export-text-checkpoint", ["export", "--checkpoint", "{ws}/text.pt", "--onnx", "{ws}/m.onnx"], 1, ["text.pt", "text file"]),
    ("synth-zero-images", ["synth", "--n", "0", "--out", "{ws}/s"], 1, ["n >= 1", "n=0"]),
    ("synth-tiny-size", ["synth", "--n", "2", "--size", "8", "--out", "{ws}/s"], 1, ["size >= 16", "size=8"]),
    ("synth-unknown-domain", ["synth", "--n", "2", "--domain", "sunset", "--out", "{ws}/s"], 1, ["sunset", "known"]),
    ("synth-out-is-a-file", ["synth", "--n", "2", "--out", "{ws}/afile"], 1, ["--out", "afile", "is a file"]),
    ("synth-existing-set", ["synth", "--n", "2", "--out", "{ws}/set"], 1, ["set", "already holds a rendered set", "another --out"]),
    ("synth-negative-workers", ["synth", "--n", "2", "--workers", "-1", "--out", "{ws}/s"], 1, ["--workers", "at least 0"]),
    ("quickstart-missing-plan", ["quickstart", "--plan", "{ws}/nope.yaml", "--out", "{ws}/qs"], 1, ["--plan", "nope.yaml", "quickstart plan YAML"]),
    ("quickstart-out-is-a-file", ["quickstart", "--fast", "--out", "{ws}/afile"], 1, ["--out", "afile", "is a file"]),
    ("figures-bad-dataset-spec", ["dg-clip-figures", "--source", "freihand", "--out", "{ws}/fig"], 1, ["'freihand'", "READER:ROOT"]),
    ("figures-text-checkpoint", ["clip-hand3d-figures", "--checkpoint", "{ws}/text.pt", "--out", "{ws}/fig"], 1, ["text.pt", "text file"]),
    ("unknown-command", ["trian"], 2, ["invalid choice", "trian", "--help"]),
    ("unknown-option", ["predict", "{ws}/hand.png", "--chekpoint", "x"], 2, ["--chekpoint", "--help"]),
    ("non-integer-option", ["eval", "--checkpoint", "{ws}/model.pt", "--batch-size", "many"], 2, ["--batch-size", "'many'"]),
]


def messages(stderr: str) -> list[str]:
    """The lines on stderr, progress bars left out."""
    return [line for line in re.split(r"[\r\n]+", stderr) if line.strip() and not TQDM_BAR.search(line)]


def test_table_is_large_enough():
    assert len(CASES) >= 40


@pytest.mark.parametrize("case, argv, status, texts", CASES, ids=[c.values[0] if hasattr(c, "values") else c[0] for c in CASES])
def test_bad_input(ws, capsys, case, argv, status, texts):
    before = snapshot(ws)
    assert cli.main([a.format(ws=ws) for a in argv]) == status
    err = capsys.readouterr().err
    lines = messages(err)
    assert "Traceback" not in err
    assert len(lines) == 1, lines
    assert lines[0].startswith("handclip")
    for text in texts:
        assert text.format(ws=ws) in lines[0], (text, lines[0])
    assert snapshot(ws) == before  # nothing changed, nothing written


def test_predict_skips_a_bad_file_and_counts_it(ws, capsys, tmp_path):
    before = snapshot(ws)
    out = tmp_path / "pred"
    assert cli.main(["predict", str(ws / "mixed"), "--checkpoint", str(ws / "model.pt"), "--out", str(out)]) == 1
    lines = messages(capsys.readouterr().err)
    assert len(lines) == 2 and "Traceback" not in "".join(lines)
    assert lines[0].startswith("handclip predict: skipped") and "broken.jpg" in lines[0]
    assert "1 of 2 images" in lines[1] and str(out) in lines[1]
    assert sorted(p.name for p in out.iterdir()) == ["good.json", "good.png"]  # the good one went on
    assert snapshot(ws) == before


def test_debug_shows_the_traceback(ws):
    with pytest.raises(Exception, match="text file"):
        cli.main(["--debug", "predict", str(ws / "hand.png"), "--checkpoint", str(ws / "text.pt")])
