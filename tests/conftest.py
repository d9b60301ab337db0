"""Shared fixtures: the real public element sets in ../shared/data (see its README)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("OVERFLIGHT_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared data folder; tests that need it are skipped, loudly, where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def _isolated_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test touches the user's real catalog: OVERFLIGHT_DB points into tmp_path."""
    monkeypatch.setenv("OVERFLIGHT_DB", str(tmp_path / "catalog.db"))


@pytest.fixture(scope="module")
def resource_catalog(shared_data: Path):  # type: ignore[no-untyped-def]
    """An in-memory catalog of the shared 2026-05-30 'resource' snapshot (group 'resource')."""
    from overflight.catalog import Catalog
    from overflight.catalog.formats import read_path

    cat = Catalog.memory()
    cat.add(read_path(shared_data / "celestrak-2026-05-30" / "resource.tle").records,
            group="resource")
    return cat
