"""Config keys and values checked before any work, with the closest known keys suggested for a misspelling.

The known keys come from the code, not from a list kept beside it: `train.*` from TRAIN_DEFAULTS (a
value must have its default's type), `method.*` from the named method's constructor, dataset entries
from the named reader's constructor (simple annotated types are checked too), `eval.protocol` and the
optimiser, scheduler and amp names by building them. LIMITS adds the ranges types cannot say.
"""

from __future__ import annotations

import difflib
import math
import types
import typing

from handclip.engine.config import TRAIN_DEFAULTS, ConfigError

# ranges beyond the defaults' types: dotted key -> (test, what the value must be)
LIMITS = {
    "train.epochs": (lambda v: v >= 1, "an integer >= 1"),
    "train.batch_size": (lambda v: v >= 1, "an integer >= 1"),
    "train.optimizer.lr": (lambda v: v >= 0, "a number >= 0"),  # 0 as torch allows: gradients without updates
    "train.optimizer.weight_decay": (lambda v: v >= 0, "a number >= 0"),
    "train.optimizer.betas": (lambda v: len(v) == 2 and all(_is_number(b) and 0 <= b < 1 for b in v),
                              "two numbers in [0, 1), e.g. [0.9, 0.999]"),
    "train.scheduler.step_size": (lambda v: v >= 1, "an integer >= 1"),
    "train.scheduler.gamma": (lambda v: v > 0, "a number > 0"),
    "train.scheduler.warmup_steps": (lambda v: v >= 0, "an integer >= 0"),
    "train.scheduler.min_factor": (lambda v: 0 <= v <= 1, "a number in [0, 1]"),
    "train.grad_clip": (lambda v: v >= 0, "a number >= 0 (0: no clipping)"),
    "train.num_workers": (lambda v: v >= 0, "an integer >= 0"),
    "train.val_every": (lambda v: v >= 1, "an integer >= 1"),
    "train.log_every": (lambda v: v >= 1, "an integer >= 1"),
    "train.save_every_steps": (lambda v: v >= 0, "an integer >= 0 (0: at epoch ends only)"),
    "train.keep_epochs": (lambda v: v >= 0, "an integer >= 0 (0: keep all)"),
    "train.max_minutes": (lambda v: v >= 0, "a number >= 0 (0: no time limit)"),
}
SECTIONS = ("method", "data", "train", "eval")
EVAL_KEYS = ("protocol",)
DATA_KEYS = ("train", "val")
TYPE_WORDS = {int: "an integer", float: "a number", bool: "true or false", str: "a string", list: "a list",
              dict: "a mapping", type(None): "null"}


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _fits(value, kind) -> bool:
    """Whether a YAML value fits the type `kind` (a float accepts integers, an integer no booleans)."""
    if kind is float:
        return _is_number(value)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def _bad_value(key: str, value, requirement: str) -> ConfigError:
    return ConfigError(f"config key {key} must be {requirement}, got {value!r}; fix it in the config or "
                       f"override it with {key}=VALUE")


def suggest(key: str, known: list[str]) -> list[str]:
    """Up to three known dotted keys closest to `key`: those whose last part is close to its last part
    (train.lr -> train.optimizer.lr), else the closest whole paths."""
    last = key.rpartition(".")[2]
    by_name = [k for k in known if difflib.get_close_matches(last, [k.rpartition(".")[2]], cutoff=0.75)]
    if by_name:
        return sorted(by_name, key=lambda k: -difflib.SequenceMatcher(None, key, k).ratio())[:3]
    return difflib.get_close_matches(key, known, n=3, cutoff=0.6)


def _unknown(key: str, known: list[str], at: str | None = None) -> ConfigError:
    """The error for the unknown key `at` (default `key`), written as the full key `key` below it."""
    parent = (at or key).rpartition(".")[0]
    close = suggest(key, known)
    if close:
        hint = f"did you mean {' or '.join(close)}?"
    else:
        siblings = sorted({k[len(parent) + 1:].split(".")[0] for k in known if k.startswith(parent + ".")}
                          if parent else set(SECTIONS))
        hint = f"known keys{' under ' + parent if parent else ''}: {', '.join(siblings)}"
    return ConfigError(f"unknown config key {key}; {hint}")


def _leaves(tree: dict, prefix: str) -> list[str]:
    """Dotted paths of the leaves of a nested mapping."""
    out = []
    for key, value in tree.items():
        out += _leaves(value, f"{prefix}.{key}") if isinstance(value, dict) else [f"{prefix}.{key}"]
    return out


def _first_leaf(value, key: str) -> str:
    """The first full dotted key the user wrote under `key` (the closest match is sought for it)."""
    while isinstance(value, dict) and value:
        name, value = next(iter(value.items()))
        key = f"{key}.{name}"
    return key


def _check_train(block, defaults: dict, prefix: str, known: list[str]) -> None:
    """Every key of `block` is a key of `defaults` with a value of the default's type and within LIMITS."""
    if not isinstance(block, dict):
        raise _bad_value(prefix, block, "a mapping")
    for key, value in block.items():
        path = f"{prefix}.{key}"
        if key not in defaults:
            raise _unknown(_first_leaf(value, path), known, path)
        default = defaults[key]
        if isinstance(default, dict):
            _check_train(value, default, path, known)
            continue
        kind = float if isinstance(default, float) else type(default)
        limit = LIMITS.get(path)
        if not _fits(value, kind) or (limit and not limit[0](value)):
            raise _bad_value(path, value, limit[1] if limit else TYPE_WORDS.get(kind, kind.__name__))


def _simple_kinds(annotation) -> tuple | None:
    """The plain types an annotation allows (int, float, bool, str, None), None when it is anything else."""
    options = typing.get_args(annotation) if isinstance(annotation, types.UnionType) else (annotation,)
    kinds = tuple(type(None) if o is None else o for o in options)
    return kinds if all(k in (int, float, bool, str, type(None)) for k in kinds) else None


def _check_block(block: dict, params: dict | None, prefix: str, extra: tuple[str, ...]) -> None:
    """Keys of a method or dataset block against its constructor's parameters, simple types against their annotations."""
    if params is None:
        return
    known = [f"{prefix}.{k}" for k in (*extra, *params)]
    for key, value in block.items():
        if key in extra:
            continue
        if key not in params:
            raise _unknown(f"{prefix}.{key}", known)
        kinds = _simple_kinds(params[key].annotation)
        if kinds and not any(_fits(value, k) for k in kinds):
            raise _bad_value(f"{prefix}.{key}", value, " or ".join(TYPE_WORDS[k] for k in kinds))


def _named(block, prefix: str, registry) -> str:
    """The 'name' of a method or dataset block, checked to be registered."""
    if not isinstance(block, dict) or not isinstance(block.get("name"), str):
        raise ConfigError(f"config key {prefix} must be a mapping with a name, e.g. {prefix}.name="
                          f"{registry.names()[0]}; known names: {', '.join(registry.names())}")
    try:
        registry.factory(block["name"])
    except KeyError as err:
        raise ConfigError(f"config key {prefix}.name: {err.args[0]}") from None
    return block["name"]


def _check_protocol(name, key: str) -> None:
    from handclip.protocols import get

    try:
        get(name)
    except (KeyError, TypeError) as err:
        raise ConfigError(f"config key {key}: {err.args[0] if err.args else err}") from None


def _check_entry(entry, prefix: str) -> None:
    """One dataset entry of data.train / data.val: a registered reader, its arguments, an optional protocol."""
    from handclip.data import DATASETS
    from handclip.engine.evaluate import ENTRY_KEYS

    name = _named(entry, prefix, DATASETS)
    _check_block(entry, DATASETS.parameters(name), prefix, ("name", *ENTRY_KEYS))
    if "protocol" in entry:
        _check_protocol(entry["protocol"], f"{prefix}.protocol")


def _check_choices(train: dict) -> None:
    """Build the optimiser, scheduler and autocast of `train` on a dummy parameter: their names are the builders'."""
    import torch

    from handclip.engine.trainer import autocast, build_optimizer, build_scheduler

    optimizer = build_optimizer([torch.zeros(1, requires_grad=True)], train["optimizer"])
    build_scheduler(optimizer, train["scheduler"], 1)
    if train["amp"] != "fp16":  # fp16 needs CUDA, which the device check of the Trainer looks at
        autocast(train["amp"], torch.device("cpu"))


def _section(config: dict, name: str, keys: tuple[str, ...], known: list[str]) -> dict:
    """The mapping config[name] ({} when absent), its keys checked to be among `keys`."""
    block = config.get(name) or {}
    if not isinstance(block, dict):
        raise _bad_value(name, block, f"a mapping of {', '.join(keys)}")
    for key, value in block.items():
        if key not in keys:
            raise _unknown(_first_leaf(value, f"{name}.{key}"), known, f"{name}.{key}")
    return block


def check_config(config: dict, training: bool = True) -> None:
    """Raise ConfigError for the first unknown key or bad value of a resolved config (engine defaults filled in)."""
    from handclip.methods import METHODS

    if not isinstance(config, dict):
        raise ConfigError(f"a config must be a mapping, got {type(config).__name__}")
    known = _leaves(TRAIN_DEFAULTS, "train") + [f"eval.{k}" for k in EVAL_KEYS] + [f"data.{k}" for k in DATA_KEYS]
    for section, value in config.items():
        if section not in SECTIONS:
            raise _unknown(_first_leaf(value, str(section)), known + list(SECTIONS), str(section))
    if "train" in config:
        _check_train(config["train"], TRAIN_DEFAULTS, "train", known)
        if training:
            _check_choices(config["train"])
    method = config.get("method")
    if training or method is not None:
        name = _named(method, "method", METHODS)
        _check_block(method, METHODS.parameters(name), "method", ("name",))
    evaluation = _section(config, "eval", EVAL_KEYS, known)
    if "protocol" in evaluation:
        _check_protocol(evaluation["protocol"], "eval.protocol")
    data = _section(config, "data", DATA_KEYS, known)
    if training and "train" not in data:
        raise ConfigError("config key data.train is missing: training needs a dataset, e.g. "
                          "data.train={name: synth, n: 1000}")
    if "train" in data:
        _check_entry(data["train"], "data.train")
    val = data.get("val") or []
    if not isinstance(val, list):
        raise _bad_value("data.val", val, "a list of dataset entries")
    for i, entry in enumerate(val):
        _check_entry(entry, f"data.val[{i}]")
