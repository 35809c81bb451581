"""The quickstart pipeline: render synthetic domains, train every method, evaluate across domains, report.

Driven by configs/quickstart.yaml (data budget, which methods with which training configs). Synthetic
sets are rendered once into <out>/data/<label>/ and every method reads them back (synth_folder), so
rendering is paid once. Every stage's wall time is recorded; handclip.report writes report.md.
"""

from __future__ import annotations

import copy
import time
from pathlib import Path

import numpy as np
import torch
import yaml

from handclip.data import build_dataset, collate
from handclip.engine.config import PACKAGE_CONFIGS, apply_overrides, load_config
from handclip.engine.evaluate import build_entry, dataset_label, evaluate
from handclip.engine.trainer import Trainer, to_device

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


def render(spec: dict, data_dir: Path, workers: int) -> dict:
    """A dataset spec every method can read: synthetic specs are rendered once into `data_dir` and
    become synth_folder specs (labelled as the original); other specs are returned as they are."""
    if spec["name"] != "synth":
        return spec
    from handclip.data.synth.export import ANNOTATIONS, export

    folder = data_dir / f"{spec['domain']}-n{spec['n']}-seed{spec.get('seed', 0)}"
    if not (folder / ANNOTATIONS).is_file():
        export(build_dataset(**{k: v for k, v in spec.items() if k != "label"}), folder, workers=workers)
    return {"name": "synth_folder", "root": str(folder), "size": spec.get("size", 256), "label": dataset_label(spec)}


def method_config(entry: dict, train_spec: dict) -> dict:
    """The training config of one method on `train_spec` (at the method's own image size) with the entry's
    overrides; no training-time validation (the quickstart evaluates once afterwards)."""
    config = load_config(entry["config"])
    size = config["data"]["train"].get("size")
    train = {k: v for k, v in train_spec.items() if k != "label"}  # the trainer passes every key to build_dataset
    config["data"]["train"] = {**train, **({"size": size} if size and "size" in train else {})}
    config["data"]["val"] = []
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


@torch.no_grad()
def first_samples(method, dataset, count: int, device: torch.device) -> tuple[list[dict], dict[str, np.ndarray]]:
    """The first `count` samples of `dataset` and the method's predictions for them (numpy: uv, xyz, verts)."""
    samples = [dataset[i] for i in range(min(count, len(dataset)))]
    method.eval()
    pred = method.predict(to_device(collate(samples), device))
    return samples, {k: v.float().cpu().numpy() for k, v in pred.items() if k in ("uv", "xyz", "verts")}


def batch_logits(method, method_name: str, dataset, count: int, device: torch.device) -> dict[str, np.ndarray]:
    """The method's logits matrices (handclip.logits_probe) on the first `count` samples of `dataset`."""
    from handclip.logits_probe import logits_matrices

    batch = to_device(collate([dataset[i] for i in range(min(count, len(dataset)))]), device)
    return {name: m.float().cpu().numpy() for name, m in logits_matrices(method, method_name, batch).items()}


def train_and_evaluate(entry: dict, train_spec: dict, val_specs: list[dict], plan: dict, out_dir: Path,
                       device: torch.device, timer: Timer) -> dict:
    """Train one method entry, then score it on every val set; returns its record for the report."""
    from handclip.engine.checkpoint import load_model

    key, config = method_key(entry), method_config(entry, train_spec)
    size = config["data"]["train"].get("size")
    val_specs = [{**spec, **({"size": size} if size and "size" in spec else {})} for spec in val_specs]
    with timer(f"train {key}"):
        fit = Trainer(config, out_dir / "runs" / key, device=str(device)).fit()
    method = load_model(fit["checkpoint"], map_location=device)
    record = {"key": key, "label": entry["label"], "config": entry["config"], "checkpoint": fit["checkpoint"],
              "input_size": int(method.input_size), "results": {}, "samples": {}, "pred": {}}
    batch_size = int(config["train"]["batch_size"])
    with timer(f"evaluate {key}"):
        for spec in val_specs:
            label, dataset = dataset_label(spec), build_entry(spec)
            protocol = spec.get("protocol") or (config.get("eval") or {}).get("protocol", "synth")
            evaluator = evaluate(method, dataset, protocol, device, batch_size, desc=f"eval {label}")
            record["results"][label] = evaluator.compute()
            evaluator.write(out_dir / "eval" / key / label, record["results"][label])
            record["samples"][label], record["pred"][label] = first_samples(method, dataset, plan["overlays"], device)
        record["logits"] = batch_logits(method, config["method"]["name"], build_entry(val_specs[-1]),
                                        int(plan["logits_batch"]), device)
    faces = getattr(method, "faces", None)
    record["faces"] = None if faces is None else np.asarray(faces.cpu() if torch.is_tensor(faces) else faces)
    return record


def run(out_dir: Path, fast: bool = False, device: str | None = None, plan_path: Path = PLAN_FILE,
        progress=print) -> dict:
    """Run the whole quickstart (plan from `plan_path`) into `out_dir`; returns everything the report needs."""
    out_dir = Path(out_dir)
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    plan, timer = load_plan(fast, plan_path), Timer()
    workers = int(plan.get("render_workers", 0))
    progress("[quickstart] rendering the synthetic domains")
    with timer("render data"):
        train_spec = render(plan["train"], out_dir / "data" / "train", workers)
        val_specs = [render(spec, out_dir / "data" / "val", workers) for spec in plan["val"]]
    summary: dict = {"plan": copy.deepcopy(plan), "fast": fast, "device": str(device), "methods": [],
                     "domains": [dataset_label(spec) for spec in val_specs]}
    for entry in plan["methods"]:
        progress(f"[quickstart] {entry['label']}: training ({entry['config']}), then evaluating")
        summary["methods"].append(train_and_evaluate(entry, train_spec, val_specs, plan, out_dir, device, timer))
    summary["stages_s"] = timer.stages
    return summary
