"""Input limits and honest job estimates (issue 19): the time cap on every window job, the one
bound on ``max_age_days``, ``--scheduler`` addresses, and the exposure estimate."""

from __future__ import annotations

import importlib
import math
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from _cli import run
from overflight.access import Constraints
from overflight.errors import OverflightError
from overflight.freshness import MAX_AGE_DAYS, check_max_age_days
from overflight.workload import (
    LOCAL_CLUSTER_START_S,
    coverage_workload,
    exposure_workload,
    local_cluster_pays,
    windows_per_unit,
    windows_workload,
)

START = "2026-05-31T00:00Z"
coverage_mod = importlib.import_module("overflight.coverage")  # the package exports a function


def _resource(shared_data: Path) -> str:
    return str(shared_data / "celestrak-2026-05-30" / "resource.tle")


def _jobs(tle: str) -> dict[str, list[str]]:
    t = ["--tle", tle, "--start", START, "--days", "0.2"]
    return {
        "overflight windows": ["passes", *t, "--site", "Seoul", "-f", "csv"],
        "overflight windows ": ["watch", "Sohae", *t, "-f", "csv"],
        "exposure": ["exposure", "Sohae", *t, "-f", "json"],
        "coverage": ["coverage", "--region", "0,0,1,1", *t, "-f", "json"],
    }


# ---- the cap ---------------------------------------------------------------------------------
@pytest.mark.parametrize("what", ["overflight windows", "overflight windows ", "exposure",
                                  "coverage"])
def test_over_the_cap_is_refused_with_estimate_and_cap(
        shared_data: Path, what: str, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Every window command: one line with the estimate, the cap and how to lift it (exit 2,
    nothing on stdout); ``--no-limit`` runs the same job."""
    args = _jobs(_resource(shared_data))[what]
    monkeypatch.setenv("OVERFLIGHT_MAX_JOB_S", "0.3")  # below every job's start-up
    code, out, err = run(args, capsys)
    assert code == 2 and out == "", err
    (line,) = [ln for ln in err.strip().splitlines() if "warning" not in ln and "note:" not in ln]
    assert line.startswith(f"overflight: error: {what.strip()}: "), line
    assert ": about " in line and "above the 0.3 s cap" in line
    assert line.endswith("lift the cap with --no-limit or OVERFLIGHT_MAX_JOB_S=SECONDS (0: none)")
    code, out, err = run([*args, "--no-limit"], capsys)
    assert code == 0 and out, err


@pytest.mark.parametrize("command", [
    ["passes", "--area", "Najin port", "--area-mode", "all", "-f", "json"],
    ["passes", "--area", "Yongbyon", "--imaging", "-f", "csv"],
    ["passes", "--area", "Yongbyon", "--site", "Seoul", "-f", "table"],
    ["watch", "--area", "Yongbyon", "-f", "csv"],
    ["watch", "--area", "Yongbyon", "-f", "geojson"],
])
def test_area_job_over_the_cap_is_refused_with_estimate(
        shared_data: Path, command: list[str], capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """An area job is one job like any other: its estimate counts the area's sample points
    as sites (and the sites given too), and above the cap it is one line, exit 2, nothing on
    stdout, before any window is searched; ``--no-limit`` runs it."""
    from overflight.areas import resolve_area, sample_area

    points = sum(len(sample_area(resolve_area(command[i + 1])))
                 for i, a in enumerate(command) if a == "--area")
    sites = points + command.count("--site")
    args = [*command, "--tle", _resource(shared_data), "--start", START, "--days", "0.2"]
    monkeypatch.setenv("OVERFLIGHT_MAX_JOB_S", "0.001")
    code, out, err = run(args, capsys)
    assert code == 2 and out == "", err
    (line,) = [ln for ln in err.strip().splitlines() if "warning" not in ln and "note:" not in ln
               and "left out" not in ln]
    assert line.startswith("overflight: error: overflight windows: "), line
    assert f" satellites × {sites:,} sites × " in line and " s cap; " in line
    assert line.endswith("lift the cap with --no-limit or OVERFLIGHT_MAX_JOB_S=SECONDS (0: none)")
    code, out, err = run([*args, "--no-limit"], capsys)
    assert code == 0 and out, err


def test_area_estimate_is_said_for_long_area_jobs(
        shared_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Past 2 s the estimate of an area job is said on stderr, with its sample points."""
    from overflight.areas import resolve_area, sample_area

    n = len(sample_area(resolve_area("Yongbyon")))
    code, out, err = run(["passes", "--area", "Yongbyon", "--tle", _resource(shared_data),
                          "--start", START, "--days", "3", "-f", "csv"], capsys)
    assert code == 0 and out.startswith("norad_id,"), err
    said = [ln for ln in err.splitlines() if ln.startswith("overflight: overflight windows: ")]
    assert len(said) == 1 and f" × {n:,} sites × 3 days" in said[0], err


def test_cap_message_is_the_same_for_the_library() -> None:
    from overflight.workload import JobTooLarge, check_workload

    work = exposure_workload(200, 1, 365.0, Constraints())
    with pytest.raises(JobTooLarge) as err:
        check_workload(work, limit_s=10.0)
    text = str(err.value)
    assert text.startswith("exposure: 200 satellites × 1 sites × 365 days")
    assert "above the 10 s cap" in text and "no_limit=True or OVERFLIGHT_MAX_JOB_S" in text


# ---- max_age_days ----------------------------------------------------------------------------
BAD_AGES = [math.nan, -1.0, 0.0, math.inf, -math.inf, MAX_AGE_DAYS + 0.5, 1e308]


@pytest.mark.parametrize("value", BAD_AGES)
def test_max_age_days_bound_in_the_library(value: float) -> None:
    with pytest.raises(OverflightError) as err:
        check_max_age_days(value)
    assert str(err.value).startswith("max_age_days: must be a finite number in (0, 366]")
    assert "\n" not in str(err.value)


def test_max_age_days_accepted_up_to_the_bound(shared_data: Path) -> None:
    from overflight.passes import PassesError, plan_passes

    assert check_max_age_days(MAX_AGE_DAYS) == 366.0 and check_max_age_days(1e-3) == 1e-3
    tle = _resource(shared_data)
    plan = plan_passes(files=[tle], sites=["Seoul"], start=START, days=0.1,
                       max_age_days=MAX_AGE_DAYS)
    assert plan.max_age_days == MAX_AGE_DAYS
    with pytest.raises(PassesError, match="max_age_days"):
        plan_passes(files=[tle], sites=["Seoul"], start=START, days=0.1, max_age_days=367)


def test_max_age_days_bound_in_library_calls(shared_data: Path) -> None:
    import overflight as ovf
    from overflight.selection import select_elements

    sats = select_elements([], [], [Path(_resource(shared_data))])[:3]
    with pytest.raises(OverflightError, match="max_age_days"):
        ovf.passes(sats, "Seoul", start=START, days=0.1, max_age_days=math.nan)
    with pytest.raises(OverflightError, match="max_age_days"):
        ovf.exposure(sats, "Seoul", start=START, days=0.1, max_age_days=400.0)
    with pytest.raises(coverage_mod.CoverageError, match="max_age_days"):
        ovf.coverage(sats, "0,0,1,1", start=START, days=0.1, max_age_days=-1.0)


@pytest.mark.parametrize("command", ["passes", "exposure", "coverage"])
@pytest.mark.parametrize("value", ["nan", "0", "-3", "inf", "367"])
def test_max_age_days_bound_in_the_cli(command: str, value: str,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    args = {"passes": ["passes", "--group", "resource", "--site", "Seoul"],
            "exposure": ["exposure", "Sohae"],
            "coverage": ["coverage", "--region", "0,0,1,1"]}[command]
    code, out, err = run([*args, "--start", START, "--max-age-days", value], capsys)
    assert code == 2 and out == ""
    assert err.strip() == (f"overflight: error: --max-age-days: must be a finite number in "
                           f"(0, 366], got {float(value)!r}")


@pytest.mark.parametrize("value", ["nan", "0", "-3", "400", "36525"])
def test_max_age_days_bound_in_the_server(value: str) -> None:
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from overflight.server import create_app

    with TestClient(create_app(), raise_server_exceptions=False) as client:
        for url in (f"/api/passes?sat=58400&site=Rome&max_age_days={value}",
                    f"/api/exposure?target=Sohae&max_age_days={value}"):
            resp = client.get(url)
            assert resp.status_code == 422, resp.text
            assert "max_age_days" in resp.json()["error"]
        ok = client.get("/api/passes?sat=58400&site=Rome&start=2024-06-09T00:00Z&days=0.1"
                        f"&max_age_days={MAX_AGE_DAYS:g}")
        assert ok.status_code == 200, ok.text


# ---- --scheduler -----------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["local", "tcp://127.0.0.1:8786", "tcp://dask.example:1",
                                  "tls://10.0.0.5:65535", "tcp://[::1]:8786"])
def test_scheduler_addresses_accepted(text: str) -> None:
    assert coverage_mod.scheduler_address(text) == text


@pytest.mark.parametrize("text", ["", "tcp://", "tcp://host", "tcp://host:0",
                                  "tcp://host:65536", "tcp://host:http", "http://host:8786",
                                  "host:8786", "127.0.0.1:8786", "tcp://host:8786/path",
                                  "tcp://user@host:8786", "inproc://x", "Local"])
def test_scheduler_addresses_refused(text: str) -> None:
    with pytest.raises(coverage_mod.CoverageError) as err:
        coverage_mod.scheduler_address(text)
    msg = str(err.value)
    assert msg.startswith(f"scheduler {text!r}: ") and "\n" not in msg
    assert msg.endswith("give local, tcp://HOST:PORT or tls://HOST:PORT")


@pytest.mark.parametrize("command", [["passes", "--group", "resource", "--site", "Seoul"],
                                     ["exposure", "Sohae"],
                                     ["coverage", "--region", "0,0,1,1"]])
def test_bad_scheduler_address_in_the_cli(command: list[str],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run([*command, "--start", START, "--scheduler", "tcp://host:99999"],
                         capsys)
    assert code == 2 and out == ""
    assert err.strip() == ("overflight: error: --scheduler 'tcp://host:99999': port must be "
                           "1-65535; give local, tcp://HOST:PORT or tls://HOST:PORT")


@pytest.fixture
def listener() -> Iterator[str]:
    """A plain TCP listener on 127.0.0.1 that accepts connections and never says a word."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            held.append(conn)

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"tcp://127.0.0.1:{server.getsockname()[1]}"
    finally:
        server.close()
        for conn in held:
            conn.close()


@pytest.mark.parametrize("command", [["passes", "--site", "Seoul", "-f", "csv"],
                                     ["coverage", "--region", "0,0,1,1", "-f", "json"]])
def test_a_listener_that_is_not_a_scheduler(shared_data: Path, listener: str,
                                            command: list[str], capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Something listens but is not a Dask scheduler: one line, exit 2, within the timeout
    (``distributed.Client`` alone waited for ever)."""
    pytest.importorskip("distributed")
    monkeypatch.setattr(coverage_mod, "SCHEDULER_TIMEOUT_S", 2.0)
    args = [*command, "--tle", _resource(shared_data), "--start", START, "--days", "0.05",
            "--scheduler", listener]
    t0 = time.monotonic()
    code, out, err = run(args, capsys)
    assert time.monotonic() - t0 < 10.0
    assert code == 2 and out == ""
    lines = [ln for ln in err.strip().splitlines() if "warning" not in ln and "note:" not in ln]
    assert lines == [f"overflight: error: no answer from a Dask scheduler at {listener} "
                     "within 2 s (is it a Dask scheduler?)"], err
    assert "Traceback" not in err


def test_scheduler_timeout_constant() -> None:
    assert coverage_mod.SCHEDULER_TIMEOUT_S == 10.0


# ---- estimates -------------------------------------------------------------------------------
def test_exposure_estimate(shared_data: Path) -> None:
    """``exposure`` is estimated as an exposure (its own start-up and merge cost), with each
    imager's own reach: fewer windows than one horizon cone would give, and within a factor of
    two of the windows the engine finds."""
    from overflight.passes import plan_passes

    plan = plan_passes(files=[_resource(shared_data)], sites=["Sohae"], start=START, days=2,
                       constraints=Constraints(), imaging=True)
    work = plan.workload(job="exposure")
    assert work.what == "exposure" and work.describe().startswith("exposure: ")
    assert work.satellites == len(plan.elsets) and work.sites == 1 and work.days == 2
    assert work.items_per_unit < 0.5 * windows_per_unit(Constraints())
    found = len(plan.table())
    assert found / 2 <= work.items <= found * 2
    passes = plan.workload()
    assert passes.what == "overflight windows" and passes.items == work.items


def test_exposure_estimate_over_the_cap_names_exposure(
        shared_data: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OVERFLIGHT_MAX_JOB_S", "0.5")
    code, _, err = run(["exposure", "Sohae", "--tle", _resource(shared_data), "--start", START,
                        "--days", "3"], capsys)
    assert code == 2 and "error: exposure: " in err and "× 1 sites × 3 days" in err


def test_start_up_terms() -> None:
    """Each job kind costs its measured start-up even when it finds nothing."""
    assert 0.5 < windows_workload(1, 1, 0.0).estimate_s < 1.5
    assert 0.5 < exposure_workload(1, 1, 0.0).estimate_s < 1.5
    assert 0.8 < coverage_workload(1, 1, 0.0).estimate_s < 2.5
    cluster = coverage_workload(1, 1, 0.0, local_cluster=True).estimate_s
    assert cluster == pytest.approx(coverage_workload(1, 1, 0.0).estimate_s
                                    + LOCAL_CLUSTER_START_S)


def test_local_cluster_only_when_it_pays() -> None:
    """A local cluster when the saving is at least twice its start-up, never on one core."""
    c = Constraints(max_off_nadir_deg=30.0)
    small = coverage_workload(167, 2_239, 1.0, c, method="field")
    large = coverage_workload(167, 56_000, 1.0, c, method="field")
    assert not local_cluster_pays(small, 2) and local_cluster_pays(large, 2)
    assert not local_cluster_pays(large, 1)

    def saving(w: Any) -> float:
        from dataclasses import replace

        return float(replace(w, cores=1).estimate_s - replace(w, cores=2).estimate_s)

    assert saving(small) < 2 * LOCAL_CLUSTER_START_S <= saving(large)


# ---- estimates over the usable spans ----------------------------------------------------------
def test_estimate_counts_the_usable_days(shared_data: Path, capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """30 days from a 2026-05-30 snapshot: windows are refused past each element set's 14th
    day, and the search stops a day after that, so the job is estimated at about 13.5 days and
    a cap it would exceed only over the whole interval does not refuse it."""
    from dataclasses import replace

    from overflight.passes import plan_passes
    from overflight.workload import check_workload

    plan = plan_passes(files=[_resource(shared_data)], sites=["Seoul"], start=START, days=30,
                       constraints=Constraints(max_off_nadir_deg=30.0))
    work = plan.workload(cores=1)
    assert 13.0 < work.days < 14.5 and plan.usable_days == work.days
    assert "× 13.5 days" in work.describe()
    whole = replace(work, days=30.0)
    cap = (work.estimate_s + whole.estimate_s) / 2
    assert check_workload(work, limit_s=cap) is work
    with pytest.raises(OverflightError, match="above the"):
        check_workload(whole, limit_s=cap)
    monkeypatch.setenv("OVERFLIGHT_MAX_JOB_S", f"{cap:.3f}")
    code, out, err = run(["passes", "--tle", _resource(shared_data), "--site", "Seoul",
                          "--start", START, "--days", "30", "--max-off-nadir", "30", "-f",
                          "csv"], capsys)
    assert code == 0 and out, err
    fresh = plan_passes(files=[_resource(shared_data)], sites=["Seoul"], start=START, days=1)
    assert fresh.usable_days == 1.0  # nothing refused: the interval


def test_search_stopped_past_the_span_gives_the_same_windows(
        shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Stopping each short-period satellite's search a day past its usable span finds the
    windows of the whole interval's search, every field the same."""
    from overflight.passes import plan_passes

    passes_mod = importlib.import_module("overflight.passes")  # the package exports a function
    plan = plan_passes(files=[_resource(shared_data)], sites=["Seoul", "Sohae"], start=START,
                       days=20, constraints=Constraints(min_elevation_deg=10.0))
    stopped = [w.to_dict() for w in plan.windows()]
    monkeypatch.setattr(passes_mod, "SHORT_PERIOD_MIN", 0.0)  # every search: whole interval
    whole = [w.to_dict() for w in plan.windows()]
    assert stopped == whole and len(stopped) > 1000
