"""Shared test helpers: the location of the real sample data in ../shared/fixtures."""

from pathlib import Path

import pytest

SHARED_FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "mmpose"


@pytest.fixture(scope="session")
def mmpose_fixtures() -> Path:
    """Folder of mmpose's real hand samples; tests needing it are skipped where it is absent."""
    if not SHARED_FIXTURES.is_dir():
        pytest.skip(f"real fixtures not found at {SHARED_FIXTURES}")
    return SHARED_FIXTURES
