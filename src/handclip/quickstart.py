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
from torch.utils.data import DataLoader, Subset

from handclip.data import build_dataset, collate
from handclip.engine.config import PACKAGE_CONFIGS, apply_overrides, load_config
from handclip.engine.trainer import Trainer, to_device
from handclip.engine.validate import dataset_label
from handclip.evaluator import Evaluator

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


def method_config(entry: dict, plan: dict) -> dict:
    """The training config of one method with the plan's data (at the method's own image size) and overrides."""
    config = load_config(entry["config"])
    size = config["data"]["train"].get("size")
    config["data"]["train"] = {**config["data"]["train"], **plan["train"]}
    config["data"]["val"] = [{**spec, **({"size": size} if size else {})} for spec in plan["val"]]
    return apply_overrides(config, list(entry.get("overrides") or []))


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
            self._built[key] = build_dataset(**spec)
        return self._built[key]


@torch.no_grad()
def evaluate(method, dataset, protocol: str, device: torch.device, batch_size: int, keep: int) -> tuple[dict, dict]:
    """Score `method` on `dataset` with the named protocol; also return the first `keep` predictions' uv."""
    method.eval()
    evaluator = Evaluator(protocol)
    kept: list[np.ndarray] = []
    for batch in DataLoader(dataset, batch_size=batch_size, shuffle=False, collate_fn=collate):
        pred = method.predict(to_device(batch, device))
        evaluator.process(pred, batch)
        if len(kept) < keep:
            kept.extend(pred["uv"].float().cpu().numpy()[: keep - len(kept)])
    return evaluator.compute(), {"uv": np.stack(kept) if kept else np.zeros((0, 21, 2))}


@torch.no_grad()
def logits_matrices(method, dataset, count: int, device: torch.device) -> dict[str, np.ndarray]:
    """The method's (B, B) logits matrices on the first `count` samples, by its `logits_matrices(batch)`
    hook ({name: (B, B)} or (A, B, B)); {} for methods without one."""
    hook = getattr(method, "logits_matrices", None)
    if hook is None:
        return {}
    method.eval()
    batch = to_device(collate([dataset[i] for i in range(min(count, len(dataset)))]), device)
    out = hook(batch)
    return {name: m.float().cpu().numpy() for name, m in out.items()}


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
        key, config = method_key(entry), method_config(entry, plan)
        progress(f"[quickstart] {entry['label']}: rendering data")
        with timer("render"):
            for spec in [config["data"]["train"], *config["data"]["val"]]:
                cache.get(spec)
        progress(f"[quickstart] {entry['label']}: training ({entry['config']})")
        with timer(f"train {key}"):
            fit = Trainer(config, out_dir / "runs" / key, device=str(device)).fit()
        method = load_model(fit["checkpoint"], map_location=device)
        record = {"key": key, "label": entry["label"], "config": entry["config"], "checkpoint": fit["checkpoint"],
                  "input_size": int(method.input_size), "results": {}, "uv": {}}
        progress(f"[quickstart] {entry['label']}: evaluating on {', '.join(labels)}")
        with timer(f"evaluate {key}"):
            for label, spec in zip(labels, config["data"]["val"]):
                dataset = cache.get(spec)
                results, kept = evaluate(method, dataset, config.get("eval", {}).get("protocol", "synth"), device,
                                         int(config["train"]["batch_size"]), int(plan["overlays"]))
                Evaluator(results["protocol"]).write(out_dir / "eval" / key / label.replace("/", "_"), results)
                record["results"][label], record["uv"][label] = results, kept["uv"]
            target = cache.get(config["data"]["val"][-1])
            record["logits"] = logits_matrices(method, target, int(plan["logits_batch"]), device)
        record["samples"] = {label: [cache.get(spec)[i] for i in range(min(int(plan["overlays"]), len(cache.get(spec))))]
                             for label, spec in zip(labels, config["data"]["val"])}
        summary["methods"].append(record)
    summary["stages_s"] = timer.stages
    return summary
