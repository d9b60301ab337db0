"""Long jobs: estimates before they start, the time cap, and a clean Ctrl-C (issue 19)."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from _cli import run
from _support import alive, descendants
from overflight.access import Constraints
from overflight.errors import OverflightError
from overflight.export import incomplete_marker
from overflight.workload import (
    DEFAULT_MAX_JOB_S,
    JobTooLarge,
    check_workload,
    cone_deg,
    max_job_s,
    windows_workload,
)

REPO = Path(__file__).resolve().parents[1]
START = "2026-05-31T00:00Z"


def _resource(shared_data: Path) -> Path:
    return shared_data / "celestrak-2026-05-30" / "resource.tle"


def test_cone_matches_hand_geometry() -> None:
    # Horizon at 550 km: central angle acos(R / (R + h)); 30° off-nadir: the law of sines
    # gives the elevation, cos(el) = sin(30°) (R + h) / R, and the angle 90° − 30° − el.
    r, a = 6371.0088, 6921.0088
    assert cone_deg(Constraints(min_elevation_deg=0.0)) == pytest.approx(
        math.degrees(math.acos(r / a)), abs=1e-9)
    el = math.degrees(math.acos(0.5 * a / r))
    assert cone_deg(Constraints(max_off_nadir_deg=30.0)) == pytest.approx(90 - 30 - el, abs=1e-9)
    # The tightest constraint wins.
    assert cone_deg(Constraints(min_elevation_deg=60.0, max_off_nadir_deg=45.0)) == pytest.approx(
        cone_deg(Constraints(min_elevation_deg=60.0)))


@pytest.mark.parametrize("elevation", [0.0, 30.0, 60.0])
def test_window_estimate_within_a_factor_of_two(shared_data: Path, elevation: float) -> None:
    """The estimated window count against the engine's own count on a real job."""
    from overflight.passes import plan_passes

    c = Constraints(min_elevation_deg=elevation)
    plan = plan_passes(files=[_resource(shared_data)], sites=["Seoul", "Rajin port", "0,0"],
                       start=START, days=1, constraints=c)
    found = len(plan.table())
    work = plan.workload()
    assert work.units == len(plan.elsets) * 3
    assert found / 2 <= work.items <= found * 2


def test_cap_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OVERFLIGHT_MAX_JOB_S", raising=False)
    assert max_job_s() == DEFAULT_MAX_JOB_S
    monkeypatch.setenv("OVERFLIGHT_MAX_JOB_S", "0")
    assert max_job_s() == math.inf
    monkeypatch.setenv("OVERFLIGHT_MAX_JOB_S", "90")
    assert max_job_s() == 90.0
    monkeypatch.setenv("OVERFLIGHT_MAX_JOB_S", "soon")
    with pytest.raises(OverflightError, match="OVERFLIGHT_MAX_JOB_S"):
        max_job_s()


def test_check_workload_names_estimate_and_cap() -> None:
    work = windows_workload(10_000, 100, 30, Constraints())
    with pytest.raises(JobTooLarge) as err:
        check_workload(work, limit_s=600)
    text = str(err.value)
    assert "10,000 satellites × 100 sites × 30 days" in text and "10 min cap" in text
    assert "\n" not in text
    assert check_workload(windows_workload(1, 1, 1), limit_s=600).estimate_s < 1


def test_cli_refuses_over_the_cap(shared_data: Path, capsys: pytest.CaptureFixture[str],
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OVERFLIGHT_MAX_JOB_S", "0.5")  # below the fixed start-up cost
    args = ["passes", "--tle", str(_resource(shared_data)), "--site", "Seoul", "--start", START,
            "--days", "1", "--min-elevation", "60", "-f", "csv"]
    code, out, err = run(args, capsys)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("overflight: error: overflight windows: ")
    assert "satellites × 1 sites × 1 day" in lines[0] and "about" in lines[0]
    assert ("cap; narrow the job, or lift the cap with --no-limit or OVERFLIGHT_MAX_JOB_S="
            in lines[0])
    code, out, _ = run([*args, "--no-limit"], capsys)
    assert code == 0 and out.startswith("norad_id,")
    code, _, err = run(["coverage", "--region", "0,0,1,1", "--tle", str(_resource(shared_data)),
                        "--start", START, "--days", "1"], capsys)
    assert code == 2 and "coverage: " in err and "grid points" in err and "--no-limit" in err


def test_incomplete_markers() -> None:
    line = incomplete_marker("ndjson", satellites_done=3, satellites=10)
    assert json.loads(line) == {"incomplete": True, "satellites_done": 3, "satellites": 10}
    assert line.endswith(b"\n")
    assert incomplete_marker("csv", satellites_done=3, satellites=10) == b"# " + line
    assert incomplete_marker("json") == incomplete_marker("parquet") == b""



def _interrupted_passes(args: list[str]) -> tuple[int, bytes, bytes, set[int]]:
    """Run ``overflight passes ARGS`` (no job cap), send Ctrl-C to its process group once
    its workers are running (or after 20 s), and return (exit status, stdout, stderr, the
    child process ids seen)."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "OVERFLIGHT_MAX_JOB_S": "0"}
    proc = subprocess.Popen([sys.executable, "-m", "overflight", "passes", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            start_new_session=True)
    try:
        t0 = time.monotonic()
        seen: set[int] = set()
        # Wait for the forked batch workers (or 20 s on a machine with one CPU).
        while time.monotonic() - t0 < 20 and proc.poll() is None:
            seen.update(descendants(proc.pid))
            if seen:
                break
            time.sleep(0.1)
        time.sleep(0.5)
        seen.update(descendants(proc.pid))
        assert proc.poll() is None, "the job ended before it could be interrupted"
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return proc.returncode, out, err, seen


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("fmt", ["ndjson", "json"])
def test_ctrl_c_ends_workers_and_marks_output(shared_data: Path, fmt: str) -> None:
    """Ctrl-C (SIGINT to the process group, as a terminal sends it) in the middle of a real
    `overflight passes`: exit 130, one line, no worker left, no leaked semaphore, output marked
    incomplete (NDJSON last line) or closed (JSON array)."""
    code, out, err, seen = _interrupted_passes(
        ["--tle", str(_resource(shared_data)), "--all-sites", "--start", START, "--days", "6",
         "-f", fmt])
    text = err.decode()
    assert code == 130, text
    assert "leaked" not in text and "Traceback" not in text, text
    last = text.strip().splitlines()[-1]
    assert last.startswith("overflight: interrupted") and "incomplete" in last.lower()
    deadline = time.monotonic() + 5
    while any(alive(p) for p in seen) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [p for p in seen if alive(p)]
    if fmt == "ndjson":
        marker = json.loads(out.decode().splitlines()[-1])
        assert marker["incomplete"] is True and marker["satellites"] > marker["satellites_done"]
    else:
        rows = json.loads(out)  # the array is closed
        assert isinstance(rows, list)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_ctrl_c_in_an_area_job_marks_its_output(shared_data: Path) -> None:
    """Ctrl-C in `passes --area`: exit 130, one line, no worker left, and the area windows of
    the satellites done written as NDJSON with the marker as its last line."""
    code, out, err, seen = _interrupted_passes(
        ["--tle", str(_resource(shared_data)), "--area", "Najin port", "--start", START,
         "--days", "6", "-f", "ndjson"])
    text = err.decode()
    assert code == 130, text
    assert "Traceback" not in text, text
    last = text.strip().splitlines()[-1]
    assert last.startswith("overflight: interrupted after ") and "incomplete" in last, last
    deadline = time.monotonic() + 5
    while any(alive(p) for p in seen) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [p for p in seen if alive(p)]
    *rows, marker_line = out.decode().splitlines()
    marker = json.loads(marker_line)
    assert marker["incomplete"] is True and marker["satellites"] > marker["satellites_done"]
    assert marker["rows_written"] == len(rows)
    assert all(json.loads(r)["site"] == "Najin port" for r in rows)


def test_grid_coverage_estimate_uses_the_field_rate() -> None:
    """A region's grid is covered by the field method (~2 µs a window, docs/benchmarks.md):
    the 1-km Korean grid × the resource group × 1 day (about 54 CPU s measured) must not be
    estimated as if every point were searched alone (22 µs a window: ~10 min)."""
    from overflight.access import Constraints
    from overflight.workload import coverage_workload

    c = Constraints(max_off_nadir_deg=30.0)
    field = coverage_workload(167, 224_510, 1.0, c, method="field")
    points = coverage_workload(167, 224_510, 1.0, c)
    assert 30.0 < field.cpu_s < 200.0 and points.cpu_s > 5.0 * field.cpu_s
