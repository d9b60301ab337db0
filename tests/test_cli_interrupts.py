"""Ctrl-C and SIGTERM on real CLI jobs (issue 19): exit 130/143, one line on stderr without a
traceback or a leaked semaphore, no process left, whole output lines ending with the marker."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from _support import alive, descendants
from overflight.access import Constraints
from overflight.coverage import CoverageInterrupted, ShardPlan, coverage

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc, fork")

REPO = Path(__file__).resolve().parents[1]
START = "2026-05-31T00:00Z"
KEYS = {"incomplete", "satellites_done", "satellites", "rows_written", "rows"}



def _job(args: list[str]) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "OVERFLIGHT_MAX_JOB_S": "0"}
    return subprocess.Popen([sys.executable, "-m", "overflight", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, start_new_session=True)


def _stop(proc: subprocess.Popen[bytes], sig: int, seen: set[int], head: bytes = b""
          ) -> tuple[bytes, str]:
    os.killpg(proc.pid, sig)
    try:
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    deadline = time.monotonic() + 3
    while any(alive(p) for p in seen) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [p for p in seen if alive(p)], "a worker outlived the job"
    text = err.decode()
    assert "Traceback" not in text and "leaked" not in text, text
    assert sum(line.startswith("overflight: interrupted") for line in text.splitlines()) == 1
    return head + out, text


def _passes(tle: Path, fmt: str) -> list[str]:
    return ["passes", "--tle", str(tle), "--all-sites", "--start", START, "--days", "5",
            "-f", fmt]


@pytest.mark.parametrize("fmt", ["ndjson", "csv"])
def test_ctrl_c_while_writing(shared_data: Path, fmt: str) -> None:
    """SIGINT once the job writes (its pipe full, so it is mid-write): whole lines only, and
    the last one is the marker with the same keys as always."""
    proc = _job(_passes(shared_data / "celestrak-2026-05-30" / "resource.tle", fmt))
    assert proc.stdout is not None
    seen: set[int] = set()
    t0 = time.monotonic()
    while time.monotonic() - t0 < 0.5 or not seen:  # the forked workers, while they run
        seen |= descendants(proc.pid)
        if time.monotonic() - t0 > 20:
            break
        time.sleep(0.05)
    # The writing has begun; nothing more is read, so the pipe fills and the job waits.
    head = os.read(proc.stdout.fileno(), 1)
    time.sleep(0.3)
    out, err = _stop(proc, signal.SIGINT, seen, head)
    assert proc.returncode == 130, err
    assert "rows written" in err.splitlines()[-1]
    lines = out.decode().splitlines()
    last = lines[-1]
    if fmt == "csv":
        assert last.startswith("# ")
        last = last[2:]
        width = lines[0].count(",")
        assert all(line.count(",") >= width for line in lines[1:-1])  # no cut line
    else:
        for line in lines[:-1]:
            json.loads(line)  # every line whole
    marker = json.loads(last)
    assert set(marker) == KEYS and marker["incomplete"] is True
    assert marker["rows_written"] == len(lines) - (2 if fmt == "csv" else 1)


def test_sigterm_before_writing_ends_workers(shared_data: Path) -> None:
    """SIGTERM while the forked workers compute: they are ended, exit 143, one line."""
    proc = _job(_passes(shared_data / "celestrak-2026-05-30" / "resource.tle", "ndjson"))
    seen: set[int] = set()
    t0 = time.monotonic()
    while not seen and time.monotonic() - t0 < 20:
        seen |= descendants(proc.pid)
        time.sleep(0.05)
    time.sleep(0.3)
    seen |= descendants(proc.pid)
    assert proc.poll() is None
    out, err = _stop(proc, signal.SIGTERM, seen)
    assert proc.returncode == 143, err
    last = err.strip().splitlines()[-1]
    assert last.startswith("overflight: interrupted after")
    if out.strip():
        assert set(json.loads(out.splitlines()[-1])) == KEYS


def test_coverage_interrupted_keeps_finished_tiles(shared_data: Path) -> None:
    """Ctrl-C after the first tile: CoverageInterrupted carries that tile's points, with the
    statistics a whole run gives them."""
    from overflight.catalog.tle import parse_tle
    from overflight.geometry import Site

    path = shared_data / "celestrak-2026-05-30" / "resource.tle"
    elsets = parse_tle(path.read_bytes(), str(path))[0][:6]
    points = [Site(f"p{i}", 38.0 + 0.25 * i, 127.0) for i in range(12)]
    start = datetime(2026, 5, 31, tzinfo=UTC)
    end = datetime(2026, 5, 31, 12, tzinfo=UTC)
    c = Constraints(max_off_nadir_deg=30.0)
    plan = ShardPlan(sat_batch=6, tile_points=4)
    whole = coverage(elsets, points, start, end, c, plan=plan, method="points")

    def progress(done: int, _total: int) -> None:
        if done >= 3:  # tile 0 done (a batch, its statistics), tile 1 under way
            raise KeyboardInterrupt

    with pytest.raises(CoverageInterrupted) as info:
        coverage(elsets, points, start, end, c, plan=plan, method="points", progress=progress)
    stop = info.value
    assert (stop.points_done, stop.points) == (4, 12)
    assert stop.partial is not None
    assert stop.partial.point_rows() == whole.point_rows()[:4]
