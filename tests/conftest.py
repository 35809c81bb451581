"""Shared test helpers: the location of the real sample data in ../shared/fixtures."""

import os
from pathlib import Path

import pytest

# the project's shared folder sits beside the checkout; HANDCLIP_SHARED_FIXTURES points elsewhere
SHARED_FIXTURES = Path(
    os.environ.get("HANDCLIP_SHARED_FIXTURES", Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "mmpose")
)


@pytest.fixture(scope="session")
def mmpose_fixtures() -> Path:
    """Folder of mmpose's real hand samples; tests needing it are skipped where it is absent."""
    if not SHARED_FIXTURES.is_dir():
        pytest.skip(f"real fixtures not found at {SHARED_FIXTURES}")
    return SHARED_FIXTURES


@pytest.fixture(autouse=True, scope="session")
def _private_feature_cache(tmp_path_factory):
    """Cached CLIP text features go to a temporary folder, never the user's ~/.cache."""
    patch = pytest.MonkeyPatch()
    patch.setenv("HANDCLIP_CACHE", str(tmp_path_factory.mktemp("handclip_cache")))
    yield
    patch.undo()


@pytest.fixture(autouse=True, scope="session")
def _empty_model_zoo(tmp_path_factory):
    """HANDCLIP_ZOO points at an empty folder: no test picks up the package's shipped models (a shipped hand
    detector would change what predict does on whole images); tests of the shipped zoo name PACKAGE_ZOO."""
    patch = pytest.MonkeyPatch()
    patch.setenv("HANDCLIP_ZOO", str(tmp_path_factory.mktemp("empty_zoo")))
    yield
    patch.undo()
