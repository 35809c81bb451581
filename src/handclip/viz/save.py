"""Writing matplotlib figures: parents created, one dpi for every PNG of the project."""

from __future__ import annotations

from pathlib import Path


def save_figure(fig, path, dpi: int = 100) -> Path:
    """Save `fig` as `path` (folders created) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    return path
