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


def _parquet_marker(data: bytes) -> tuple[dict[str, object], int, int]:
    """The ``overflight.incomplete`` marker, rows and row groups of a Parquet file's bytes."""
    import io

    pq = pytest.importorskip("pyarrow.parquet")
    meta = pq.ParquetFile(io.BytesIO(data)).metadata
    return json.loads(meta.metadata[b"overflight.incomplete"]), meta.num_rows, meta.num_row_groups


@pytest.mark.parametrize("fmt", ["ndjson", "csv", "parquet"])
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
    if fmt == "parquet":  # a whole file, its footer holding the marker
        marker, rows, _groups = _parquet_marker(out)
        assert set(marker) == KEYS and marker["incomplete"] is True
        assert marker["rows_written"] == rows
        return
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


# Sends SIGINT to itself (the main process only, as ``timeout -s INT`` does) once the windows
# of the satellites done make more than one 50,000-row block.
_CTRL_C_AFTER_A_BLOCK = """
import os, signal, sys
import importlib
passes = importlib.import_module("overflight.passes")
tables = passes.PassPlan.tables
def interrupted(self, **kw):
    rows = 0
    for part in tables(self, **kw):
        rows += len(part)
        yield part
        if rows > 50_000:
            os.kill(os.getpid(), signal.SIGINT)
passes.PassPlan.tables = interrupted
from overflight.cli import main
main(sys.argv[1:])
"""


def test_ctrl_c_parquet_of_several_blocks(shared_data: Path, tmp_path: Path) -> None:
    """Ctrl-C during the computation, with more than one block of windows done: a whole Parquet
    file of those windows, the marker in its metadata, exit 130, one line. Without the
    geostationary satellite no window of the first block ends at the interval's end, so its
    ``end_clipped`` is all None there (this was ``ArrowInvalid: Invalid null value``, exit 1,
    and a file that read as whole)."""
    lines = (shared_data / "celestrak-2026-05-30" / "resource.tle").read_text().splitlines()
    kept = [lines[i:i + 3] for i in range(0, len(lines) - 2, 3)
            if float(lines[i + 2][52:63]) > 2.0]  # revolutions a day: not geostationary
    assert len(kept) > 150
    tle = tmp_path / "leo.tle"
    tle.write_text("\n".join(line for sat in kept for line in sat) + "\n")
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "OVERFLIGHT_MAX_JOB_S": "0"}
    out_path = tmp_path / "out.parquet"
    with out_path.open("wb") as out:
        proc = subprocess.run(
            [sys.executable, "-c", _CTRL_C_AFTER_A_BLOCK, "passes", "--tle", str(tle),
             "--all-sites", "--start", START, "--days", "4", "-f", "parquet"],
            stdout=out, stderr=subprocess.PIPE, env=env, timeout=60, check=False)
    err = proc.stderr.decode()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert sum(line.startswith("overflight: interrupted") for line in err.splitlines()) == 1
    assert err.splitlines()[-1].endswith("rows written (parquet output marked incomplete)")
    marker, rows, groups = _parquet_marker(out_path.read_bytes())
    assert set(marker) == KEYS and marker["incomplete"] is True
    assert marker["satellites_done"] < marker["satellites"] == len(kept)  # type: ignore[operator]
    assert marker["rows_written"] == marker["rows"] == rows > 50_000
    assert groups >= 2


def _sigint_ignored(pid: int) -> bool:
    """Whether process ``pid`` ignores SIGINT (``SigIgn`` of ``/proc/PID/status``)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    mask = next(int(line.split()[1], 16) for line in text.splitlines()
                if line.startswith("SigIgn:"))
    return bool(mask & (1 << (signal.SIGINT - 1)))


def test_ctrl_c_to_a_local_cluster_job_is_one_line(shared_data: Path) -> None:
    """SIGINT to the main process only (``timeout -s INT``) while a local Dask cluster's
    workers compute: its busy workers are killed at once, not waited on for 4 s, and Dask says
    nothing (it said ``distributed.nanny - WARNING - Worker process still alive after 4.0
    seconds, killing``); exit 130, one line, no process left."""
    pytest.importorskip("distributed")
    tle = shared_data / "celestrak-2026-05-30" / "resource.tle"
    proc = _job(["coverage", "--region", "korean-peninsula", "--tle", str(tle), "--start", START,
                 "--days", "1", "--grid-km", "1", "--workers", "2", "-f", "ndjson"])
    seen: set[int] = set()
    t0 = time.monotonic()
    # SIGINT is ignored while the cluster starts (cli._common.without_ctrl_c): wait until it is
    # handled again, then a second for the workers to take tasks.
    ignored = False
    while time.monotonic() - t0 < 30 and proc.poll() is None:
        seen |= descendants(proc.pid)
        now = _sigint_ignored(proc.pid)
        if ignored and not now:
            break
        ignored |= now
        time.sleep(0.02)
    time.sleep(1.0)
    seen |= descendants(proc.pid)
    assert proc.poll() is None
    os.kill(proc.pid, signal.SIGINT)
    t1 = time.monotonic()
    try:
        _out, err_bytes = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    teardown_s = time.monotonic() - t1
    err = err_bytes.decode()
    assert proc.returncode == 130, err
    assert "distributed" not in err and "Traceback" not in err and "leaked" not in err, err
    assert [line for line in err.splitlines() if not line.startswith("overflight: coverage:")
            ] == [err.splitlines()[-1]]
    assert err.splitlines()[-1].startswith("overflight: interrupted after")
    assert teardown_s < 3.5, teardown_s
    deadline = time.monotonic() + 3
    while any(alive(p) for p in seen) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [p for p in seen if alive(p)], "a worker outlived the job"
