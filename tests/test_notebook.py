"""The quickstart notebook runs, quickly, and its committed outputs are what it prints today.

After a change that alters its outputs, re-execute it in place (no catalog database, so it runs
on the bundled snapshot)::

    OVERFLIGHT_DB=/nonexistent.db jupyter execute --inplace examples/notebooks/quickstart.ipynb
"""

from __future__ import annotations

import copy
import os
import re
import time
from pathlib import Path
from typing import Any

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "notebooks" / "quickstart.ipynb"
MAX_SECONDS = 90.0  # about 20 s on an idle machine; the bound leaves room for a loaded one


def _text(cell: Any) -> list[str]:
    """A code cell's text outputs (stream text and text/plain), figures by their description."""
    out = []
    for o in cell.get("outputs", []):
        if o["output_type"] == "stream":
            out.append(o["text"])
        elif o["output_type"] in ("execute_result", "display_data"):
            out.append(o["data"].get("text/plain", ""))
        elif o["output_type"] == "error":
            out.append(f"{o['ename']}: {o['evalue']}")
    # Object addresses differ between runs.
    return [re.sub(r" at 0x[0-9a-f]+", "", t) for t in out]


def test_quickstart_notebook_executes_and_is_not_stale(monkeypatch: pytest.MonkeyPatch) -> None:
    import overflight

    # The kernel runs in the notebook's folder: it must import the overflight under test.
    here = str(Path(overflight.__file__).resolve().parents[1])
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([here, os.environ.get("PYTHONPATH", "")]))
    committed = nbformat.read(NOTEBOOK, as_version=4)
    nb = copy.deepcopy(committed)
    client = nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    t0 = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - t0
    assert elapsed < MAX_SECONDS, f"the notebook took {elapsed:.0f} s"

    code = [c for c in nb.cells if c.cell_type == "code"]
    stored = [c for c in committed.cells if c.cell_type == "code"]
    for fresh, old in zip(code, stored, strict=True):
        assert old.get("outputs"), f"committed without outputs: {old.source[:60]!r}"
        assert _text(fresh) == _text(old), (
            f"stale outputs in {old.source.splitlines()[0]!r}: re-execute the notebook "
            "(see this test's docstring)"
        )
    figures = sum("image/png" in o.get("data", {}) for c in code for o in c.outputs)
    assert figures == 3  # timeline, ground track, coverage map
    html = [o["data"]["text/html"] for c in code for o in c.outputs
            if "text/html" in o.get("data", {})]
    assert any("windows of 167 satellites" in h for h in html)
    assert any("consistent" in h for h in html)
