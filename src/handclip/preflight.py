"""Checks a command runs before any work: output paths it can write, numbers in range, the device it asked for.

Each failure is a UserError naming the option and what to give instead, so a long run never ends in
an error about something that was wrong from the start.
"""

from __future__ import annotations

import os
from pathlib import Path

from handclip.errors import UserError


def _creatable(path: Path, option: str) -> None:
    """Raise unless the folder `path` exists writable or its nearest existing ancestor is a writable folder."""
    existing = path.absolute()
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise UserError(f"{option} {path}: {existing} is a file, so no folder can be made there; choose another {option}")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UserError(f"{option} {path}: the folder {existing} is not writable; choose another {option}")


def out_folder(path: str | Path, option: str = "--out") -> Path:
    """`path` as a Path when it is, or can be made, a writable folder."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise UserError(f"{option} {path}: is a file, not a folder; give a folder (it is created if missing)")
    _creatable(path, option)
    return path


def out_file(path: str | Path, option: str, example: str = "out") -> Path:
    """`path` as a Path when a file can be written there (its folder exists or can be made)."""
    path = Path(path)
    if path.is_dir():
        raise UserError(f"{option} {path}: is a folder; give a file name inside it, e.g. {path / example}")
    _creatable(path.parent, option)
    return path


def at_least(value: int | float, minimum: int | float, option: str) -> None:
    """Raise unless value >= minimum."""
    if value < minimum:
        raise UserError(f"{option} must be at least {minimum}, got {value}")


def int_list(text: str, option: str, minimum: int = 1) -> list[int]:
    """'1,8,32' -> [1, 8, 32] (empty items skipped), each >= minimum."""
    values = []
    for item in (t.strip() for t in text.split(",")):
        if not item:
            continue
        try:
            values.append(int(item))
        except ValueError:
            raise UserError(f"{option} {text!r}: {item!r} is not an integer; give comma-separated numbers like 1,8") from None
        at_least(values[-1], minimum, option)
    return values


def device(name: str | None = None):
    """The torch device `name` (cpu, cuda, cuda:N; default cuda when present), checked to exist here."""
    import torch

    if name is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(name)
    except RuntimeError:
        raise UserError(f"--device {name!r} is not a device; give cpu or cuda (cuda:N for the N-th GPU)") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise UserError(f"--device {name}: CUDA is not available here (torch {torch.__version__}, "
                            f"{torch.cuda.device_count()} GPUs); use --device cpu")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise UserError(f"--device {name}: this machine has {torch.cuda.device_count()} GPUs (cuda:0 ...)")
    elif dev.type != "cpu":
        raise UserError(f"--device {name!r}: handclip runs on cpu or cuda")
    return dev


def protocol(name: str, option: str = "--protocol") -> str:
    """`name` when it is an evaluation protocol of handclip.protocols."""
    from handclip.protocols import get

    try:
        get(name)
    except KeyError as err:
        raise UserError(f"{option}: {err.args[0]}") from None
    return name
