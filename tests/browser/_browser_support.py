"""Helpers of the browser tests: Chromium, the test catalog, screenshots."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
HISTORY = "celestrak-history-2026-05-24-to-30/resource.tle"
# As tests/conftest.py: the shared real data, here optional (the snapshot alone also works).
SHARED_DATA = Path(os.environ.get("OVERFLIGHT_SHARED_DATA",
                                  Path(__file__).resolve().parents[3] / "shared" / "data"))


def build_catalog(db: Path) -> None:
    """The bundled snapshot plus, when available, a real week of 'resource' history."""
    from overflight.catalog import Catalog, snapshot_paths

    sources = [str(p) for p in snapshot_paths()]
    if (SHARED_DATA / HISTORY).exists():
        sources.append(str(SHARED_DATA / HISTORY))
    with Catalog.open(db, create=True) as cat:
        cat.import_sources(sources)


def screenshot(page: Any, name: str, height: int | None = None) -> Path:
    """Save a screenshot under test-artifacts/: the top ``height`` pixels of the page (default:
    the viewport, a laptop screen)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.evaluate("window.scrollTo(0, 0)")
    if height is None:
        page.screenshot(path=str(path))
    else:
        width = page.viewport_size["width"]
        page.screenshot(path=str(path), full_page=True,
                        clip={"x": 0, "y": 0, "width": width, "height": height})
    return path
