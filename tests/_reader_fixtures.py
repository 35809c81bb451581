"""Helpers of the reader tests: the committed fixtures (tests/fixtures) and ways to break copies of them."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from handclip.geometry import bone_length

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def copy_fixture(name: str, tmp_path: Path) -> Path:
    """A writable copy of tests/fixtures/<name> under tmp_path."""
    dst = tmp_path / name
    shutil.copytree(FIXTURES / name, dst)
    return dst


def truncate(path: Path) -> None:
    """Cut a file to half its size, as an interrupted download leaves it."""
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def assert_plausible_hand(xyz: np.ndarray) -> None:
    """Canonical joint order check: metacarpals (wrist to each finger MCP) 45-110 mm, phalanges 10-60 mm."""
    for mcp in (5, 9, 13, 17):
        assert 45 <= bone_length(xyz, (0, mcp)) <= 110, (mcp, bone_length(xyz, (0, mcp)))
    assert 60 <= bone_length(xyz, (0, 9)) <= 110
    for finger in range(5):
        for k in range(1 + 4 * finger, 4 + 4 * finger):
            assert 10 <= bone_length(xyz, (k, k + 1)) <= 60, (k, bone_length(xyz, (k, k + 1)))
