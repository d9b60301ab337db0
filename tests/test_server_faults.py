"""A bounded fault run: `overflight serve` on 127.0.0.1 with a temporary database is killed
(SIGKILL) while imports are running, several times; afterwards the database is intact
(``PRAGMA integrity_check``), every stored element set is valid, and each import is there
entirely or not at all. Traffic goes to 127.0.0.1 only; the run stops by itself (~20 s)."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

pytest.importorskip("uvicorn")

from overflight.catalog.store import ELEMENT_COLUMNS, checked_element_set

TOKEN = "fault-token"
SNAPSHOT = Path(__file__).resolve().parents[1] / "src" / "overflight" / "data" / "snapshot"
KILL_AFTER_S = (0.05, 0.15, 0.3, 0.5, 0.8)  # deterministic: early, mid-import, late


def _serve(db: Path) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "OVERFLIGHT_DB": str(db), "OVERFLIGHT_TOKEN": TOKEN}
    proc = subprocess.Popen(
        [sys.executable, "-m", "overflight", "serve", "--port", "0", "--log-level", "warning"],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
    assert proc.stderr is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        found = re.search(r"on http://127\.0\.0\.1:(\d+)/", line)
        if found:
            return proc, f"http://127.0.0.1:{found.group(1)}"
        if not line:
            break
    proc.kill()
    proc.wait()
    raise AssertionError("the server did not start")


def _import(base: str, group: str, data: str, out: dict[str, int]) -> None:
    try:
        resp = httpx.post(f"{base}/api/catalog/import", timeout=30,
                          headers={"Authorization": f"Bearer {TOKEN}"},
                          json={"data": data, "group": group})
        out[group] = resp.status_code
    except httpx.HTTPError:
        out[group] = -1  # killed while answering


@pytest.mark.slow
def test_killed_during_imports_the_database_stays_whole(tmp_path: Path) -> None:
    db = tmp_path / "catalog.db"
    data = (SNAPSHOT / "geo.tle").read_text() + (SNAPSHOT / "resource.tle").read_text()
    expected = data.count("\n1 ") + int(data.startswith("1 "))
    results: dict[str, int] = {}
    for i, delay in enumerate(KILL_AFTER_S):
        proc, base = _serve(db)
        try:
            # Two imports in flight, the server killed in the middle of them.
            threads = [threading.Thread(target=_import, args=(base, f"g{i}{k}", data, results))
                       for k in "ab"]
            for t in threads:
                t.start()
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
            for t in threads:
                t.join(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    # One import with the server left running: it is stored and answered 200.
    proc, base = _serve(db)
    try:
        _import(base, "final", data, results)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    assert results["final"] == 200, results

    con = sqlite3.connect(db)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = con.execute(f"SELECT {ELEMENT_COLUMNS} FROM element_sets").fetchall()
        assert rows and all(checked_element_set(r) is not None for r in rows)
        members = dict(con.execute(
            "SELECT g.name, count(gm.norad_id) FROM groups g "
            "LEFT JOIN group_members gm ON gm.group_id = g.id GROUP BY g.id").fetchall())
    finally:
        con.close()
    distinct = len({line[2:7] for line in data.splitlines() if line.startswith("1 ")})
    # All or nothing: a group is absent or has every object of its import; an import
    # answered 200 is stored.
    for group, status in results.items():
        assert members.get(group, distinct) == distinct, (group, members.get(group))
        if status == 200:
            assert group in members, group
    assert expected >= distinct > 0
