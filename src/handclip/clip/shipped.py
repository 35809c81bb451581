"""CLIPs shipped with handclip: the folder handclip/clip_zoo (or $HANDCLIP_CLIP_ZOO), beside the pose-model zoo.

Per CLIP: <name>.safetensors (handclip.clip.compact's float16 file) and <name>.md (its card), listed in the
folder's zoo.json ({"format": 1, "models": [{"name", "file", "card", "bytes", "sha256", "params", "metrics",
"command"}]}). A method's `clip:` spec takes the name (`clip: style-cpu`); the file is checked against the
index's SHA-256 before it is read.
"""

from __future__ import annotations

import os
from pathlib import Path

from handclip.atomic import write_atomic
from handclip.zoo.index import MAX_MODEL_BYTES, NAME_PATTERN, ZooError, read_index, sha256, write_index

PACKAGE_CLIP_ZOO = Path(__file__).resolve().parent.parent / "clip_zoo"


def clip_zoo_dir(zoo: str | Path | None = None) -> Path:
    """The folder of shipped CLIPs: `zoo`, else $HANDCLIP_CLIP_ZOO, else the package's clip_zoo."""
    return Path(zoo or os.environ.get("HANDCLIP_CLIP_ZOO") or PACKAGE_CLIP_ZOO)


def list_clips(zoo: str | Path | None = None) -> list[dict]:
    """The shipped CLIPs' index entries."""
    return read_index(clip_zoo_dir(zoo))["models"]


def is_name(spec: str) -> bool:
    """True when `spec` reads as a shipped CLIP's name (lower-case, no folder part) and is no local path."""
    return bool(NAME_PATTERN.match(str(spec))) and not Path(spec).exists()


def resolve(name: str, zoo: str | Path | None = None) -> Path:
    """The checked weights file of shipped CLIP `name`; ZooError naming the name or the file otherwise."""
    folder = clip_zoo_dir(zoo)
    entries = {e["name"]: e for e in list_clips(zoo)}
    if name not in entries:
        known = ", ".join(entries) or "none yet"
        raise ZooError(f"no CLIP named {name!r} is shipped in {folder} (shipped: {known}); train one with "
                       f"`handclip clip-train --config clip/style_cpu --ship {name}`, or give a .safetensors file, a "
                       f"hub id, an HF folder or random-tiny")
    path = folder / entries[name]["file"]
    if not path.is_file():
        raise ZooError(f"{path}: weights file of shipped CLIP {name!r} is missing; reinstall handclip")
    if entries[name].get("sha256") and sha256(path) != entries[name]["sha256"]:
        raise ZooError(f"{path}: weights of shipped CLIP {name!r} are damaged ({path.stat().st_size} bytes, checksum "
                       f"differs from zoo.json); reinstall handclip or train it again")
    return path


def ship(weights: str | Path, name: str, card: str, entry: dict, zoo: str | Path | None = None,
         force: bool = False) -> dict:
    """Copy a trained CLIP file into the shipped folder as `name` with its card; returns the index entry.
    An existing CLIP of that name is replaced only with force=True."""
    if not NAME_PATTERN.match(name):
        raise ZooError(f"CLIP name {name!r} must be lower-case letters, digits, '_' or '-'")
    size = Path(weights).stat().st_size
    if size > MAX_MODEL_BYTES:
        raise ZooError(f"{weights}: {size / 1e6:.1f} MB, over the {MAX_MODEL_BYTES / 1e6:.0f} MB a shipped file may "
                       "hold; make the CLIP smaller (clip.text / clip.vision widths)")
    folder = clip_zoo_dir(zoo)
    index = read_index(folder)
    files = {"file": f"{name}.safetensors", "card": f"{name}.md"}
    taken = [str(folder / f) for f in files.values() if (folder / f).exists()]
    if (taken or any(m["name"] == name for m in index["models"])) and not force:
        raise ZooError(f"CLIP {name!r} exists in {folder} ({', '.join(taken) or 'zoo.json'}); pass --force to replace it")
    folder.mkdir(parents=True, exist_ok=True)
    write_atomic(folder / files["file"], Path(weights).read_bytes())
    write_atomic(folder / files["card"], card)
    new = {"name": name, **files, **entry, "sha256": sha256(folder / files["file"])}
    write_index({**index, "models": [m for m in index["models"] if m["name"] != name] + [new]}, folder)
    return new
