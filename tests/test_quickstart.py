"""The quickstart pipeline end to end on a tiny plan: training, evaluation, figures and report.md."""

from __future__ import annotations

import json
import re

import yaml

import engine_toy  # noqa: F401  (registers the 'engine_toy' dataset)
from handclip import cli


def test_quickstart_writes_a_consistent_report(tmp_path):
    config = tmp_path / "mean_pose_toy.yaml"
    config.write_text(yaml.safe_dump({"method": {"name": "mean_pose", "input_size": 8},
                                      "data": {"train": {"name": "engine_toy"}},
                                      "train": {"epochs": 1, "batch_size": 4, "optimizer": {"name": "adam", "lr": 0.05}}}))
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
    # the MPJPE table shows the numbers of results.json, one column per domain (one here)
    table = report.split("### MPJPE")[1]
    for method in results["methods"]:
        row = re.search(rf"^\| {method['label']} \| (.+) \|$", table, re.M).group(1).split(" | ")
        assert [float(c) for c in row] == [round(method["results"][d]["metrics"]["mpjpe"], 1) for d in ("toy-a",)]
    # the two learning rates give two different models, each with its own checkpoint and metrics files
    a, b = (m["results"]["toy-a"]["metrics"]["mpjpe"] for m in results["methods"])
    assert a != b
    assert (out / "runs" / "mp" / "checkpoints" / "last.pt").is_file() and (out / "eval" / "mp_slow" / "toy-a" / "metrics.json").is_file()
