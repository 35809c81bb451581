"""The quickstart pipeline end to end on a tiny plan: training, evaluation, figures and report.md; in --fast mode
with a temporary zoo (HANDCLIP_ZOO) and real-photo config, the shipped pose models' rows beside the brief runs."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import torch
import yaml

from engine_toy import ToyHands  # also registers the 'engine_toy' dataset
from handclip import cli, zoo
from handclip.engine.checkpoint import save_checkpoint
from handclip.methods import build
from handclip.zoo.index import read_index, write_index

MEAN_POSE_TOY = {"method": {"name": "mean_pose", "input_size": 8},
                 "data": {"train": {"name": "engine_toy"}},
                 "train": {"epochs": 1, "batch_size": 4, "optimizer": {"name": "adam", "lr": 0.05}}}


def table_row(report: str, heading: str, label: str) -> list[str]:
    """The cells after the label of row `label` in the table under the '### heading' line."""
    table = report.split(f"### {heading}")[1].split("###")[0]
    return re.search(rf"^\| {re.escape(label)} \| (.+) \|$", table, re.M).group(1).split(" | ")


def test_quickstart_writes_a_consistent_report(tmp_path):
    config = tmp_path / "mean_pose_toy.yaml"
    config.write_text(yaml.safe_dump(MEAN_POSE_TOY))
    plan = tmp_path / "plan.yaml"
    plan.write_text(yaml.safe_dump({
        "train": {"name": "engine_toy", "n": 16, "seed": 0},
        "val": [{"name": "engine_toy", "n": 6, "seed": 1, "label": "toy-a"}],
        "methods": [{"label": "mean pose", "key": "mp", "config": str(config)},
                    {"label": "mean pose slow", "key": "mp_slow", "config": str(config), "overrides": ["train.optimizer.lr=0.001"]}],
        "overlays": 2, "logits_batch": 4,
    }))
    out = tmp_path / "qs"
    assert cli.main(["quickstart", "--out", str(out), "--plan", str(plan), "--threads", "1"]) == 0

    report = (out / "report.md").read_text()
    results = json.loads((out / "results.json").read_text())
    assert [m["label"] for m in results["methods"]] == ["mean pose", "mean pose slow"]
    # every linked figure exists: PCK + overlays for the one domain, a 3D view per method
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", report)
    assert len(links) == 4 and all((out / link).is_file() for link in links)
    # the set's table shows the numbers of results.json: input size, then MPJPE first
    for method in results["methods"]:
        row = table_row(report, "toy-a", method["label"])
        assert row[0] == "8" and float(row[1]) == round(method["results"]["toy-a"]["metrics"]["mpjpe"], 1)
    # a plan without the shipped / realdev switches scores neither, and says so
    assert "the plan's `shipped` is off" in report and "the plan's `realdev` is off" in report
    # the two learning rates give two different models, each with its own checkpoint and metrics files
    a, b = (m["results"]["toy-a"]["metrics"]["mpjpe"] for m in results["methods"])
    assert a != b
    assert (out / "runs" / "mp" / "checkpoints" / "last.pt").is_file() and (out / "eval" / "mp_slow" / "toy-a" / "metrics.json").is_file()


def test_fast_quickstart_scores_each_shipped_pose_model_beside_the_brief_runs(tmp_path, monkeypatch):
    # a temporary zoo: one tiny mean pose (input 64 px, uv at the crop centre 31.5) and a hand detector entry,
    # which is no pose model and must get no row
    monkeypatch.setenv("HANDCLIP_ZOO", str(tmp_path / "zoo"))
    method = build("mean_pose", input_size=64)
    with torch.no_grad():
        method.xyz.copy_(torch.linspace(-1, 1, 63).reshape(21, 3))
    state = {"model": method.state_dict(), "config": {"method": {"name": "mean_pose", "input_size": 64}}}
    checkpoint = save_checkpoint(state, tmp_path / "tiny" / "last.pt")
    zoo.pack(checkpoint, "tiny", method="mean_pose")
    index = read_index()
    detector = {**index["models"][0], "name": "finder", "method": "hand_detector"}
    write_index({**index, "models": index["models"] + [detector]})

    config = tmp_path / "mean_pose_toy.yaml"
    config.write_text(yaml.safe_dump(MEAN_POSE_TOY))
    realdev = tmp_path / "realdev.yaml"  # one set present, one whose folder is missing
    missing = tmp_path / "no_such_photos"
    realdev.write_text(yaml.safe_dump({"data": {"val": [
        {"label": "real-toy", "name": "engine_toy", "n": 5, "seed": 4, "protocol": "synth"},
        {"label": "gone", "name": "coco_hand", "root": str(missing), "size": 256, "protocol": "coco_2d"}]}}))
    plan = tmp_path / "plan.yaml"
    plan.write_text(yaml.safe_dump({
        "train": {"name": "engine_toy", "n": 40, "seed": 0},
        "val": [{"name": "engine_toy", "n": 20, "seed": 1, "label": "toy-a"}],
        "methods": [{"label": "mean pose", "key": "mp", "config": str(config)}],
        "shipped": True, "realdev": str(realdev), "overlays": 3, "logits_batch": 4,
        "fast": {"train_n": 8, "val_n": 6, "overlays": 2, "logits_batch": 2, "realdev_n": 3, "overrides": []},
    }))
    out = tmp_path / "qs"
    assert cli.main(["quickstart", "--fast", "--out", str(out), "--plan", str(plan), "--threads", "1"]) == 0

    report = (out / "report.md").read_text()
    results = json.loads((out / "results.json").read_text())
    assert [(m["label"], m["shipped"]) for m in results["methods"]] == [("mean pose", False), ("tiny (shipped)", True)]
    assert "finder" not in report and not any("finder" in stage for stage in results["stages_s"])
    # one table per set, the shipped model's row under each (renders at its own 64 px input, then the real set)
    shipped = results["methods"][1]
    for label in ("toy-a", "real-toy"):
        for method in results["methods"]:
            row = table_row(report, label, method["label"])
            assert float(row[1]) == round(method["results"][label]["metrics"]["mpjpe"], 1)
        assert table_row(report, label, "tiny (shipped)")[0] == "64"
        assert (out / "eval" / "zoo_tiny" / label / "metrics.json").is_file()
    # --fast: the fast val sets, and only the first realdev_n real images
    assert shipped["results"]["toy-a"]["num_samples"] == 6 and shipped["results"]["real-toy"]["num_samples"] == 3
    # its numbers are its own: every joint predicted at pixel 31.5 (the 64 px crop's centre)
    for label, n, seed, first in (("toy-a", 6, 1, 6), ("real-toy", 5, 4, 3)):
        expected = np.linalg.norm(ToyHands(n=n, seed=seed).uv[:first] - 31.5, axis=-1).mean()
        assert shipped["results"][label]["metrics"]["epe_2d"] == pytest.approx(expected, rel=1e-5)
    # the absent set: one line naming its folder, and no table
    assert f"The real photos were absent (`{missing}` not found" in report and "### gone" not in report
    assert results["real_sets"] == ["real-toy"] and results["real_missing"] == [str(missing)]


def test_table_marks_a_2d_error_over_twice_the_mean_poses():
    """A 2D EPE above twice the mean pose's (no 2D output formed yet) is marked and explained; others are not."""
    from handclip.report import FLAT_NOTE, _table

    def method(key, label, epe):
        return {"key": key, "label": label, "input_size": 256,
                "results": {"set": {"metrics": {"mpjpe": 50.0, "epe_2d": epe}}}}

    lines = _table([method("mean_pose", "mean pose", 40.0), method("a", "brief", 81.0), method("b", "trained", 79.0)],
                   "set")
    rows = {line.split(" | ")[0][2:]: line for line in lines if line.startswith("| ") and "---" not in line}
    assert rows["brief"].endswith("81.0² |") and rows["trained"].endswith("79.0 |") and lines[-1] == FLAT_NOTE
    assert FLAT_NOTE not in _table([method("a", "brief", 81.0)], "set")  # no mean pose: nothing to compare with
