"""The real development photos as a config lists them (configs/datasets/realdev.yaml): which sets are on disk.

They live outside the package (../shared/realdev, evaluation only), so a tool scoring them first splits the
config's data.val entries into those whose files exist and the paths that are missing, and says so.
"""

from __future__ import annotations

from pathlib import Path

from handclip.engine.config import load_config

PATH_KEYS = ("root", "ann_file", "img_dir")  # dataset entry keys naming files or folders on disk


def present_sets(config: str | Path) -> tuple[list[dict], list[str]]:
    """(the data.val entries of `config` whose files all exist, the missing paths of the others)."""
    present, missing = [], []
    for entry in (load_config(config).get("data") or {}).get("val") or []:
        gone = [str(entry[k]) for k in PATH_KEYS if entry.get(k) and not Path(entry[k]).exists()]
        if gone:
            missing += gone
        else:
            present.append(entry)
    return present, missing
