"""The model zoo's index: where shipped models live, zoo.json, and names resolved to checked local files.

A zoo is a folder holding, per model, <name>.safetensors (weights), <name>.yaml (resolved config) and
<name>.md (model card), listed in zoo.json as {"format": 1, "models": [{"name", "method", "file", "config",
"card", "dtype", "params", "bytes", "sha256", "metrics", "default", ...}]}. The package's own zoo is
handclip/models_zoo; the HANDCLIP_ZOO variable (or a `zoo` argument) points at another folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

from handclip.atomic import write_atomic
from handclip.engine.checkpoint import CheckpointError

PACKAGE_ZOO = Path(__file__).resolve().parent.parent / "models_zoo"
INDEX = "zoo.json"
FORMAT = 1
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
MAX_MODEL_BYTES = 8_000_000  # per weights file (issue 12: each <= 8 MB)
MAX_ZOO_BYTES = 25_000_000  # all weights files together
PATH_SUFFIXES = (".pt", ".pth", ".safetensors")  # an argument ending so is a file, never a model name
DETECTOR_METHODS = ("hand_detector",)  # methods whose models find hands rather than pose them


class ZooError(CheckpointError):
    """No model is shipped, a model name is unknown, or a shipped file is missing or damaged."""


def zoo_dir(zoo: str | Path | None = None) -> Path:
    """The zoo folder: `zoo`, else $HANDCLIP_ZOO, else the package's models_zoo."""
    return Path(zoo or os.environ.get("HANDCLIP_ZOO") or PACKAGE_ZOO)


def read_index(zoo: str | Path | None = None) -> dict:
    """The zoo's zoo.json (an empty index when the folder has none)."""
    path = zoo_dir(zoo) / INDEX
    if not path.is_file():
        return {"format": FORMAT, "models": []}
    try:
        index = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ZooError(f"{path}: damaged model index ({err}); reinstall handclip or restore the file") from None
    if not isinstance(index, dict) or not isinstance(index.get("models"), list):
        raise ZooError(f"{path}: not a handclip model index (expected {{'format', 'models': [...]}})")
    return index


def write_index(index: dict, zoo: str | Path | None = None) -> Path:
    """Write zoo.json atomically, models sorted by name."""
    index = {**index, "format": FORMAT, "models": sorted(index["models"], key=lambda m: m["name"])}
    return write_atomic(zoo_dir(zoo) / INDEX, json.dumps(index, indent=2) + "\n")


def list_models(zoo: str | Path | None = None) -> list[dict]:
    """The shipped models' index entries, each with 'path', the weights file's absolute path, added."""
    folder = zoo_dir(zoo)
    return [{**entry, "path": str((folder / entry["file"]).resolve())} for entry in read_index(zoo)["models"]]


def _none_shipped(folder: Path) -> str:
    return (f"no model is shipped in {folder} yet; give --checkpoint a checkpoint .pt written by handclip train "
            f"(or set HANDCLIP_ZOO to a folder of packed models)")


def find(name: str, zoo: str | Path | None = None) -> dict:
    """The index entry of model `name`; ZooError listing the known names otherwise."""
    models = read_index(zoo)["models"]
    for entry in models:
        if entry["name"] == name:
            return entry
    if not models:
        raise ZooError(f"{name!r} is neither a file nor a shipped model: " + _none_shipped(zoo_dir(zoo)))
    raise ZooError(f"{name!r} is neither a file nor a shipped model; known models: "
                   f"{', '.join(m['name'] for m in models)} (handclip models lists them)")


def is_detector(entry: dict) -> bool:
    """Whether a zoo entry is a hand detector (found by `predict` itself, never the default pose model)."""
    return entry.get("method") in DETECTOR_METHODS


def default_name(zoo: str | Path | None = None) -> str:
    """The name of the pose model flagged default in zoo.json."""
    models = [m for m in read_index(zoo)["models"] if not is_detector(m)]
    if not models:
        raise ZooError(_none_shipped(zoo_dir(zoo)))
    defaults = [m["name"] for m in models if m.get("default")]
    if len(defaults) != 1:
        raise ZooError(f"{zoo_dir(zoo) / INDEX}: {len(defaults)} models flagged default, expected one; "
                       f"give a model name: {', '.join(m['name'] for m in models)}")
    return defaults[0]


def default_detector(zoo: str | Path | None = None) -> str | None:
    """The name of the shipped hand detector, None when none is shipped; several need a name (ZooError)."""
    names = [m["name"] for m in read_index(zoo)["models"] if is_detector(m)]
    if len(names) > 1:
        raise ZooError(f"{zoo_dir(zoo) / INDEX}: {len(names)} hand detectors are shipped; choose one with "
                       f"--detector NAME: {', '.join(names)}")
    return names[0] if names else None


def hand_check(name_or_path=None, zoo: str | Path | None = None, look_around: bool = False,
               second_look: bool = False) -> float:
    """The hand check a shipped pose model was calibrated with (its entry's `min_confidence`, or with look_around its
    `min_confidence_look_around` where packed with one; None: the default model's); with second_look its
    `min_confidence_second_look`, the check of the two looks predict blends where the first is unsure (0 where packed
    without one). 0 for files and for models packed without one."""
    if name_or_path is not None and (Path(name_or_path).is_file() or looks_like_path(str(name_or_path))):
        return 0.0
    entry = find(default_name(zoo) if name_or_path is None else str(name_or_path), zoo)
    if second_look:
        return float(entry.get("min_confidence_second_look") or 0.0)
    return float((look_around and entry.get("min_confidence_look_around")) or entry.get("min_confidence") or 0.0)


def sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def looks_like_path(text: str) -> bool:
    """True when `text` names a file (a folder part or a checkpoint suffix) rather than a model."""
    return "/" in text or os.sep in text or text.lower().endswith(PATH_SUFFIXES)


def resolve(name_or_path: str | Path | None = None, zoo: str | Path | None = None) -> Path:
    """A local file for a checkpoint path, a .safetensors path or a shipped model name (None: the default
    model); a shipped model's weights and config are checked present and its weights intact (SHA-256)."""
    if name_or_path is not None:
        path = Path(name_or_path)
        if path.is_file():
            return path
        if looks_like_path(str(name_or_path)):
            raise CheckpointError(f"{path}: checkpoint file not found")
    name = default_name(zoo) if name_or_path is None else str(name_or_path)
    entry, folder = find(name, zoo), zoo_dir(zoo)
    for key in ("file", "config"):
        if not (folder / entry[key]).is_file():
            raise ZooError(f"{folder / entry[key]}: file of shipped model {name!r} is missing; reinstall handclip")
    path = folder / entry["file"]
    if entry.get("sha256") and sha256(path) != entry["sha256"]:
        raise ZooError(f"{path}: weights of shipped model {name!r} are damaged ({path.stat().st_size} bytes, "
                       f"checksum differs from {INDEX}); reinstall handclip")
    return path
