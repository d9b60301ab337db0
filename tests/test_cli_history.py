"""`overflight history / maneuvers / decay` from the command line: outputs and one-line errors."""

from __future__ import annotations

import csv
import gzip
import io
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from _cli import run
from _maneuver_synth import malligyong_february
from overflight.catalog.formats import write_elements

MANEUVER_KEYS = {"norad_id", "name", "before_epoch", "after_epoch", "estimated_time",
                 "time_uncertainty_s", "delta_a_km", "delta_perigee_km", "delta_apogee_km",
                 "delta_inclination_deg", "delta_v_m_s", "kind"}


@pytest.fixture(scope="module")
def february_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic Malligyong-1 February 2024 history as a gzip TLE file (TLE precision)."""
    sets, _, _ = malligyong_february()
    path = tmp_path_factory.mktemp("hist") / "malligyong-feb-2024.tle.gz"
    path.write_bytes(gzip.compress(write_elements(sets, "tle").encode()))
    return path


def test_history_of_bundled_malligyong(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    png = tmp_path / "h.png"
    code, out, err = run(["history", "58400", "-f", "json", "--plot", str(png)], capsys)
    assert code == 0, err
    doc = json.loads(out)
    assert doc["norad_id"] == 58400 and doc["element_sets"] == 3
    rows = doc["history"]
    assert rows[0]["epoch"].startswith("2024-06-07") and rows[0]["ltan_hours"] is not None
    assert 480 < rows[0]["perigee_alt_km"] < rows[0]["apogee_alt_km"] < 530
    assert {"semi_major_axis_km", "inclination_deg", "raan_deg", "arg_perigee_deg",
            "mean_motion_rev_day", "mean_motion_dot_rev_day2", "bstar"} <= set(rows[0])
    assert "maneuvers" in doc and "decay" in doc
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_history_table_and_csv(shared_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = shared_data / "celestrak-history-2026-05-24-to-30" / "resource.tle"
    code, out, _ = run(["history", "WORLDVIEW-1", "--tle-history", str(path)], capsys)
    assert code == 0 and "Maneuvers" in out and "Decay (estimate)" in out
    code, out, _ = run(["history", "32060", "--tle-history", str(path), "-f", "csv",
                        "--since", "2026-05-27T00:00Z", "--until", "2026-05-28T00:00Z"], capsys)
    lines = out.splitlines()
    assert code == 0 and lines[0].startswith("norad_id,name,epoch,semi_major_axis_km")
    assert all(ln.split(",")[2].startswith("2026-05-27") for ln in lines[1:]) and len(lines) > 2


def test_maneuvers_json_from_file(shared_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = shared_data / "celestrak-history-2026-05-24-to-30" / "resource.tle"
    code, out, err = run(["maneuvers", "--tle-history", str(path), "-f", "json"], capsys)
    assert code == 0
    doc = json.loads(out)
    rows = doc["maneuvers"]
    assert doc["objects"] == 167 and doc["status"] in ("ok", "not-enough-history", "data-gap")
    assert sum(doc["status_counts"].values()) == 167
    assert len(doc["objects_not_ok"]) == 167 - doc["status_counts"]["ok"]
    assert rows and all(set(r) >= MANEUVER_KEYS for r in rows)
    assert any(r["norad_id"] == 32060 and r["kind"] == "raise" for r in rows)
    assert "maneuvers in" in err and "167 objects" in err


def test_maneuvers_with_station_reproduces_the_february_analysis(
    february_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["maneuvers", "--tle-history", str(february_file), "--station",
                        "Pyongyang General Satellite Control Center", "-f", "json"], capsys)
    assert code == 0
    doc = json.loads(out)
    rows = doc["maneuvers"]
    assert doc["status"] == "ok" and doc["data_gaps"] == []
    assert len(rows) == 5 and all(r["kind"] == "raise" for r in rows)
    assert all(r["passes"] and r["pass_within_uncertainty"] for r in rows)
    assert sum(r["delta_perigee_km"] for r in rows) == pytest.approx(9.0, abs=2.0)
    code, out, _ = run(["maneuvers", "--tle-history", str(february_file), "--station",
                        "39.0425,125.71", "-f", "csv"], capsys)
    assert code == 0
    header = out.splitlines()[0].split(",")
    assert header[:3] == ["norad_id", "name", "before_epoch"] and "passes" in header
    code, out, _ = run(["maneuvers", "--tle-history", str(february_file), "--station",
                        "gscc"], capsys)
    assert code == 0 and "pass over" in out


def test_maneuvers_from_catalog_group(
    february_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "c.db"
    code, _, err = run(["catalog", "import", str(february_file), "--group", "feb",
                        "--db", str(db), "--no-snapshot"], capsys)
    assert code == 0, err
    code, out, _ = run(["maneuvers", "--group", "feb", "--db", str(db), "-f", "json"], capsys)
    assert code == 0 and len(json.loads(out)["maneuvers"]) == 5
    code, out, _ = run(["maneuvers", "--sat", "58400", "--db", str(db), "--since",
                        "2024-02-21T00:00Z", "-f", "json"], capsys)
    assert code == 0 and len(json.loads(out)["maneuvers"]) == 3


def test_decay_command(shared_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = shared_data / "celestrak-history-2026-05-24-to-30" / "stations.tle"
    code, out, _ = run(["decay", "--tle-history", str(path), "-f", "json"], capsys)
    assert code == 0
    answers = json.loads(out)
    assert answers and all(a["status"] in ("ok", "not-enough-history", "data-gap",
                                           "no-significant-decay", "beyond-horizon", "eccentric",
                                           "below-threshold") for a in answers)
    assert all((a["estimate"] is not None) == (a["status"] == "ok") for a in answers)
    rows = [a["estimate"] for a in answers if a["estimate"]]
    assert all(r["label"] == "estimate" and r["uncertainty_days"] > 0 for r in rows)
    assert rows == sorted(rows, key=lambda r: r["estimated_date"])


HINT = "overflight: note: for more history, import more element sets of these objects: " \
    "overflight catalog import FILE"


@pytest.mark.parametrize("args", [["decay", "--group", "stations"],
                                  ["maneuvers", "--group", "resource"],
                                  ["history", "ISS (ZARYA)"]])
def test_short_history_says_how_to_get_more(args: list[str],
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """On the bundled snapshot (one set per object) the answer says how to get history."""
    code, out, err = run(args, capsys)
    assert code == 0 and "not enough history" in out + err
    assert err.count(HINT) == 1 and HINT not in out


def test_no_hint_with_enough_history(february_file: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["maneuvers", "--tle-history", str(february_file)], capsys)
    assert code == 0 and "for more history" not in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["history", "NO SUCH SAT"], "no satellite matching"),
        (["history"], "give a satellite"),
        (["history", "58400", "--since", "2030-01-01T00:00Z"], "no element sets"),
        (["history", "58400", "--since", "2024-07-01T00:00Z", "--until", "2024-06-01T00:00Z"],
         "--until must be after --since"),
        (["history", "58400", "--since", "yesterday"], "not an ISO 8601 time"),
        (["maneuvers"], "nothing selected"),
        (["maneuvers", "--group", "nonexistent"], "unknown group"),
        (["maneuvers", "--tle-history", "/nonexistent/h.tle"], "no such file"),
        (["maneuvers", "--group", "malligyong-1", "--station", "Atlantis"], "unknown site"),
        (["maneuvers", "--group", "malligyong-1", "--threshold", "0"], "--threshold"),
        (["decay", "--group", "malligyong-1", "--below", "50"], "--below"),
    ],
)
def test_bad_input_is_one_line(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(args, capsys)
    assert code == 2
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_malformed_and_multi_object_files(
    tmp_path: Path, shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.tle"
    bad.write_text("this is not\na TLE file\n")
    code, _, err = run(["maneuvers", "--tle-history", str(bad)], capsys)
    assert code == 2 and "bad.tle" in err and err.count("\n") == 1
    path = shared_data / "celestrak-history-2026-05-24-to-30" / "military.tle"
    code, _, err = run(["history", "--tle-history", str(path)], capsys)
    assert code == 2 and "name one" in err and err.count("\n") == 1
    code, _, err = run(["history", "99999", "--tle-history", str(path)], capsys)
    assert code == 2 and "NORAD 99999 is not in the history file" in err


def test_pass_spanning_midnight_shows_the_end_date(
    shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A geostationary satellite is in view for the whole bracket: the end is another day."""
    path = shared_data / "celestrak-history-2026-05-24-to-30" / "resource.tle"
    code, out, err = run(["maneuvers", "--tle-history", str(path), "--sat", "41194",
                          "--station", "Pyongyang General Satellite Control Center"], capsys)
    assert code == 0, err
    lines = [ln for ln in out.splitlines() if "pass over" in ln]
    assert any("2026-05-25T07:40:06Z–2026-05-26T07:37:23Z" in ln for ln in lines), lines
    assert "1 outlier flags" not in err and "1 maneuvers" not in err


def test_history_title_pluralizes(february_file: Path, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["history", "58400", "--tle-history", str(february_file), "--until",
                        "2024-02-14T01:00Z"], capsys)
    assert code == 0 and "1 element set (UTC)" in out


def test_maneuver_rows_say_where(february_file: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["maneuvers", "--tle-history", str(february_file), "-f", "csv"], capsys)
    header, *rows = out.splitlines()
    cols = header.split(",")
    assert code == 0 and {"lat_deg", "lon_deg", "place", "object_type", "event"} <= set(cols)
    first = next(csv.DictReader(io.StringIO(out)))
    assert -90 <= float(first["lat_deg"]) <= 90 and "km from" in first["place"]
    assert first["event"] == "maneuver" and len(rows) == 5
    code, out, _ = run(["maneuvers", "--tle-history", str(february_file)], capsys)
    assert code == 0 and "where (lat°, lon°)" in out
    code, out, _ = run(["maneuvers", "--tle-history", str(february_file), "-f", "json"], capsys)
    doc = json.loads(out)
    assert doc["gap_threshold_days"] == 10.0 and 0 < doc["largest_gap_days"] < 1
    assert "max_gap_days" not in doc and doc["maneuvers"][0]["place"]


def test_debris_is_marked_not_a_maneuver(shared_data: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    path = shared_data / "celestrak-history-2026-05-24-to-30" / "stations.tle"
    code, out, err = run(["maneuvers", "--tle-history", str(path), "-f", "json"], capsys)
    assert code == 0
    deb = [m for m in json.loads(out)["maneuvers"] if " DEB" in m["name"]]
    assert deb and all(m["object_type"] == "debris" and m["event"].startswith(
        "not a maneuver (debris)") for m in deb)
    assert "changes of debris or rocket bodies, not maneuvers" in err
    code, out, _ = run(["maneuvers", "--tle-history", str(path)], capsys)
    assert "not a maneuver (debris)" in out


def test_decay_table_rates_in_m_per_day(shared_data: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    path = shared_data / "celestrak-history-2026-05-24-to-30" / "resource.tle"
    code, out, _ = run(["decay", "--tle-history", str(path)], capsys)
    assert code == 0 and "decay m/day (±1σ)" in out and "No decay date within 5 years" in out
    assert "-0.000" not in out and "5931-" not in out
    jason = next(ln for ln in out.splitlines() if "JASON-3" in ln)
    assert "beyond-horizon" in jason
    code, out, _ = run(["decay", "--tle-history", str(path), "-f", "csv"], capsys)
    assert out.splitlines()[0].split(",")[4] == "decay_rate_m_day"
    years = [int(r.split(",")[6][:4]) for r in out.splitlines()[1:]]
    assert years and max(years) <= 2026 + 5


def test_catalog_history_shows_history_precision(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "c.db"
    path = shared_data / "celestrak-history-2026-05-24-to-30" / "resource.tle"
    code, _, err = run(["catalog", "import", str(path), "--db", str(db)], capsys)
    assert code == 0, err
    code, out, _ = run(["catalog", "show", "32060", "--history", "-f", "json", "--db", str(db)],
                       capsys)
    shown = json.loads(out)[0]
    code, out, _ = run(["history", "32060", "-f", "json", "--db", str(db)], capsys)
    first = json.loads(out)["history"][0]
    assert shown["perigee_alt_km"] == pytest.approx(first["perigee_alt_km"], abs=6e-4)
