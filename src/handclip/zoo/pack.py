"""Packing a trained checkpoint into the zoo: weights (safetensors), resolved config, model card, index entry."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch

from handclip.atomic import write_atomic
from handclip.engine.checkpoint import build_method, config_of, load_checkpoint, load_weights
from handclip.engine.config import save_config
from handclip.zoo.card import render_card
from handclip.zoo.index import NAME_PATTERN, ZooError, is_detector, read_index, write_index, zoo_dir
from handclip.zoo.weights import FP16_TOLERANCE, choose_dtype, count_parameters, serialize_weights, weight_tensors


def read_metrics(summaries) -> dict:
    """{set label: {'protocol', 'num_samples', 'metrics'}} merged from summary.json files of handclip eval."""
    merged: dict = {}
    for path in summaries:
        path = Path(path)
        try:
            results = json.loads(path.read_text())["results"]
        except (OSError, json.JSONDecodeError, KeyError, TypeError) as err:
            raise ZooError(f"{path}: not a summary.json written by handclip eval ({type(err).__name__}: {err})") from None
        merged.update(results)
    return merged


def model_files(name: str) -> dict[str, str]:
    """The file names of model `name` inside a zoo."""
    return {"file": f"{name}.safetensors", "config": f"{name}.yaml", "card": f"{name}.md"}


def pack(checkpoint, name: str, method: str | None = None, zoo=None, card_template=None, metrics=(),
         default: bool = False, force: bool = False, tolerance: float = FP16_TOLERANCE,
         min_confidence: float | None = None, min_confidence_look_around: float | None = None,
         min_confidence_second_look: float | None = None) -> dict:
    """Convert a training checkpoint into zoo model `name`; returns its index entry.

    method: the expected method name (checked against the checkpoint's config). metrics: summary.json files of
    handclip eval. default: make it the model `handclip predict` uses without --checkpoint (the first pose model
    packed into a zoo without a default becomes it too; a hand detector never does: predict finds it by its
    method). force: replace an existing model of that name; its card, edited by hand, is kept (delete it to
    get a fresh skeleton). min_confidence: the pose model's hand check for Predictor.hands, calibrated on renders
    (scripts/hand_check_calibrate.py); stored in the entry, none when not given. min_confidence_look_around: the same
    calibrated on the blended confidences of --look-around (hand_check_calibrate.py --look-around);
    min_confidence_second_look on those of the second look predict takes where the first is unsure (--second-look).
    """
    if not NAME_PATTERN.match(name):
        raise ZooError(f"model name {name!r} must be lower-case letters, digits, '_' or '-'")
    folder = zoo_dir(zoo)
    files = model_files(name)
    index = read_index(zoo)
    taken = [str(folder / f) for f in files.values() if (folder / f).exists()]
    if (taken or any(m["name"] == name for m in index["models"])) and not force:
        raise ZooError(f"model {name!r} exists in {folder} ({', '.join(taken) or 'zoo.json'}); pass --force to replace it")

    state = load_checkpoint(checkpoint)
    config = config_of(checkpoint, state)
    model = build_method(config)
    load_weights(model, state["model"], checkpoint)
    model.eval()
    method_name = config["method"]["name"]
    if method and method != method_name:
        raise ZooError(f"{checkpoint}: trained method is {method_name!r}, not {method!r}")

    detector = is_detector({"method": method_name})
    if detector and default:
        raise ZooError(f"{checkpoint}: a hand detector is never the default model; predict finds the shipped "
                       f"detector by itself (drop --default)")
    dtype, diff = choose_dtype(model, tolerance)
    data = serialize_weights(weight_tensors(model, getattr(torch, dtype)), {"handclip_method": method_name, "dtype": dtype})
    others = [m for m in index["models"] if m["name"] != name]
    entry = {
        "name": name, "method": method_name, **files, "dtype": dtype, "params": count_parameters(model),
        "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(), "fp16_max_abs_diff": diff,
        "source": {"checkpoint": str(checkpoint), "step": state.get("step"), "epoch": state.get("epoch")},
        "metrics": read_metrics(metrics),
        **({"min_confidence": float(min_confidence)} if min_confidence else {}),
        **({"min_confidence_look_around": float(min_confidence_look_around)} if min_confidence_look_around else {}),
        **({"min_confidence_second_look": float(min_confidence_second_look)} if min_confidence_second_look else {}),
        "default": not detector and bool(default or not any(m.get("default") for m in others)),
    }
    card = folder / files["card"]
    card_text = None if card.exists() else render_card(
        {**entry, "size_mb": len(data) / 1e6, "fp16_diff": diff, "tolerance": tolerance, "step": state.get("step"),
         "epoch": state.get("epoch"), "checkpoint": str(checkpoint)}, card_template)
    write_atomic(folder / files["file"], data)
    save_config(config, folder / files["config"])
    if card_text is not None:
        write_atomic(card, card_text)
    if entry["default"]:
        others = [{**m, "default": False} for m in others]
    write_index({**index, "models": others + [entry]}, zoo)
    return entry
