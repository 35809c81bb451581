"""Run folders: --overwrite starts afresh (no old epochs or logs mixed in), a crashed run's lock and temporary
checkpoints are cleaned up on the next start, a live lock is respected, foreign files are never deleted."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch
import yaml

import engine_toy
from handclip import cli
from handclip.engine.checkpoint import load_checkpoint, temporary_path
from handclip.engine.run_folder import LOCK_NAME, RunLock, RunLockedError, prepare
from handclip.errors import UserError

torch.set_num_threads(1)


@pytest.fixture
def toy_yaml(tmp_path):
    config = engine_toy.toy_config(epochs=2)
    config["data"]["val"] = []
    path = tmp_path / "toy.yaml"
    path.write_text(yaml.safe_dump(config))
    return str(path)


def _dead_pid() -> int:
    """The pid of a process that has ended."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_overwrite_starts_the_run_afresh(tmp_path, toy_yaml):
    run = tmp_path / "run"
    assert cli.main(["train", "--config", toy_yaml, "--out", str(run)]) == 0
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["epoch_001.pt", "epoch_002.pt", "last.pt"]
    assert cli.main(["train", "--config", toy_yaml, "--out", str(run), "--overwrite", "train.epochs=1",
                     "train.optimizer.lr=0.2"]) == 0
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["epoch_001.pt", "last.pt"]  # no old epoch_002
    steps = [yaml.safe_load(line)["step"] for line in (run / "train_log.jsonl").read_text().splitlines()]
    assert steps == list(range(1, 11))  # one run's 10 steps, not two runs' interleaved
    assert yaml.safe_load((run / "config.yaml").read_text())["train"]["optimizer"]["lr"] == 0.2
    assert not (run / LOCK_NAME).exists()


def test_crashed_run_lock_and_temporary_checkpoints_are_cleaned(tmp_path, toy_yaml, capsys):
    run = tmp_path / "run"
    assert cli.main(["train", "--config", toy_yaml, "--out", str(run), "train.epochs=1"]) == 0
    dead = _dead_pid()
    (run / LOCK_NAME).write_text(f"{dead} {os.uname().nodename} 1\n")
    stale = temporary_path(run / "checkpoints" / "last.pt", pid=dead)
    stale.write_bytes(b"PK half a checkpoint")
    capsys.readouterr()
    assert cli.main(["train", "--out", str(run), "--resume", "train.epochs=2"]) == 0
    err = capsys.readouterr().err
    assert f"pid {dead}" in err and "removed 1 temporary checkpoint" in err
    assert not stale.exists() and not (run / LOCK_NAME).exists()
    assert load_checkpoint(run / "checkpoints" / "last.pt")["step"] == 20


def test_lock_refuses_a_live_owner_and_takes_over_a_reused_pid(tmp_path):
    with RunLock(tmp_path) as lock:
        assert lock.owner()["pid"] == os.getpid()
        with pytest.raises(RunLockedError, match="another training"):
            RunLock(tmp_path).acquire()
    assert not (tmp_path / LOCK_NAME).exists()
    # our own pid, but a start time that is not ours: the pid was reused, the lock is stale
    (tmp_path / LOCK_NAME).write_text(f"{os.getpid()} {os.uname().nodename} 1\n")
    if RunLock(tmp_path).live_owner() is not None:
        pytest.skip("no /proc start times on this system")
    with RunLock(tmp_path):
        assert RunLock(tmp_path).live_owner()["pid"] == os.getpid()


def test_overwrite_never_deletes_foreign_files(tmp_path):
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "thesis.tex").write_text("months of work")
    with pytest.raises(UserError, match=r"thesis\.tex"):
        prepare(tmp_path, overwrite=True)
    assert (tmp_path / "thesis.tex").read_text() == "months of work"
    prepare(tmp_path / "new")  # a missing folder is fine
    assert not (tmp_path / "new").exists()


def test_a_live_training_is_refused_before_any_check_of_the_folder(tmp_path):
    """A second `train --config` into the folder a first one has just locked (no config.yaml yet)."""
    (tmp_path / LOCK_NAME).write_text(f"{os.getppid()} {os.uname().nodename} ?\n")
    for resume in (False, True):
        with pytest.raises(RunLockedError, match="another training"):
            prepare(tmp_path, resume=resume)
    (tmp_path / LOCK_NAME).write_text(f"{_dead_pid()} {os.uname().nodename} ?\n")  # crashed before its config
    with pytest.raises(UserError, match="already holds a run"):
        prepare(tmp_path)
    prepare(tmp_path, overwrite=True)
    assert not tmp_path.exists()
