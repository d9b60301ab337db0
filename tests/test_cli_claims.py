"""`overflight verify` from the command line: single claims, claims files, reports, exit codes.

Claim times come from Skyfield passes (tests/_claims_reference.py); the catalog is the bundled
snapshot, which holds the same 2026-05-30 CelesTrak resource group as the shared data.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from _claims_reference import passes
from _cli import run

REPO = Path(__file__).resolve().parents[1]
KCNA = REPO / "examples" / "claims" / "kcna-2023-11.yaml"
JSON_KEYS = {"claim_id", "verdict", "reasons", "closest_approach_time", "time_offset_s",
             "ground_distance_km", "off_nadir_deg", "sun_elevation_deg", "elset_epoch",
             "elset_age_days"}


@pytest.fixture(scope="module")
def day_pass(shared_data: Path) -> datetime:
    """A daylight WorldView-3 pass over the White House, culmination time (Skyfield)."""
    found = passes(shared_data / "celestrak-2026-05-30" / "resource.tle", 40115, 38.8977,
                   -77.0365, datetime(2026, 5, 29, 12, tzinfo=UTC),
                   datetime(2026, 6, 1, 12, tzinfo=UTC), 60.0)
    return next(p.culmination for p in found if p.sun_deg > 20)


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_single_claim_json(day_pass: datetime, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["verify", "--sat", "40115", "--site", "White House", "--time",
                        iso(day_pass), "-f", "json"], capsys)
    assert code == 0
    (row,) = json.loads(out)
    assert set(row) >= JSON_KEYS
    assert row["verdict"] == "consistent" and abs(row["time_offset_s"]) < 3
    assert all(isinstance(x, str) for x in row["reasons"])


def test_single_claim_local_time_and_shift(
    day_pass: datetime, capsys: pytest.CaptureFixture[str]
) -> None:
    # The same instant as New York local time (EDT, UTC-4 in May), shifted by 20 minutes.
    local = (day_pass + timedelta(minutes=20) - timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M:%S")
    code, out, _ = run(["verify", "--sat", "WORLDVIEW-3", "--site", "White House", "--time",
                        local, "--zone", "America/New_York"], capsys)
    assert code == 0
    assert "inconsistent" in out and "nearest opportunity" in out


def test_kcna_example(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["verify", str(KCNA), "-f", "json"], capsys)
    assert code == 0
    rows = json.loads(out)
    assert len(rows) == 12 and {r["verdict"] for r in rows} == {"cannot-verify"}
    assert all("2024-06-07T23:19:06Z" in r["reasons"][0] for r in rows)
    assert all(r["elset_after_epoch"].startswith("2024-06-07") for r in rows)
    code, out, _ = run(["verify", str(KCNA)], capsys)
    assert code == 0 and "To settle the claims that cannot be verified" in out
    assert "import element sets for 58400 covering 2023-11-18 … 2023-11-30" in out


def test_claim_far_from_its_element_set(capsys: pytest.CaptureFixture[str]) -> None:
    """The new-user reproduction: max age 300 days lets the bundled 2024 set be used for a 2023
    claim; 193 days of age places the satellite to no better than an hour and a half, so the
    answer is cannot-verify, with what would settle it and a warning on stderr."""
    args = ["verify", "--sat", "58400", "--site", "White House", "--time",
            "2023-11-27T23:36:25+09:00", "--max-age-days", "300"]
    code, out, err = run([*args, "-f", "json"], capsys)
    assert code == 0
    (row,) = json.loads(out)
    assert (row["verdict"], row["confidence"], row["findings"]) == (
        "cannot-verify", None, ["elset-too-old"])
    assert "193.36 days after the claimed time" in row["reasons"][0]
    assert row["data_needed"].startswith("import element sets for 58400 covering 2023-11-20 … "
                                         "2023-12-04 (any within 7 days")
    assert err.splitlines() == [
        "overflight: warning: element sets are up to 193 days from the requested times; "
        "predictions degrade by kilometres per day of age (import fresh data: overflight "
        "catalog import)"]
    code, out, err = run(args, capsys)
    assert code == 0 and "claim: cannot-verify" in out and "warning: element sets" in err


def test_fresh_claim_has_no_stale_warning(
    day_pass: datetime, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["verify", "--sat", "40115", "--site", "White House", "--time",
                          iso(day_pass), "-f", "json"], capsys)
    assert code == 0 and "warning" not in err
    assert json.loads(out)[0]["findings"] == []


def test_batch_with_a_bad_claim(
    tmp_path: Path, day_pass: datetime, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(
        "- id: good\n"
        "  satellite: 40115\n"
        "  target: White House\n"
        f"  time: {iso(day_pass)}\n"
        "- id: bad\n"
        "  satellite: 40115\n"
        "  target: White House\n"
        "  time: 2023-11-05T01:30:00\n"
        "  zone: America/New_York\n"
        "- id: later\n"
        "  satellite: 40115\n"
        "  target: White House\n"
        f"  time: {iso(day_pass + timedelta(minutes=20))}\n"
    )
    code, out, err = run(["verify", str(path), "-f", "json"], capsys)
    assert code == 1
    rows = json.loads(out)
    assert [r["verdict"] for r in rows] == ["consistent", "error", "inconsistent"]
    assert rows[1]["reasons"] == [
        "mine.yaml:8: claim 'bad': time: local time 2023-11-05T01:30:00 is ambiguous in "
        "America/New_York (clock change); give a UTC offset"
    ]
    assert "Traceback" not in err


def test_csv_in_and_out(tmp_path: Path, day_pass: datetime,
                        capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "c.csv"
    path.write_text(f"id,satellite,target,time\nwh,40115,White House,{iso(day_pass)}\n"
                    "x,40115,Atlantis,2026-05-30T00:00Z\n")
    code, out, _ = run(["verify", str(path), "-f", "csv"], capsys)
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith("claim_id,verdict,confidence")
    assert lines[1].startswith("wh,consistent,normal,40115")
    assert lines[2].startswith("x,error,") and "c.csv:3" in lines[2]


def test_markdown_report_with_maps(
    tmp_path: Path, day_pass: datetime, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "report"
    code, out, err = run(["verify", "--sat", "40115", "--site", "Pentagon", "--time",
                          iso(day_pass), "--id", "pentagon/1", "-f", "md", "--report",
                          str(out_dir)], capsys)
    assert code == 0
    assert out.startswith("# Claim verification") and "## pentagon/1: consistent" in out
    md = (out_dir / "report.md").read_text()
    assert "![ground track around the claimed time](pentagon_1.png)" in md
    png = out_dir / "pentagon_1.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    assert "<img src='pentagon_1.png'" in (out_dir / "report.html").read_text()
    assert "wrote" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give a claims file, or a single claim"),
        (["--sat", "40115", "--site", "Rome"], "missing --time"),
        (["KCNA", "--sat", "40115"], "not both"),
        (["KCNA", "--zone", "UTC"], "--zone applies to a single claim"),
        (["--sat", "40115", "--site", "Rome", "--time", "2023-11-05T01:30:00", "--zone",
          "America/New_York"], "ambiguous"),
        (["--sat", "40115", "--site", "Atlantis", "--time", "2026-05-30T00:00Z"],
         "unknown site"),
        (["--sat", "40115", "--site", "Rome", "--time", "2026-05-30T00:00Z", "--max-age-days",
          "0"], "--max-age-days: must be"),
        (["nope.yaml"], "no such claims file"),
    ],
)
def test_bad_input(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    args = [str(KCNA) if a == "KCNA" else a for a in args]
    code, _, err = run(["verify", *args], capsys)
    assert code == 2
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_unusable_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("claims:\n  - id: a\n    time: [\n")
    code, _, err = run(["verify", str(path)], capsys)
    assert code == 2 and err.startswith("overflight: error: broken.yaml:")
    assert "not valid YAML" in err and err.count("\n") == 1


def test_report_describes_the_data_not_a_local_path(
        shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "private" / "catalog.db"
    db.parent.mkdir()
    tle = shared_data / "celestrak-2026-05-30" / "stations.tle"
    assert run(["catalog", "import", str(tle), "--db", str(db)], capsys)[0] == 0
    out_dir = tmp_path / "report"
    code, out, _ = run(["verify", "--sat", "40115", "--site", "Sohae", "--time",
                        "2026-05-31T01:15Z", "--db", str(db), "-f", "md", "--report",
                        str(out_dir)], capsys)
    assert code == 0
    for text in (out, (out_dir / "report.md").read_text(), (out_dir / "report.html").read_text()):
        assert str(tmp_path) not in text and "catalog.db" not in text
        assert "against an overflight catalog (" in text and " element sets of " in text
        # The target's coordinates: their precision and source (sites.yaml: Sohae ±3 km).
        assert "±3 km; Wikipedia, Sohae Satellite Launching Station" in text
        # The summary's geometry says which instant it is at.
        assert "are at the closest approach nearest the claimed time" in text
        assert "sun_elevation_deg (at closest approach)" in text
    code, out, _ = run(["verify", "--sat", "NOSUCHSAT", "--site", "Sohae", "--time",
                        "2026-05-31T01:15Z", "--db", str(db), "-f", "json"], capsys)
    assert str(tmp_path) not in out and "is not in the catalog:" in out


def test_report_on_coordinates_says_they_are_as_given(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["verify", "--sat", "40115", "--site", "39.7,124.7", "--time",
                        "2026-05-31T01:15Z", "-f", "md"], capsys)
    assert code == 0 and "against the snapshot bundled with overflight (" in out
    assert "| target coordinates | coordinates as given" in out
