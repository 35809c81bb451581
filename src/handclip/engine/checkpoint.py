"""Checkpoints: atomic writes, `weights_only=True` loads, RNG states as plain data, model rebuilding.

A training checkpoint is a dict {'model', 'optimizer', 'scheduler', 'scaler', 'rng', 'epoch', 'step',
'batch_in_epoch', 'config'}; 'config' is the resolved config, so `load_model` needs nothing else.
"""

from __future__ import annotations

import codecs
import os
import pickle
import random
import re
import zipfile
from pathlib import Path

import numpy as np
import torch

from handclip.errors import UserError


class CheckpointError(UserError, RuntimeError):
    """A checkpoint file is missing, truncated, corrupt or lacks what the caller needs."""


def save_checkpoint(state: dict, path: str | Path) -> Path:
    """Write `state` to `path` atomically: a temporary file in the same folder, fsync, os.replace.

    A crash at any moment leaves either the previous file or the new one, never half of one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_path(path)
    try:
        with open(tmp, "wb") as f:
            torch.save(state, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    _fsync_dir(path.parent)
    return path


def temporary_path(path: Path, pid: int | None = None) -> Path:
    """Where save_checkpoint writes `path` before the rename: .NAME.tmpPID beside it."""
    return path.with_name(f".{path.name}.tmp{os.getpid() if pid is None else pid}")


_TEMPORARY = re.compile(r"^\..+\.tmp\d+$")


def remove_stale_temporaries(folder: str | Path) -> list[Path]:
    """Delete the temporary files of save_checkpoint left in `folder` by killed processes; returns them.

    Call it only while holding the run's lock: then no live writer owns any of them."""
    folder = Path(folder)
    stale = sorted(p for p in folder.glob(".*.tmp*") if _TEMPORARY.match(p.name) and p.is_file()) if folder.is_dir() else []
    for p in stale:
        p.unlink(missing_ok=True)
    return stale


def _fsync_dir(folder: Path) -> None:
    """Flush a folder entry so a rename survives a power loss (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def load_checkpoint(path: str | Path, map_location="cpu") -> dict:
    """Read a checkpoint with `torch.load(weights_only=True)`; a clear CheckpointError names a bad file."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint file not found; give a .pt written by handclip train "
                              f"(RUN_DIR/checkpoints/last.pt or epoch_XXX.pt)")
    if _is_text(path):
        raise CheckpointError(f"{path}: a text file, not a checkpoint; give a .pt file written by handclip train")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except (RuntimeError, OSError, EOFError, zipfile.BadZipFile, pickle.UnpicklingError, ValueError,
            LookupError) as err:
        size = path.stat().st_size
        cause = (str(err).strip().splitlines() or [type(err).__name__])[0][:200]
        raise CheckpointError(
            f"{path}: cannot read checkpoint ({size} bytes): the file is truncated or corrupt "
            f"(an interrupted copy?) or not a handclip checkpoint; an epoch_XXX.pt beside it may still be "
            f"good (handclip train --resume-from it). Underlying error: {cause}"
        ) from err
    if not isinstance(state, dict) or "model" not in state:
        raise CheckpointError(f"{path}: not a handclip checkpoint (expected a dict with a 'model' entry)")
    return state


def _is_text(path: Path) -> bool:
    """Whether the file starts with printable UTF-8 text (checkpoints are zip or pickle bytes)."""
    with open(path, "rb") as f:
        head = f.read(512)
    try:
        text = codecs.getincrementaldecoder("utf-8")().decode(head)  # a character cut at the end is fine
    except UnicodeDecodeError:
        return False
    return bool(head) and all(c.isprintable() or c in "\n\r\t" for c in text)


def capture_rng() -> dict:
    """RNG states of python, numpy, torch (and CUDA) as tensors and plain types, weights_only-safe."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    version, py_state, gauss_next = random.getstate()
    rng = {
        "python": [version, torch.tensor(py_state, dtype=torch.int64), gauss_next],
        "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), int(pos), int(has_gauss), float(cached)],
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        rng["cuda"] = torch.cuda.get_rng_state_all()
    return rng


def restore_rng(rng: dict) -> None:
    """Put back the RNG states saved by capture_rng."""
    version, py_state, gauss_next = rng["python"]
    random.setstate((int(version), tuple(int(v) for v in py_state.tolist()), gauss_next))
    kind, keys, pos, has_gauss, cached = rng["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), int(pos), int(has_gauss), float(cached)))
    torch.set_rng_state(rng["torch"].cpu())
    if "cuda" in rng and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in rng["cuda"]])


def config_of(path: str | Path, state: dict | None = None) -> dict:
    """The resolved config of a checkpoint: its own 'config' entry, else config.yaml of its run folder."""
    from handclip.engine.config import read_resolved

    state = load_checkpoint(path) if state is None else state
    if state.get("config"):
        return state["config"]
    run_config = Path(path).resolve().parent.parent / "config.yaml"
    if run_config.is_file():
        return read_resolved(run_config)
    raise CheckpointError(f"{path}: holds no config and no {run_config} exists; cannot rebuild the method")


def build_method(config: dict):
    """Build the Method named in `config['method']` with the rest of that block as keyword arguments."""
    from handclip import methods

    block = dict(config.get("method") or {})
    if "name" not in block:
        raise CheckpointError("config has no method.name")
    name = block.pop("name")
    return methods.build(name, **block)


def load_weights(method, weights: dict, path: str | Path) -> None:
    """Load a checkpoint's 'model' into `method`, strictly except for keys the method itself leaves out
    of its state_dict (frozen CLIP towers); a missing, unexpected or misshapen tensor raises CheckpointError
    naming the file."""
    own = method.state_dict()
    wrong = [f"{k} {tuple(v.shape)} (model {tuple(own[k].shape)})" for k, v in weights.items()
             if k in own and hasattr(v, "shape") and v.shape != own[k].shape]
    if wrong:
        raise CheckpointError(f"{path}: weights do not fit method {type(method).__name__}: shapes differ for "
                              f"{len(wrong)} tensors, e.g. {wrong[0]}; was it trained with another config?")
    own_keys = set(own)
    missing, unexpected = method.load_state_dict(weights, strict=False)
    missing = [k for k in missing if k in own_keys]
    if missing or unexpected:
        raise CheckpointError(
            f"{path}: weights do not fit method {type(method).__name__}: "
            f"missing {missing[:5]}{'...' if len(missing) > 5 else ''}, unexpected {unexpected[:5]}"
        )


def load_init_weights(method, path: str | Path, hint: str, select=None, map_location="cpu") -> None:
    """A run's starting point, `method.init_weights`: load the weights of checkpoint `path` (a packed .safetensors
    model or a shipped model's name also do, so a fresh clone continues from the zoo) into `method` (through
    `select`, which may drop or adapt some first); a missing file raises FileNotFoundError saying how to make
    it (`hint`, e.g. which stage to train first)."""
    from handclip.zoo.index import resolve

    if not Path(path).is_file():
        if not _is_shipped(str(path)):
            raise FileNotFoundError(f"method.init_weights {str(path)!r} does not exist: {hint}, name a shipped "
                                    "model (handclip models) or set method.init_weights=null")
    file = resolve(path)  # float16 weights are cast to the parameters' float32 as they load
    weights = model_weights(file, map_location)
    load_weights(method, select(weights) if select is not None else weights, file)


def model_weights(path: str | Path, map_location="cpu") -> dict:
    """The 'model' tensors of a run's checkpoint (.pt), a packed model (.safetensors) or a shipped model's name."""
    from handclip.zoo.index import resolve
    from handclip.zoo.weights import read_weights

    file = resolve(path)
    return read_weights(file) if file.suffix == ".safetensors" else load_checkpoint(file, map_location)["model"]


def _is_shipped(name: str) -> bool:
    """True when `name` is a shipped model's name rather than a file path."""
    from handclip.zoo.index import looks_like_path, read_index

    return not looks_like_path(name) and any(m["name"] == name for m in read_index()["models"])


def load_model_and_config(path: str | Path, map_location: str | torch.device = "cpu") -> tuple:
    """(method rebuilt from a checkpoint's saved config with its weights, in eval mode; that config): one read."""
    state = load_checkpoint(path, map_location=map_location)
    config = config_of(path, state)
    method = build_method(config)
    load_weights(method, state["model"], path)
    return method.to(torch.device(map_location)).eval(), config


def load_model(path: str | Path, map_location: str | torch.device = "cpu"):
    """Rebuild the method from a checkpoint's saved config and load its weights; returned in eval mode."""
    return load_model_and_config(path, map_location)[0]
