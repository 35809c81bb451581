"""YAML experiment configs: `inherit:` deep-merge, dotted command-line overrides, the resolved copy.

A config names its parents with `inherit: <path>` or a list of paths, relative to the file; parents
merge first (later parents win) and the child wins over all of them. Configs are found by path or by
name inside the package's `configs/` folder (`dg_clip/cpu` or `dg_clip/cpu.yaml`).
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import yaml

from handclip.errors import UserError

PACKAGE_CONFIGS = Path(__file__).resolve().parent.parent / "configs"

# Engine settings a config may leave out; the resolved config written beside checkpoints holds them all.
# Every train.* key needs its default here: the known keys and their types (engine/schema.py) come from it.
TRAIN_DEFAULTS = {
    "epochs": 1,
    "batch_size": 16,
    "optimizer": {"name": "adam", "lr": 1e-3, "betas": [0.9, 0.999], "weight_decay": 0.0},
    "scheduler": {"name": "none", "step_size": 1, "gamma": 0.1, "warmup_steps": 0, "min_factor": 0.01},
    "amp": "none",
    "grad_clip": 0.0,
    "num_workers": 0,
    "seed": 0,
    "val_every": 1,
    "log_every": 10,
    "save_every_steps": 0,
    "keep_epochs": 0,
    "max_minutes": 0.0,
    "sync_batchnorm": False,
    "find_unused_parameters": False,
}


class ConfigError(UserError, ValueError):
    """A config file is missing, malformed, or an override cannot be applied."""


def find_config(name_or_path: str | Path) -> Path:
    """Resolve a config given as a file path or as a name inside the package's configs folder."""
    raw = Path(name_or_path)
    candidates = [raw, raw.with_name(raw.name + ".yaml")] if raw.suffix != ".yaml" else [raw]
    candidates += [PACKAGE_CONFIGS / c for c in candidates]
    for path in candidates:
        if path.is_file():
            return path.resolve()
    known = sorted(str(p.relative_to(PACKAGE_CONFIGS)) for p in PACKAGE_CONFIGS.rglob("*.yaml"))
    raise ConfigError(f"config {str(name_or_path)!r} not found as a file nor in {PACKAGE_CONFIGS}; known: {known}")


def deep_merge(base: dict, child: dict) -> dict:
    """A new dict: `base` updated recursively by `child` (nested dicts merge, anything else is replaced)."""
    out = copy.deepcopy(base)
    for key, value in child.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _read_yaml(path: Path) -> dict:
    """One YAML mapping from `path`, with an error naming the file when it is not one."""
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}") from err
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a config must be a YAML mapping, found {type(data).__name__}")
    return data


def _load_tree(path: Path, chain: tuple[Path, ...]) -> dict:
    """The config at `path` with its `inherit:` parents merged in; `chain` detects cycles."""
    if path in chain:
        raise ConfigError(f"{path}: inheritance cycle: {' -> '.join(str(p) for p in chain + (path,))}")
    data = _read_yaml(path)
    parents = data.pop("inherit", None) or []
    if isinstance(parents, str):
        parents = [parents]
    if not isinstance(parents, list):
        raise ConfigError(f"{path}: 'inherit' must be a path or a list of paths")
    merged: dict = {}
    for parent in parents:
        parent_path = (path.parent / parent).resolve()
        if not parent_path.is_file():
            raise ConfigError(f"{path}: inherited config {parent!r} not found (looked at {parent_path})")
        merged = deep_merge(merged, _load_tree(parent_path, chain + (path,)))
    return deep_merge(merged, data)


def parse_override(text: str) -> tuple[list[str], object]:
    """Split `a.b.c=value` into the key path and the YAML-typed value (`3` int, `1e-3` float, `[1,2]` list)."""
    if "=" not in text:
        raise ConfigError(f"override {text!r} must look like key.sub=value")
    key, raw = text.split("=", 1)
    if not key or any(not part for part in key.split(".")):
        raise ConfigError(f"override {text!r} has an empty key")
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError as err:
        raise ConfigError(f"override {text!r}: value is not valid YAML: {err}") from err
    return key.split("."), _fix_floats(value)


# YAML 1.1 (PyYAML) reads exponent numbers without a dot, like 1e-3, as strings
_EXP_FLOAT = re.compile(r"^[+-]?\d+(\.\d*)?[eE][+-]?\d+$")


def apply_overrides(config: dict, overrides: list[str]) -> dict:
    """A new config with each `a.b=value` override set, creating intermediate mappings as needed."""
    out = copy.deepcopy(config)
    for text in overrides:
        keys, value = parse_override(text)
        node = out
        for depth, key in enumerate(keys[:-1]):
            child = node.setdefault(key, {})
            if not isinstance(child, dict):
                raise ConfigError(f"override {text!r}: {'.'.join(keys[:depth + 1])} is not a mapping")
            node = child
        node[keys[-1]] = value
    return out


def with_defaults(config: dict) -> dict:
    """The config with the engine's defaults filled in under `train:` (the config's own values win)."""
    return deep_merge({"train": TRAIN_DEFAULTS}, config)


def load_config(name_or_path: str | Path, overrides: list[str] | None = None) -> dict:
    """Resolve a config: parents merged, engine defaults filled in, overrides applied, floats fixed."""
    config = _fix_floats(with_defaults(_load_tree(find_config(name_or_path), ())))
    return apply_overrides(config, list(overrides or []))


def _fix_floats(node):
    """Turn exponent strings like '1e-3' into floats, recursively (PyYAML leaves them as text)."""
    if isinstance(node, dict):
        return {k: _fix_floats(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_fix_floats(v) for v in node]
    if isinstance(node, str) and _EXP_FLOAT.match(node):
        return float(node)
    return node


def save_config(config: dict, path: str | Path) -> Path:
    """Write the resolved config as YAML (keys in their order) so a run can be rebuilt from it alone."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def read_resolved(path: str | Path) -> dict:
    """Read a resolved config written by save_config (no inheritance, no defaults added)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: resolved config not found")
    return _read_yaml(path)
