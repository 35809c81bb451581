"""The quickstart pipeline: render synthetic domains, train every method, evaluate across domains, report.

Driven by configs/quickstart.yaml (data budget, which methods with which training configs, whether the
shipped models and the real photos are scored too). Synthetic sets are rendered once into <out>/data/<label>/
and every method reads them back (synth_folder), so rendering is paid once. The brief runs and the shipped
pose models of handclip.zoo are scored on the same sets. Every stage's wall time is recorded;
handclip.report writes report.md.
"""

from __future__ import annotations

import copy
import time
from pathlib import Path

import numpy as np
import torch
import yaml
from torch.utils.data import Subset

from handclip.data import build_dataset, collate
from handclip.engine.config import PACKAGE_CONFIGS, apply_overrides, load_config
from handclip.engine.evaluate import build_entry, dataset_label, evaluate
from handclip.engine.trainer import Trainer, to_device

PLAN_FILE = PACKAGE_CONFIGS / "quickstart.yaml"


def load_plan(fast: bool = False, path: Path = PLAN_FILE) -> dict:
    """The quickstart plan; with fast=True the data shrink to `fast.train_n` / `fast.val_n` samples (and the
    real photos to the first `fast.realdev_n` of each set)."""
    plan = yaml.safe_load(Path(path).read_text())
    plan.setdefault("shipped", False)
    plan.setdefault("realdev", None)
    if fast:
        quick = plan["fast"]
        plan["realdev_n"] = quick.get("realdev_n")
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


def at_size(specs: list[dict], size: int | None) -> list[dict]:
    """The dataset specs with their image `size` (where they have one) set to `size`."""
    return [{**spec, **({"size": size} if size and "size" in spec else {})} for spec in specs]


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


def new_record(key: str, label: str, config: str, checkpoint: str, method) -> dict:
    """The report's record of one row (a brief run or a shipped model), before scoring; 'faces' is the
    method's mesh triangles (None without a mesh)."""
    faces = getattr(method, "faces", None)
    return {"key": key, "label": label, "config": config, "checkpoint": checkpoint,
            "input_size": int(method.input_size), "results": {}, "samples": {}, "pred": {},
            "faces": None if faces is None else np.asarray(faces.cpu() if torch.is_tensor(faces) else faces)}


def score(method, record: dict, specs: list[dict], config: dict, plan: dict, out_dir: Path, device: torch.device,
          first: int | None = None) -> None:
    """Score `method` on every set of `specs` (its `first` samples only, when given) into `record`: metrics,
    their files under eval/<key>/<set>/, and the first samples with their predictions for the figures."""
    batch_size = int((config.get("train") or {}).get("batch_size", 16))
    for spec in specs:
        label, dataset = dataset_label(spec), build_entry(spec)
        if first is not None:
            dataset = Subset(dataset, range(min(int(first), len(dataset))))
        protocol = spec.get("protocol") or (config.get("eval") or {}).get("protocol", "synth")
        evaluator = evaluate(method, dataset, protocol, device, batch_size, desc=f"eval {record['key']} {label}")
        record["results"][label] = evaluator.compute()
        evaluator.write(out_dir / "eval" / record["key"] / label, record["results"][label])
        record["samples"][label], record["pred"][label] = first_samples(method, dataset, plan["overlays"], device)


def train_and_evaluate(entry: dict, train_spec: dict, val_specs: list[dict], real_specs: list[dict], plan: dict,
                       out_dir: Path, device: torch.device, timer: Timer) -> dict:
    """Train one method entry, then score it on every val set and real-photo set; returns its record."""
    from handclip.engine.checkpoint import load_model

    key, config = method_key(entry), method_config(entry, train_spec)
    val_specs = at_size(val_specs, config["data"]["train"].get("size"))
    with timer(f"train {key}"):
        fit = Trainer(config, out_dir / "runs" / key, device=str(device)).fit()
    method = load_model(fit["checkpoint"], map_location=device)
    record = new_record(key, entry["label"], entry["config"], fit["checkpoint"], method)
    with timer(f"evaluate {key}"):
        score(method, record, val_specs, config, plan, out_dir, device)
        record["logits"] = batch_logits(method, config["method"]["name"], build_entry(val_specs[-1]),
                                        int(plan["logits_batch"]), device)
    if real_specs:
        with timer(f"real photos {key}"):
            score(method, record, real_specs, config, plan, out_dir, device, first=plan.get("realdev_n"))
    return record


def shipped_pose_models() -> list[dict]:
    """The zoo's index entries of the shipped pose models (hand detectors left out: they pose no hand)."""
    from handclip.zoo import is_detector, list_models

    return [entry for entry in list_models() if not is_detector(entry)]


def evaluate_shipped(entry: dict, val_specs: list[dict], real_specs: list[dict], plan: dict, out_dir: Path,
                     device: torch.device, timer: Timer) -> dict:
    """Score one shipped model (a zoo index entry) as packed, on the rendered val sets at its input size and on
    the real-photo sets; returns its record."""
    from handclip.zoo import load_model

    method, config = load_model(entry["name"], map_location=device)
    record = new_record(f"zoo_{entry['name']}", f"{entry['name']} (shipped)", entry["config"], entry["name"], method)
    record["shipped"] = True
    with timer(f"evaluate {record['key']}"):
        score(method, record, at_size(val_specs, record["input_size"]), config, plan, out_dir, device)
    if real_specs:
        with timer(f"real photos {record['key']}"):
            score(method, record, real_specs, config, plan, out_dir, device, first=plan.get("realdev_n"))
    return record


def run(out_dir: Path, fast: bool = False, device: str | None = None, plan_path: Path = PLAN_FILE,
        progress=print) -> dict:
    """Run the whole quickstart (plan from `plan_path`) into `out_dir`; returns everything the report needs."""
    from handclip.realdev import present_sets

    out_dir = Path(out_dir)
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    plan, timer = load_plan(fast, plan_path), Timer()
    workers = int(plan.get("render_workers", 0))
    progress("[quickstart] rendering the synthetic domains")
    with timer("render data"):
        train_spec = render(plan["train"], out_dir / "data" / "train", workers)
        val_specs = [render(spec, out_dir / "data" / "val", workers) for spec in plan["val"]]
    real_specs, real_missing = present_sets(plan["realdev"]) if plan["realdev"] else ([], [])
    shipped = shipped_pose_models() if plan["shipped"] else []
    summary: dict = {"plan": copy.deepcopy(plan), "fast": fast, "device": str(device), "methods": [],
                     "domains": [dataset_label(spec) for spec in val_specs],
                     "real_sets": [dataset_label(spec) for spec in real_specs], "real_missing": real_missing,
                     "shipped": [entry["name"] for entry in shipped]}
    for entry in plan["methods"]:
        progress(f"[quickstart] {entry['label']}: training ({entry['config']}), then evaluating")
        summary["methods"].append(train_and_evaluate(entry, train_spec, val_specs, real_specs, plan, out_dir, device,
                                                     timer))
    for entry in shipped:
        progress(f"[quickstart] shipped model {entry['name']}: evaluating")
        summary["methods"].append(evaluate_shipped(entry, val_specs, real_specs, plan, out_dir, device, timer))
    summary["stages_s"] = timer.stages
    return summary
