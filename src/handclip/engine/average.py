"""Weight averaging of one run's checkpoints (stochastic weight averaging done offline, Izmailov et al. 2018).

The mean of the last epochs' weights lies nearer the centre of the basin a run circles in at its end than any one of
them; on this project's renders-to-photos gap it read real hands better (docs/models/README.md, "Averaged weights").
"""

from __future__ import annotations

from pathlib import Path

import torch

from handclip.engine.checkpoint import CheckpointError, load_checkpoint, save_checkpoint


def average_checkpoints(paths: list[str | Path]) -> dict:
    """A checkpoint whose 'model' is the mean of the given checkpoints' (floating tensors, BatchNorm's running
    statistics included; integer ones, BatchNorm's batch counts, from the last), with the last one's config, step and
    epoch and no optimizer state: it initialises a run (`method.init_weights`) or is evaluated, not resumed."""
    paths = [Path(path) for path in paths]
    if not paths:
        raise CheckpointError("no checkpoint to average; give one run's epoch_XXX.pt files")
    states = [load_checkpoint(path) for path in paths]
    last = states[-1]["model"]
    for path, state in zip(paths, states):
        if set(state["model"]) != set(last):
            raise CheckpointError(f"{path}: its weights have other names than {paths[-1]}'s; average one run's checkpoints")
        for key, value in state["model"].items():
            if value.shape != last[key].shape:
                raise CheckpointError(f"{path}: {key} has shape {tuple(value.shape)}, {paths[-1]} {tuple(last[key].shape)}")
    model = {key: (torch.stack([s["model"][key].double() for s in states]).mean(0).to(value.dtype)
                   if value.is_floating_point() else value.clone())
             for key, value in last.items()}
    return {"model": model, **{k: states[-1][k] for k in ("config", "step", "epoch") if k in states[-1]},
            "averaged_from": [str(path) for path in paths]}


def write_average(paths: list[str | Path], out: str | Path) -> Path:
    """average_checkpoints(paths) written to `out`, which must not exist yet."""
    out = Path(out)
    if out.exists():
        raise CheckpointError(f"{out}: exists; remove it or choose another output file")
    return save_checkpoint(average_checkpoints(paths), out)
