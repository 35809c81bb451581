"""The evaluation loop shared by training-time validation and `handclip eval`: predict, then score.

Each dataset is scored by a named protocol of handclip.protocols through handclip.evaluator.Evaluator
(one table, JSON, PCK curves). A dataset entry of a config may carry 'label' (its name in tables)
and 'protocol' (overriding the config's eval.protocol); the other keys go to build_dataset.
"""

from __future__ import annotations

import torch
from torch.utils.data import DataLoader
from tqdm import tqdm

from handclip.data import build_dataset, collate
from handclip.evaluator import Evaluator

ENTRY_KEYS = ("label", "protocol")  # keys of a dataset entry that are not build_dataset arguments


def dataset_label(spec: dict) -> str:
    """A short name for a dataset entry: its 'label', else name-domain or name-split, e.g. 'synth-texture'."""
    if spec.get("label"):
        return str(spec["label"])
    suffix = spec.get("domain") or spec.get("split")
    return f"{spec['name']}-{suffix}" if suffix else str(spec["name"])


def build_entry(spec: dict):
    """The dataset of a config entry (label and protocol keys removed)."""
    return build_dataset(**{k: v for k, v in spec.items() if k not in ENTRY_KEYS})


@torch.no_grad()
def evaluate(method, dataset, protocol: str, device: torch.device, batch_size: int,
             desc: str = "eval", progress: bool = True, on_batch=None) -> Evaluator:
    """Run method.predict over `dataset` in order and feed every batch to an Evaluator of `protocol`;
    on_batch(pred), when given, also receives each batch's predictions (to write them out)."""
    was_training = method.training
    method.eval()
    evaluator = Evaluator(protocol)
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, collate_fn=collate)
    for batch in tqdm(loader, desc=desc, unit="batch", disable=not progress, leave=False):
        inputs = {k: v.to(device) if torch.is_tensor(v) else v for k, v in batch.items()}
        pred = method.predict(inputs)
        evaluator.process(pred, batch)
        if on_batch is not None:
            on_batch(pred)
    method.train(was_training)
    return evaluator
