"""Weight averaging of one run's checkpoints (stochastic weight averaging done offline, Izmailov et al. 2018).

The mean of the last epochs' weights lies nearer the centre of the basin a run circles in at its end than any one of
them; on this project's renders-to-photos gap it read real hands better (docs/models/README.md, "Averaged weights").
"""

from __future__ import annotations

from pathlib import Path

import torch

from handclip.engine.checkpoint import CheckpointError, load_checkpoint, model_weights, save_checkpoint


def average_checkpoints(paths: list[str | Path], weights: list[float] | None = None,
                        keep_last: tuple[str, ...] = ()) -> dict:
    """A checkpoint whose 'model' is the mean of the given checkpoints' (floating tensors, BatchNorm's running
    statistics included; integer ones, BatchNorm's batch counts, from the last), with the last one's config, step and
    epoch and no optimizer state: it initialises a run (`method.init_weights`) or is evaluated, not resumed.
    `weights` (one positive number per path, normalised) make it a weighted mean, e.g. a shipped average counted as
    the twelve checkpoints it stands for; every path but the last may be a packed model or a shipped model's name.
    Weights named with a prefix in `keep_last` are the last checkpoint's, unaveraged (e.g. CLIP-Hand3D's `matching.`,
    which its stage 1 never trains and a shipped stage 2 may hold at another CLIP's width)."""
    paths = [Path(path) for path in paths]
    if not paths:
        raise CheckpointError("no checkpoint to average; give one run's epoch_XXX.pt files")
    weights = [1.0] * len(paths) if weights is None else [float(w) for w in weights]
    if len(weights) != len(paths) or min(weights) <= 0:
        raise CheckpointError(f"weights {weights}: give one positive weight per checkpoint ({len(paths)})")
    states, last_state = [model_weights(path) for path in paths[:-1]], load_checkpoint(paths[-1])
    states.append(last_state["model"])
    last = states[-1]
    states = [{k: v for k, v in state.items() if not k.startswith(tuple(keep_last))} for state in states]
    for path, state in zip(paths, states):
        if set(state) != set(states[-1]):
            raise CheckpointError(f"{path}: its weights have other names than {paths[-1]}'s; average one run's checkpoints")
        for key, value in state.items():
            if value.shape != last[key].shape:
                raise CheckpointError(f"{path}: {key} has shape {tuple(value.shape)}, {paths[-1]} {tuple(last[key].shape)}")
    share = torch.tensor(weights, dtype=torch.float64) / sum(weights)
    model = {key: ((torch.stack([s[key].double() for s in states]) * share.view(-1, *[1] * value.dim())).sum(0)
                   .to(value.dtype) if value.is_floating_point() and key in states[-1] else value.clone())
             for key, value in last.items()}
    return {"model": model, **{k: last_state[k] for k in ("config", "step", "epoch") if k in last_state},
            "averaged_from": [str(path) for path in paths], "averaged_weights": share.tolist()}


def write_average(paths: list[str | Path], out: str | Path, weights: list[float] | None = None,
                  keep_last: tuple[str, ...] = ()) -> Path:
    """average_checkpoints(paths, weights, keep_last) written to `out`, which must not exist yet."""
    out = Path(out)
    if out.exists():
        raise CheckpointError(f"{out}: exists; remove it or choose another output file")
    return save_checkpoint(average_checkpoints(paths, weights, keep_last), out)
