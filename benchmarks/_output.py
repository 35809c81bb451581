"""The shared tail of every benchmark script: print its JSON document and write it to --out if given."""

from __future__ import annotations

import json
from pathlib import Path


def emit(result: dict, out: Path | None) -> None:
    """Print `result` as indented JSON; also write it (with a final newline) to `out` when set."""
    text = json.dumps(result, indent=2)
    print(text)
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n")
