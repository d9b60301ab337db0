"""Every ```python snippet of README.md and docs/*.md runs as written, from the repository root
(where a reader runs them: relative paths such as examples/ and ../shared/data), in a fresh
process on the bundled snapshot (OVERFLIGHT_DB points at a file that does not exist)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def snippets() -> list[tuple[str, str]]:
    """``(FILE:LINE, code)`` of each python block."""
    out: list[tuple[str, str]] = []
    for path in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        text = path.read_text(encoding="utf-8")
        for m in re.finditer(r"^```python\n(.*?)^```", text, re.S | re.M):
            line = text[: m.start()].count("\n") + 1
            out.append((f"{path.relative_to(REPO)}:{line}", m.group(1)))
    return out


# Coverage runs over the Korean peninsula's grid (one of them on a local Dask cluster).
SLOW = {"docs/coverage.md"}


def _params() -> list[object]:
    return [pytest.param(code, id=where,
                         marks=[pytest.mark.slow] if where.split(":")[0] in SLOW else [])
            for where, code in snippets()]


def test_snippets_found() -> None:
    assert len(snippets()) >= 10


@pytest.mark.parametrize("code", _params())
def test_snippet_runs(code: str) -> None:
    if "../shared/data" in code and not (REPO.parent / "shared" / "data").is_dir():
        pytest.skip("the snippet reads ../shared/data, absent here")
    env = {**os.environ, "MPLBACKEND": "Agg",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO / "src"),
                                                        os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
