"""The config of `handclip clip-train` (configs/clip/*.yaml): CLIP sizes, captioned renders, schedule, held-out check.

Sections: `clip` (handclip.clip.compact.build_model's block), `data` (the caption cache: domain weights,
hands, hand-free scenes, render size, seed, random-crop range), `train` (the engine's keys: epochs, batch_size,
optimizer, scheduler, grad_clip, seed, log_every, save_every_steps; the others are not used here) and `eval`
(zero-shot accuracy on renders of another seed after training). Unknown keys fail with the closest known one.
"""

from __future__ import annotations

from handclip.engine.config import ConfigError, deep_merge, load_config
from handclip.engine.schema import check_config, suggest

DEFAULTS = {
    "clip": {"image_size": 96, "patch_size": 16, "projection_dim": 512,
             "vision": {"hidden_size": 128, "intermediate_size": 512, "num_hidden_layers": 6, "num_attention_heads": 4},
             "text": {"hidden_size": 64, "intermediate_size": 256, "num_hidden_layers": 4, "num_attention_heads": 4}},
    "data": {"domains": {"texture": 1.0}, "hands": 1000, "scenes": 250, "size": 128, "seed": 0, "crop": [0.8, 1.0],
             "workers": 2, "root": None},
    "eval": {"domain": "texture", "n": 300, "seed": 90001},
}
SECTIONS = ("clip", "data", "train", "eval")
FREE_MAPPINGS = ("data.domains",)  # keys chosen by the user (domain names), checked where they are used


def _leaves(tree: dict, prefix: str) -> list[str]:
    out = []
    for key, value in tree.items():
        path = f"{prefix}.{key}" if prefix else key
        out += _leaves(value, path) if isinstance(value, dict) and path not in FREE_MAPPINGS else [path]
    return out


def check(config: dict) -> None:
    """ConfigError for the first unknown key (with the closest known one) or a misplaced section."""
    known = _leaves(DEFAULTS, "") + [f"train.{k}" for k in ("epochs", "batch_size", "optimizer", "scheduler")]
    for path in _leaves({k: v for k, v in config.items() if k != "train"}, ""):
        if path not in known and not any(path.startswith(f + ".") for f in FREE_MAPPINGS):
            close = suggest(path, known)
            hint = f"did you mean {' or '.join(close)}?" if close else f"sections: {', '.join(SECTIONS)}"
            raise ConfigError(f"unknown config key {path} of a CLIP recipe; {hint}")
    check_config({"train": config.get("train", {})}, training=False)
    lo, hi = config["data"]["crop"]
    if not 0 < lo <= hi <= 1:
        raise ConfigError(f"config key data.crop must be [low, high] with 0 < low <= high <= 1, got {[lo, hi]}")
    if config["eval"]["seed"] == config["data"]["seed"]:
        raise ConfigError(f"config key eval.seed equals data.seed ({config['data']['seed']}): held-out renders need "
                          f"a seed never used in training")


def load(name_or_path: str, overrides: list[str] | None = None) -> dict:
    """The resolved recipe: the file (inheritance, engine train defaults, overrides) over DEFAULTS, checked."""
    given = load_config(name_or_path, overrides)
    config = deep_merge(DEFAULTS, given)
    if "domains" in (given.get("data") or {}):  # a mixture replaces the default one, never merges with it
        config["data"]["domains"] = given["data"]["domains"]
    check(config)
    return config
