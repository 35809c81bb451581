"""The quickstart pipeline: render synthetic domains, train every method, evaluate across domains, report.

Driven by configs/quickstart.yaml (which methods, which training configs, the data budget). Every
stage's wall time is recorded; `handclip.report` turns the collected results into report.md.
"""

from __future__ import annotations

import copy
import time
from pathlib import Path

import numpy as np
import torch
import yaml

from handclip.data import collate
from handclip.engine.config import PACKAGE_CONFIGS, apply_overrides, load_config
from handclip.engine.trainer import Trainer, to_device
from handclip.engine.evaluate import build_entry, dataset_label, evaluate

PLAN_FILE = PACKAGE_CONFIGS / "quickstart.yaml"


def load_plan(fast: bool = False, path: Path = PLAN_FILE) -> dict:
    """The quickstart plan; with fast=True the data shrink to `fast.train_n` / `fast.val_n` samples."""
    plan = yaml.safe_load(Path(path).read_text())
    if fast:
        quick = plan["fast"]
        plan["train"]["n"] = quick["train_n"]
        plan["val"] = [{**spec, "n": quick["val_n"]} for spec in plan["val"]]
        plan["overlays"], plan["logits_batch"] = quick["overlays"], quick["logits_batch"]
        plan["methods"] = [{**m, "overrides": list(m.get("overrides") or []) + quick["overrides"]} for m in plan["methods"]]
    return plan


def method_key(entry: dict) -> str:
    """Folder name of a method entry: its `key`, else its config name without the size ('dg_clip/cpu' -> 'dg_clip')."""
    return entry.get("key") or Path(entry["config"]).parent.as_posix().replace("/", "_")


def method_config(entry: dict, plan: dict) -> tuple[dict, list[dict]]:
    """The training config of one method (plan's training data and overrides; no training-time validation,
    the quickstart evaluates once afterwards) and its evaluation specs at the method's own image size."""
    config = load_config(entry["config"])
    size = config["data"]["train"].get("size")
    config["data"]["train"] = {**config["data"]["train"], **plan["train"]}
    config["data"]["val"] = []
    val = [{**spec, **({"size": size} if size else {})} for spec in plan["val"]]
    return apply_overrides(config, list(entry.get("overrides") or [])), val


class Timer:
    """Wall time per named stage, in seconds."""

    def __init__(self):
        self.stages: dict[str, float] = {}

    def __call__(self, name: str):
        timer = self

        class _Stage:
            def __enter__(self):
                self.tic = time.perf_counter()

            def __exit__(self, *exc):
                timer.stages[name] = timer.stages.get(name, 0.0) + time.perf_counter() - self.tic

        return _Stage()


class DatasetCache:
    """Builds each dataset spec once (rendering is the expensive part) and hands the same object back."""

    def __init__(self):
        self._built: dict[str, object] = {}

    def get(self, spec: dict):
        key = yaml.safe_dump(spec, sort_keys=True)
        if key not in self._built:
            self._built[key] = build_entry(spec)
        return self._built[key]


@torch.no_grad()
def first_samples(method, dataset, count: int, device: torch.device) -> tuple[list[dict], np.ndarray]:
    """The first `count` samples of `dataset` and the method's predicted uv (count, 21, 2) for them."""
    samples = [dataset[i] for i in range(min(count, len(dataset)))]
    method.eval()
    uv = method.predict(to_device(collate(samples), device))["uv"]
    return samples, uv.float().cpu().numpy()


def batch_logits(method, method_name: str, dataset, count: int, device: torch.device) -> dict[str, np.ndarray]:
    """The method's logits matrices (handclip.logits_probe) on the first `count` samples of `dataset`."""
    from handclip.logits_probe import logits_matrices

    batch = to_device(collate([dataset[i] for i in range(min(count, len(dataset)))]), device)
    return {name: m.float().cpu().numpy() for name, m in logits_matrices(method, method_name, batch).items()}


def run(out_dir: Path, fast: bool = False, device: str | None = None, plan_path: Path = PLAN_FILE,
        progress=print) -> dict:
    """Run the whole quickstart (plan from `plan_path`) into `out_dir`; returns everything the report needs."""
    from handclip.engine.checkpoint import load_model

    out_dir = Path(out_dir)
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    plan, timer, cache = load_plan(fast, plan_path), Timer(), DatasetCache()
    summary: dict = {"plan": copy.deepcopy(plan), "fast": fast, "device": str(device), "methods": [], "domains": []}
    labels = [dataset_label(spec) for spec in plan["val"]]
    summary["domains"] = labels
    for entry in plan["methods"]:
        key, (config, val) = method_key(entry), method_config(entry, plan)
        progress(f"[quickstart] {entry['label']}: rendering data")
        with timer("render"):
            for spec in [config["data"]["train"], *val]:
                cache.get(spec)
        progress(f"[quickstart] {entry['label']}: training ({entry['config']})")
        with timer(f"train {key}"):
            fit = Trainer(config, out_dir / "runs" / key, device=str(device)).fit()
        method = load_model(fit["checkpoint"], map_location=device)
        record = {"key": key, "label": entry["label"], "config": entry["config"], "checkpoint": fit["checkpoint"],
                  "input_size": int(method.input_size), "results": {}, "samples": {}, "uv": {}}
        progress(f"[quickstart] {entry['label']}: evaluating on {', '.join(labels)}")
        with timer(f"evaluate {key}"):
            for label, spec in zip(labels, val):
                dataset = cache.get(spec)
                protocol = spec.get("protocol") or (config.get("eval") or {}).get("protocol", "synth")
                evaluator = evaluate(method, dataset, protocol, device, int(config["train"]["batch_size"]),
                                     desc=f"eval {label}")
                record["results"][label] = evaluator.compute()
                evaluator.write(out_dir / "eval" / key / label, record["results"][label])
                record["samples"][label], record["uv"][label] = first_samples(method, dataset, plan["overlays"], device)
            target = cache.get(val[-1])
            record["logits"] = batch_logits(method, config["method"]["name"], target, int(plan["logits_batch"]), device)
        summary["methods"].append(record)
    summary["stages_s"] = timer.stages
    return summary
