"""`overflight passes/watch/where/track/demo` from the command line: outputs and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from _cli import run

KEYS = {
    "norad_id", "name", "site", "site_lat_deg", "site_lon_deg", "start", "peak", "end",
    "max_elevation_deg", "min_off_nadir_deg", "min_range_km", "sun_elevation_deg",
    "satellite_sunlit", "direction", "gsd_m",
}


def test_passes_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["passes", "--sat", "40115", "--site", "Rajin port", "--start",
                        "2026-05-31T00:00Z", "--days", "2", "--min-elevation", "20",
                        "-f", "json"], capsys)
    assert code == 0
    rows = json.loads(out)
    assert rows and set(rows[0]) >= KEYS
    assert rows[0]["start"].endswith("Z") and rows[0]["gsd_m"] is not None
    assert all(r["max_elevation_deg"] >= 20 for r in rows)


def test_passes_csv_and_ics(capsys: pytest.CaptureFixture[str]) -> None:
    base = ["passes", "--group", "military", "--site", "Seoul", "--start", "2026-05-31T00:00Z",
            "--days", "1", "--min-elevation", "30"]
    code, out, _ = run([*base, "-f", "csv"], capsys)
    assert code == 0 and out.splitlines()[0].startswith("norad_id,name,site")
    code, out, _ = run([*base, "-f", "ics"], capsys)
    assert code == 0 and out.startswith("BEGIN:VCALENDAR") and "BEGIN:VEVENT" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--site", "Atlantis"], "unknown site"),
        (["--site", "Seoul", "--sat", "NO SUCH SAT"], "no satellite matching"),
        (["--site", "Seoul", "--start", "2026-06-02T00:00Z", "--end", "2026-06-01T00:00Z"],
         "not before"),
        (["--site", "Seoul", "--days", "400"], "longer than 366 days"),
        (["--site", "Seoul", "--sun-min", "20", "--sun-max", "10"], "empty"),
        (["--site", "Seoul", "--min-elevation", "95"], "elevation"),
        (["--site", "Seoul", "--start", "tomorrow"], "not an ISO 8601 time"),
        (["--site", "Seoul", "--start", "2060-01-01T00:00Z"], "outside 1900-01-01..2053-10-01"),
        (["--site", "Seoul", "--days", "inf"], "days: must be a positive finite number"),
        (["--site", "Seoul", "--days", "nan"], "days: must be a positive finite number"),
        (["--site", "Seoul", "--days", "1e9"], "days: 1e+09 is longer than 366 days"),
        (["--site", "Seoul", "--days", "-1"], "days: must be a positive"),
        (["--site", "Seoul", "--days", "1", "--end", "2026-06-01T00:00Z"], "not both"),
        (["--site", "Seoul", "--end", "2027-07-01T00:00Z"], "end: the interval of"),
        (["--site", "Seoul", "--end", "2026-06-01T00:00"], "end: time"),
        (["--sites", "/dev/null/none.csv"], "none.csv"),
        ([], "--site: give at least one site"),
    ],
)
def test_passes_bad_input(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    full = ["passes", "--sat", "40115", "--start", "2026-05-31T00:00Z", *args]
    if "--days" not in args and "--end" not in args:
        full += ["--days", "1"]
    if args.count("--start") and full.count("--start") > 1:
        i = full.index("--start")
        del full[i : i + 2]
    code, _, err = run(full, capsys)
    assert code == 2
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize("days", ["inf", "nan", "1e9", "0"])
def test_watch_and_coverage_reject_bad_days(days: str, capsys: pytest.CaptureFixture[str]) -> None:
    for args in (["watch", "Najin", "--group", "military"],
                 ["coverage", "--region", "tumen", "--sat", "40115"]):
        code, out, err = run([*args, "--start", "2026-05-31T00:00Z", "--days", days], capsys)
        assert code == 2 and out == ""
        assert err.startswith("overflight: error: --days: ") and err.count("\n") == 1


def test_stale_element_sets_warn_once(capsys: pytest.CaptureFixture[str]) -> None:
    # WorldView-3's bundled set is from 2026-05-30: 8-9 days old, warned about, not refused.
    code, _, err = run(["passes", "--sat", "40115", "--site", "Seoul", "--start",
                        "2026-06-07T00:00Z", "--days", "1", "-f", "json"], capsys)
    assert code == 0
    lines = [x for x in err.splitlines() if "days from the requested times" in x]
    assert len(lines) == 1 and lines[0].startswith("overflight: warning: element sets are up to")
    assert "overflight catalog import" in lines[0]
    # Malligyong-1's sets are from 2024: refused, and said so (not counted in the age warning).
    code, _, err = run(["passes", "--sat", "58400", "--sat", "40115", "--site", "Seoul", "--start",
                        "2026-05-31T00:00Z", "--days", "1", "-f", "json"], capsys)
    assert code == 0 and "days from the requested times" not in err
    assert "MALLIGYONG-1 (58400): stale" in err
    # Alone, nothing is usable: one line, exit 2 (tests/test_freshness.py).
    code, _, err = run(["passes", "--sat", "58400", "--site", "Seoul", "--start",
                        "2026-05-31T00:00Z", "--days", "1", "-f", "json"], capsys)
    assert code == 2 and err.startswith("overflight: error: the element set of MALLIGYONG-1")


def test_malformed_sites_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "mine.csv"
    bad.write_text("name,lat_deg,lon_deg\nX,10,\n")
    code, _, err = run(["passes", "--sat", "40115", "--sites", str(bad), "--start",
                        "2026-05-31T00:00Z"], capsys)
    assert code == 2 and "mine.csv:2" in err and "lon_deg" in err


def test_watch_ics_and_png(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["watch", "Najin", "--group", "military", "--start", "2026-05-31T00:00Z",
                        "-f", "ics"], capsys)
    assert code == 0 and out.count("BEGIN:VEVENT") >= 1
    png = tmp_path / "w.png"
    code, out, _ = run(["watch", "Najin", "--group", "military", "--start", "2026-05-31T00:00Z",
                        "-f", "png", "-o", str(png)], capsys)
    assert code == 0 and png.read_bytes()[:4] == b"\x89PNG"


def test_where_and_track(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["where", "58400", "--at", "2024-06-09T12:00Z", "-f", "json"], capsys)
    info = json.loads(out)
    assert code == 0 and 400 < info["alt_km"] < 650 and info["over"]
    png = tmp_path / "t.png"
    code, out, _ = run(["track", "MALLIGYONG-1", "--start", "2024-06-09T12:00Z", "--step", "120",
                        "-f", "geojson", "--plot", str(png)], capsys)
    gj = json.loads(out)
    assert code == 0 and gj["features"][0]["geometry"]["type"] == "MultiLineString"
    assert png.exists()


def test_where_and_track_warn_on_old_element_sets(capsys: pytest.CaptureFixture[str]) -> None:
    """Positions from an element set more than a week away still come (within --max-age-days)
    but with passes' stale-data warning on stderr; none for a fresh one."""
    code, _, err = run(["where", "58400", "--at", "2023-11-27T14:36Z", "--max-age-days", "300",
                        "-f", "json"], capsys)
    assert code == 0 and "warning: element sets are up to 193 days" in err
    code, _, err = run(["track", "58400", "--start", "2024-05-20T00:00Z", "--max-age-days", "30",
                        "-f", "csv"], capsys)
    assert code == 0 and "warning: element sets are up to" in err
    code, _, err = run(["where", "58400", "--at", "2024-06-09T12:00Z", "-f", "json"], capsys)
    assert code == 0 and "warning" not in err


def test_help_lists_commands_fast() -> None:
    out = subprocess.run([sys.executable, "-m", "overflight", "--help"], capture_output=True,
                         text=True, check=True).stdout
    for cmd in ("catalog", "passes", "watch", "where", "track", "demo", "sites"):
        assert cmd in out
    # Heavy libraries stay out of start-up.
    probe = ("import sys, overflight.cli; "
             "print(any(m in sys.modules for m in ('skyfield', 'matplotlib', 'sgp4.api')))")
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True).stdout.strip() == "False"


def test_demo_runs(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["demo", "--hours", "3"], capsys)
    assert code == 0 and "Overflight report" in out and "Rajin port" in out


def test_selection_errors_name_the_options(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["passes", "--site", "Seoul", "--start", "2026-05-31T00:00Z"], capsys)
    assert code == 2 and err.count("\n") == 1
    assert "give --sat, --group or --tle" in err


def test_command_help_paragraphs_are_one_line_each() -> None:
    """Docstring help is reflowed (rich keeps source newlines, which broke sentences
    mid-line in `overflight --help`): within a paragraph no newline is left, lists stay."""
    from overflight.cli import _reflow, app

    assert _reflow("A first\n    sentence.\n\n    - one\n    - two\n") == \
        "A first sentence.\n\n- one\n- two"
    for info in app.registered_commands:
        first = (info.help or "").split("\n\n")[0]
        assert "\n" not in first, (info.name, first)


@pytest.mark.parametrize("cmd", [
    ["where", "MALLIGYONG", "--at", "2024-06-09T12:00Z", "-f", "json"],
    ["passes", "--sat", "MALLIGYONG", "--site", "Rome", "--start", "2024-06-09T00:00Z",
     "--days", "1", "-f", "csv"],
    ["verify", "--sat", "MALLIGYONG", "--site", "Rome", "--time", "2024-06-09T12:00Z",
     "-f", "json"],
])
def test_a_satellite_taken_by_part_of_its_name_is_said(
        cmd: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """As sites taken by an alias or prefix get a note, a satellite reference that matched
    only part of one name gets a warning line naming what it was taken as; an exact name or
    id gets none."""
    code, _, err = run(cmd, capsys)
    assert code == 0
    assert '"MALLIGYONG" is taken as MALLIGYONG-1 (58400)' in err
    exact = [("58400" if a == "MALLIGYONG" else a) for a in cmd]
    code, _, err = run(exact, capsys)
    assert code == 0 and "is taken as" not in err
